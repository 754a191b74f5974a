"""REST API models and route specs (base path /api/v1)."""

from __future__ import annotations

from enum import StrEnum

from .config import (
    ACTIVITY_TYPES,
    CONFIG_MODELS,
    DETECTION_CLASSES,
    LIVE_END_REASONS,
    LIVE_EVENT_PHASES,
    LIVE_EVENT_STATES,
    RISK_LEVELS,
)
from .fields import (
    Decl,
    bool_field,
    derive,
    datetime_field,
    float_field,
    int_field,
    list_field,
    map_field,
    model,
    model_field,
    object_field,
    str_field,
)

API_BASE = "/api/v1"


class ClipStatus(StrEnum):
    """Where a clip is in the pipeline (the engine's records use this enum)."""

    QUEUED_LOCAL = "queued_local"
    UPLOADED = "uploaded"
    ANALYZED = "analyzed"
    DONE = "done"
    ERROR = "error"
    DELETED = "deleted"


CLIP_STATUSES = [status.value for status in ClipStatus]
HEALTH_STATES = ["healthy", "degraded", "unhealthy"]
CLUSTER_STATES = ["holding", "refused", "partitioned"]
ERROR_CODES = [
    "UNAUTHORIZED", "VALIDATION_ERROR", "NOT_FOUND", "CONFIG_VERSION_CONFLICT",
    "CAMERA_EXISTS", "DB_UNAVAILABLE", "METHOD_NOT_ALLOWED", "RANGE_NOT_SATISFIABLE",
    "REQUEST_TIMEOUT", "CAMERA_UNAVAILABLE", "STORE_UNAVAILABLE", "INTERNAL_ERROR",
]


# A camera's live state beyond `healthy`, in CameraView and CameraStatus alike.
_CAMERA_LIVE: dict[str, Decl] = {
    "error": str_field("Why the camera is down (no secrets); null while it works",
                       nullable=True),
    "degraded": str_field("Why a working camera works less well (falling behind live, "
                          "motion analysis dropping frames); null when it does not",
                          nullable=True),
    "lag_s": float_field("How far behind live it is processed (streaming cameras)",
                         nullable=True, min=0),
    "analysis_dropped_pct": float_field(
        "Share of recent motion-analysis frames dropped to keep up, in %", nullable=True,
        min=0, max=100),
    "detection_rate": float_field(
        "Frames a second live detection looked at over the last 10 s (0 while nothing moves); "
        "null without live detection", nullable=True, min=0),
    "detection_delay_s": float_field(
        "How long this camera's frames waited for the shared detector over the last 10 s "
        "(median); grows when the detector cannot keep up", nullable=True, min=0),
}


def _list_of(model_name: str, description: str) -> Decl:
    return list_field(description, {"type": "model", "model": model_name, "required": False,
                                    "description": description}, required=True)


def objects_field(required: bool) -> Decl:
    """Per-object results of a clip: one entry per class found."""
    return list_field("What the detector found, per class",
                      {"type": "model", "model": "ClipObject", "required": False,
                       "description": "Objects of one class"},
                      required=required, default=None if required else [])


def alert_zones_field(required: bool) -> Decl:
    return list_field("Zones the alerting detections were in (empty: the camera has none)",
                      str_field("Zone name"), required=required,
                      default=None if required else [])


CAMERA = CONFIG_MODELS["Camera"]

# GET /clips's query, and (derived from it) the homesec.get_clips service.
CLIP_QUERY = model("Query parameters of GET /clips.", {
    "camera": str_field("Camera name"),
    "status": str_field("Pipeline state", choices=CLIP_STATUSES),
    "alerted": bool_field("Only alerted (true) or not alerted (false)"),
    "risk_level": str_field("Risk level", choices=RISK_LEVELS),
    "activity_type": str_field("Activity type", choices=ACTIVITY_TYPES),
    "since": datetime_field("Created at or after"),
    "until": datetime_field("Created before"),
    "page": int_field("Page, 1-based", default=1, min=1, max=1_000_000),
    "page_size": int_field("Clips per page", default=50, min=1, max=100),
})


def _version_field() -> Decl:
    return int_field("The config_version this change was made against; stale -> 409",
                     min=1, nullable=True)


# What a camera can show live (from its source backend); the integration's camera entity
# offers a picture and a stream only where these say so.
_LIVE_FIELDS: dict[str, Decl] = {
    "live_picture": bool_field("Has a live picture (GET /cameras/{name}/snapshot)"),
    "live_stream": bool_field("Has a live restream (GET /cameras/{name}/stream)"),
    "live_webrtc": bool_field("Has WebRTC live view (POST /cameras/{name}/webrtc): a live "
                              "restream, and the engine has its webrtc extra (aiortc)"),
    "synthetic": bool_field("Shows a drawn scene, not video from a camera (the demo source)"),
}

API_MODELS: dict[str, Decl] = {
    "ErrorItem": model("One validation problem.", {
        "path": str_field("Dotted path of the field", required=True),
        "message": str_field("What is wrong", required=True),
    }, extra="allow"),
    "Error": model("Every error body.", {
        "detail": str_field("Human-readable message", required=True),
        "error_code": str_field("Machine-readable code", required=True, choices=ERROR_CODES),
        "errors": _list_of("ErrorItem", "Validation problems") | {"required": False},
        "current_version": int_field("The current config_version (on 409)"),
    }, extra="allow"),
    "Health": model("Liveness and component state.", {
        "status": str_field("Overall state", required=True, choices=HEALTH_STATES),
        "pipeline": str_field("Pipeline state", required=True, choices=["running", "stopped"]),
        "database": str_field("Database state", required=True, choices=["up", "down"]),
        "storage": str_field("Clip storage state (error: clips wait and are retried)",
                             choices=["ok", "error"]),
        "storage_error": str_field("Why clips cannot be stored now", nullable=True),
        "offsite": str_field("Offsite copies: error makes the engine degraded",
                             choices=["ok", "error", "disabled"]),
        "offsite_error": str_field("Why offsite copies fail", nullable=True),
        "cameras_online": int_field("Cameras streaming now", required=True, min=0),
        "cameras_down": map_field(
            "Enabled cameras that failed to start or are offline now, each with why (no "
            "secrets); any of them makes the status degraded", str_field("Why")),
        "version": str_field("Engine version", required=True),
        "cluster": model_field("This engine in its cluster (null: cluster mode is off)",
                               "ClusterHealth", nullable=True),
    }, extra="allow"),
    "ClusterHealth": model("One engine's part in a cluster of engines.", {
        "engine_id": str_field("This engine's name in the cluster", required=True),
        "state": str_field("holding: renews its leases; refused: holds no camera (reason "
                           "says why); partitioned: cannot reach the database, its cameras "
                           "stopped when their leases ran out", required=True,
                           choices=CLUSTER_STATES),
        "reason": str_field("Why the engine holds no camera or is cut off", nullable=True),
        "cameras_held": list_field("Cameras this engine records now", str_field("Camera"),
                                   required=True),
        "engines_live": int_field("Engines seen renewing within one lease period", min=0),
        "fencing": map_field("Fencing token of each held lease (a newer holder's is higher)",
                             int_field("Token", min=0), default={}),
        "engines": _list_of("ClusterEngine", "Engines seen renewing within one lease period "
                            "(Home Assistant fails over to another one's URL)"),
        "engines_down": list_field("Engines that stopped renewing without leaving (killed, "
                                   "cut off): they may come back. An engine that left the "
                                   "installation (stopped cleanly) is in neither list",
                                   str_field("Engine id"), default=[]),
    }),
    "ClusterEngine": model("One engine of the cluster as the database last saw it.", {
        "engine_id": str_field("The engine's name in the cluster", required=True),
        "url": str_field("Where its API answers (its cluster.advertise_url)", required=True),
        "cameras_held": int_field("Cameras it records", required=True, min=0),
    }),
    "Component": model("One component's diagnostic state.", {
        "status": str_field("ok, degraded or error", required=True,
                            choices=["ok", "degraded", "error", "disabled"]),
        "error": str_field("Last error", nullable=True),
        "latency_ms": float_field("Last probe latency", nullable=True),
        # What some components add (each only where it applies):
        "backend": str_field("The backend this component runs"),
        "state": str_field("What the component is doing now"),
        "pending_writes": int_field("Database writes kept while it was unreachable", min=0),
        "clips_in_flight": int_field("Clips being processed now", min=0),
        "clips_seen": int_field("Clips handed to the pipeline since start", min=0),
        "last_heartbeat": datetime_field("Last frame or file seen", nullable=True),
        "websocket_clients": int_field("Connected event-stream clients", min=0),
        "published": int_field("Live messages published since start", min=0),
        "dropped": int_field("Live messages dropped for slow clients", min=0),
        "uploads_waiting": int_field("Recordings waiting to be stored again", min=0),
        "model": str_field("The detector's model file"),
        "fallback": str_field("How clips are judged while the detector is unavailable"),
        "loaded": bool_field("The detector's model is loaded (false until a camera uses it)"),
        "family": str_field("The detector's model family"),
        "input_size": list_field("The model's input width and height", int_field("Pixels")),
        "lag_s": float_field("How far behind live the camera is processed", nullable=True),
        "analysis_dropped": float_field("Share of analysis frames dropped to keep up (0..1)",
                                        nullable=True),
        "detection_rate": float_field("Live frames the detector looked at a second (10 s)",
                                      nullable=True),
        "detection_delay_s": float_field("Median wait of the camera's live frames for the "
                                         "shared detector (10 s)", nullable=True),
        "tracks": {"type": "object", "required": False,
                   "description": "The camera's tracked objects now: tracks, active, "
                   "stationary, max_tracks, and dropped_detections (a crowd beyond "
                   "tracking.max_tracks is counted there, not followed)"},
        # offsite and retention:
        "backlog": int_field("Offsite uploads waiting on disk", min=0),
        "max_backlog": int_field("offsite.max_backlog", min=1),
        "warning": str_field("A limit reached (the offsite backlog is full)", nullable=True),
        "uploaded": int_field("Offsite copies made since start", min=0),
        "skipped": int_field("Clips kept locally only since start (backlog full)", min=0),
        "failing_since": datetime_field("Since when offsite uploads fail", nullable=True),
        "last_upload": datetime_field("The last offsite copy made", nullable=True),
        "disk_critical": bool_field("Free space below retention.critical_free_percent"),
    }, extra="allow"),
    "Diagnostics": model("Per-component diagnostics; never a secret.", {
        "version": str_field("Engine version", required=True),
        "components": map_field("Components by name",
                                {"type": "model", "model": "Component", "required": False,
                                 "description": "Component"}, required=True),
    }, extra="allow"),
    # The camera's forms, all derived from the one declaration in config.py (`Camera`): a
    # field added there reaches the API bodies, the views and the HA services.
    "CameraView": derive(CAMERA, "A camera as the API shows it; secrets as env-var names.",
                         required=["enabled", "zones", "motion_masks"], rules=False,
                         extra="allow", add={
        "healthy": bool_field("Streaming now", required=True),
        "last_heartbeat": datetime_field("Last frame or file seen", required=True,
                                         nullable=True),
        "retention": model_field("This camera's own keep times (retention.cameras; unset "
                                 "fields: the global ones)", "RetentionRules", nullable=True),
        **_CAMERA_LIVE,
        **_LIVE_FIELDS,
    }),
    "CameraList": model("Cameras.", {"cameras": _list_of("CameraView", "Cameras")}, extra="allow"),
    "CameraCreate": derive(CAMERA, "Body of POST /cameras.",
                           add={"config_version": _version_field()}),
    "CameraUpdate": derive(CAMERA, "Body of PUT /cameras/{name}: what is sent replaces the old "
                           "value, what is not stays.", drop=["name", "source_backend"],
                           optional=True, add={
        "config_version": _version_field(),
        # Kept in retention.cameras (its one place); the next retention pass uses it, at once.
        "retention": model_field("This camera's own keep times: the fields sent replace the "
                                 "old ones (null: the global one again); null as a whole: "
                                 "the global keep times again", "RetentionRules",
                                 nullable=True),
    }),
    "VersionOnly": model("Optional body of DELETE requests.", {
        "config_version": _version_field(),
    }),
    "RetentionUpdate": derive(CONFIG_MODELS["RetentionConfig"], "Retention fields to change "
                              "(what is not sent stays); the next pass uses them, at once. "
                              "Per-camera rules are changed in the config file.",
                              drop=["cameras"], optional=True),
    "FilterUpdate": derive(CONFIG_MODELS["FilterConfig"], "Object-filter fields to change "
                           "(what is not sent stays). Its thresholds (min_confidence, "
                           "class_min_confidence, min_box_size, nms_iou, min_hits, sample_fps, "
                           "on_model_error) judge the next frame and clip; the others wait "
                           "for a restart and are named in restart_fields.", optional=True),
    "TrackingUpdate": derive(CONFIG_MODELS["TrackingConfig"], "Tracking fields to change "
                             "(what is not sent stays); the next frame is judged with them, "
                             "live trackers included.", optional=True),
    "SettingsUpdate": model("Body of PATCH /settings: retention, object-filter and tracking "
                            "fields.", {
        "config_version": _version_field(),
        "retention": model_field("Retention fields to change", "RetentionUpdate"),
        "filter": model_field("Object-filter fields to change", "FilterUpdate"),
        "tracking": model_field("Tracking fields to change", "TrackingUpdate"),
    }),
    "ChangeResult": model("Result of a config change.", {
        "restart_required": bool_field("The engine must restart to apply it", required=True),
        "restart_fields": list_field("The config sections (or section.field) that wait for "
                                     "the restart (the rest applied at once)",
                                     str_field("Config section")),
        "config_version": int_field("The new config_version", required=True, min=1),
        "camera": model_field("The camera after the change", "CameraView", nullable=True),
    }, extra="allow"),
    "ClipObject": model("The detections of one class in a clip.", {
        "class": str_field("Detected class", required=True, choices=DETECTION_CLASSES),
        "count": int_field("How many of them moved (arrived, or moved while in view)",
                           required=True, min=0),
        # Not required: an engine from before tracked objects sends none.
        "stationary": int_field("How many of them stood still all along (a parked car): "
                                "reported, never alerted on", min=0),
        "confidence": float_field("Best confidence", required=True, min=0.0, max=1.0),
        "boxes": list_field("Boxes [x, y, w, h] as fractions of the frame: the best look "
                            "of each (of those that moved, if any)",
                            list_field("Box", float_field("Fraction", min=0.0, max=1.0),
                                       max_len=4), required=True),
    }, extra="allow"),
    # One shape both ways: what GET returns can be edited and PUT back as it is.
    "AlertPolicyView": model(
        "The alert policy and its config version: GET /alert-policy returns it, "
        "PUT /alert-policy takes it (the policy replaces the old one whole).", {
            "config_version": int_field(
                "The current config_version (GET); the one this change was made against "
                "(PUT, optional, or If-Match): stale -> 409", min=1, nullable=True),
            "alert_policy": model_field("The policy", "AlertPolicy", required=True),
        }),
    "Clip": model("A recorded clip and what the pipeline made of it.", {
        "id": str_field("Clip id", required=True),
        "camera": str_field("Camera name", required=True),
        "status": str_field("Pipeline state", required=True, choices=CLIP_STATUSES),
        "created_at": datetime_field("When recording started", required=True),
        "activity_type": str_field("What happened", nullable=True),
        "risk_level": str_field("Risk level", nullable=True, choices=RISK_LEVELS),
        "summary": str_field("VLM summary", nullable=True),
        "detected_objects": list_field("Detected classes", str_field("Class"), required=True),
        "storage_uri": str_field("Where the clip is stored", nullable=True),
        "view_url": str_field("API path of the video", nullable=True),
        "alerted": bool_field("Whether it raised an alert", required=True),
        "objects": objects_field(required=True),
        "zones": alert_zones_field(required=True),
        "duration_s": float_field("Length of the recording in seconds", nullable=True, min=0),
        "event": model_field("The recording's live event (none when no trigger class was "
                             "confirmed while it was recorded)", "LiveEvent", nullable=True),
        # Not required: an engine from before tiers sends none.
        "tier": str_field("alert: it was notified; detection: a trigger class moved in it, "
                          "recorded and reviewable, not notified; null: neither",
                          nullable=True, choices=["alert", "detection"]),
        "files": model_field("Where the clip's files are on the engine's host (GET "
                             "/clips/{clip_id} only)", "ClipFiles", nullable=True),
    }, extra="allow"),
    # A reader sharing the engine's folder (Home Assistant with the add-on's /media) opens the
    # files directly instead of downloading them.
    "ClipFiles": model("Absolute paths of a clip's files on the engine's host; null when the "
                       "file is not there or the storage is not a local folder.", {
        "clip": str_field("The video", required=True, nullable=True),
        "snapshot": str_field("The snapshot JPEG", required=True, nullable=True),
    }),
    "LiveEvent": model("An event with a start and an end: one per recording, keyed by its "
                       "clip id (WebSocket `event` data adds `phase`).", {
        "clip_id": str_field("Clip id of the recording", required=True),
        "camera": str_field("Camera name", required=True),
        "state": str_field("Where the event is", required=True, choices=LIVE_EVENT_STATES),
        "started_at": datetime_field("When a trigger class was confirmed", required=True),
        "ended_at": datetime_field("When it ended", required=True, nullable=True),
        "duration_s": float_field("Length of the clip (once judged)", required=True,
                                  nullable=True, min=0),
        "detected_objects": list_field("Trigger classes confirmed so far (the same field as "
                                       "the alert's)",
                                       str_field("Class", choices=DETECTION_CLASSES),
                                       required=True),
        # Not required: an engine from before tracked objects sends none.
        "active_classes": list_field(
            "Trigger classes of the objects moving in view now (a car that parked drops out)",
            str_field("Class", choices=DETECTION_CLASSES)),
        "zones": alert_zones_field(required=True),
        "objects": objects_field(required=True),
        "activity_type": str_field("What happened", required=True, nullable=True),
        "risk_level": str_field("The policy's risk (the clip's judgement may raise it)",
                                required=True, nullable=True, choices=RISK_LEVELS),
        "summary": str_field("VLM summary (on `ended`)", required=True, nullable=True),
        "alerted": bool_field("An alert was sent for it (once)", required=True),
        # Not required: an engine from before tiers sends none (everything was an alert).
        "tier": str_field("alert: notified; detection: recorded and reviewable, not notified "
                          "(alert_policy.alert_classes)", choices=["alert", "detection"]),
        "snapshot_url": str_field("Engine link to the snapshot of the frame that started it",
                                  required=True),
        "view_url": str_field("Engine link to the clip's video", required=True),
        "end_reason": str_field("Why it ended", required=True, nullable=True,
                                choices=LIVE_END_REASONS),
        "phase": str_field("The message's phase (WebSocket and homesec_event only)",
                           choices=LIVE_EVENT_PHASES),
        "last_alert": model_field("The camera's last-alert summary an event that alerted "
                                  "leaves (ended and interrupted messages only)",
                                  "AlertSummary"),
    }),
    "LiveEventQuery": model("Query parameters of GET /live-events.", {
        "camera": str_field("Camera name"),
        "limit": int_field("Most events returned", default=50, min=1, max=200),
    }),
    "LiveEventList": model("Live events, newest first.", {
        "events": _list_of("LiveEvent", "Events"),
    }),
    "ClipQuery": CLIP_QUERY,
    "ClipList": model("One page of clips, newest first.", {
        "clips": _list_of("Clip", "Clips"),
        "total": int_field("Clips matching the filters", required=True, min=0),
        "page": int_field("Page", required=True, min=1),
        "page_size": int_field("Page size", required=True, min=1),
    }, extra="allow"),
    "Stats": model("Counters.", {
        "clips_today": int_field("Clips since local midnight", required=True, min=0),
        "alerts_today": int_field("Alerts since local midnight", required=True, min=0),
        "cameras_total": int_field("Configured cameras", required=True, min=0),
        "cameras_online": int_field("Cameras streaming now", required=True, min=0),
        "uptime_seconds": float_field("Seconds since the engine started", required=True,
                                      min=0),
    }, extra="allow"),
    "AlertSummary": model("A camera's last alert.", {
        "clip_id": str_field("Clip id", required=True),
        "activity_type": str_field("What happened", nullable=True),
        "risk_level": str_field("Risk level", nullable=True),
        "summary": str_field("VLM summary", nullable=True),
        "detected_objects": list_field("Detected classes", str_field("Class"), required=True),
        "timestamp": datetime_field("When", required=True),
        "objects": objects_field(required=False),
        "zones": alert_zones_field(required=False),
    }, extra="allow"),
    # Zones too: the automation editor offers a camera's zones as device-trigger filters.
    "CameraStatus": derive(CAMERA, "A camera in /status.",
                           only=["name", "enabled", "source_backend", "zones", "motion_masks"],
                           required=["enabled"],  # zones: an older engine sends none
                           rules=False, extra="allow", add={
        "healthy": bool_field("Streaming now", required=True),
        "last_heartbeat": datetime_field("Last frame or file seen", required=True,
                                         nullable=True),
        "last_alert": model_field("Last alert", "AlertSummary", required=True, nullable=True),
        **_CAMERA_LIVE,
        **_LIVE_FIELDS,
    }),
    "SnapshotQuery": model("Query parameters of GET /cameras/{name}/snapshot.", {
        "width": int_field("Width of the JPEG in pixels (alone: the height keeps the aspect)",
                           min=16, max=3840),
        "height": int_field("Height of the JPEG in pixels (alone: the width keeps the aspect)",
                            min=16, max=2160),
    }),
    "WebRtcOffer": model("A WebRTC viewer's SDP offer (WHEP-style: the whole offer at once).", {
        "type": str_field("Always offer", required=True, choices=["offer"]),
        "sdp": str_field("The browser's SDP offer, with a video section and H.264 among its "
                         "codecs", required=True, min_len=1, max_len=65536),
    }),
    "WebRtcAnswer": model("The engine's SDP answer, its ICE candidates included (no trickle).", {
        "type": str_field("Always answer", required=True, choices=["answer"]),
        "sdp": str_field("The SDP answer", required=True),
    }),
    "StorageStatus": model("Disk, clip and offsite figures in /status (measured by the "
                           "retention pass; null until the first pass).", {
        "disk_used_bytes": int_field("Bytes the stored clips take", nullable=True, min=0),
        "disk_free_bytes": int_field("Free bytes on the clips' disk", nullable=True, min=0),
        "disk_total_bytes": int_field("Size of the clips' disk", nullable=True, min=0),
        "disk_critical": bool_field("Free space below retention.critical_free_percent",
                                    required=True),
        "clips_stored": int_field("Clips kept (not deleted)", nullable=True, min=0),
        "oldest_clip": datetime_field("When the oldest kept clip was recorded",
                                      nullable=True),
        "offsite_enabled": bool_field("Whether clips are copied offsite", required=True),
        "offsite_backlog": int_field("Offsite uploads waiting", nullable=True, min=0),
        "offsite_error": str_field("Why offsite uploads fail now", nullable=True),
        "offsite_failing_since": datetime_field("Since when offsite uploads fail",
                                                nullable=True),
    }, extra="allow"),
    "Status": model("Everything the integration's poll needs, in one response.", {
        "health": model_field("Health", "Health", required=True),
        "cameras": _list_of("CameraStatus", "Cameras"),
        "stats": model_field("Counters", "Stats", required=True),
        "config_version": int_field("Current config_version", required=True, min=1),
        "restart_required": bool_field("A change waits for a restart", required=True),
        "storage": model_field("Disk, clips and offsite copies", "StorageStatus",
                               nullable=True),
    }, extra="allow"),
    "ConfigView": model("The merged config; secrets appear as env-var names.", {
        "config_version": int_field("Current config_version", required=True, min=1),
        "config": object_field("The config", required=True),
    }, extra="allow"),
    "RestartAccepted": model("Restart accepted.", {
        "status": str_field("Always restarting", required=True, choices=["restarting"]),
    }, extra="allow"),
}

# Route specs: the API registers handlers by operation_id; OpenAPI is rendered from here.
# `state: False` marks a route that works without the database (served during an outage:
# the config lives in ConfigManager); every other authorised route may answer 503.
ROUTES: list[Decl] = [
    {"method": "GET", "path": "/health", "operation_id": "get_health", "public": True,
     "summary": "Liveness", "responses": {"200": "Health", "503": "Health"}},
    {"method": "GET", "path": "/diagnostics", "operation_id": "get_diagnostics",
     "public": True, "summary": "Per-component diagnostics", "responses": {"200": "Diagnostics"}},
    {"method": "GET", "path": "/status", "operation_id": "get_status",
     "summary": "Everything the integration polls", "responses": {"200": "Status"}},
    {"method": "GET", "path": "/config", "operation_id": "get_config", "state": False,
     "summary": "The merged config", "responses": {"200": "ConfigView"}},
    {"method": "GET", "path": "/cameras", "operation_id": "list_cameras", "state": False,
     "summary": "List cameras", "responses": {"200": "CameraList"}},
    {"method": "POST", "path": "/cameras", "operation_id": "create_camera", "state": False,
     "summary": "Add a camera", "body": "CameraCreate",
     "responses": {"201": "ChangeResult"}, "errors": ["400", "409"]},
    {"method": "GET", "path": "/cameras/{name}", "operation_id": "get_camera", "state": False,
     "summary": "Read a camera", "responses": {"200": "CameraView"}, "errors": ["404"]},
    {"method": "PUT", "path": "/cameras/{name}", "operation_id": "update_camera", "state": False,
     "summary": "Update a camera", "body": "CameraUpdate",
     "responses": {"200": "ChangeResult"}, "errors": ["400", "404", "409"]},
    {"method": "DELETE", "path": "/cameras/{name}", "operation_id": "delete_camera", "state": False,
     "summary": "Remove a camera", "body": "VersionOnly", "body_optional": True,
     "responses": {"200": "ChangeResult"}, "errors": ["404", "409"]},
    {"method": "GET", "path": "/cameras/{name}/snapshot", "operation_id": "get_camera_snapshot", "state": False,
     "query": "SnapshotQuery", "media": "image/jpeg",
     "summary": "The camera's live picture: its newest decoded frame as a JPEG of the size "
                "asked (503 with the reason while it is offline or disabled)",
     "responses": {"200": None}, "errors": ["400", "404", "503"]},
    {"method": "GET", "path": "/cameras/{name}/stream", "operation_id": "get_camera_stream", "state": False,
     "media": "video/mp2t",
     "summary": "The camera's live restream: its own packets remuxed into MPEG-TS (no "
                "transcoding); ends when the camera drops. Home Assistant hands it to its "
                "stream worker behind a signed, expiring URL",
     "responses": {"200": None}, "errors": ["404", "503"]},
    {"method": "POST", "path": "/cameras/{name}/webrtc", "operation_id": "offer_camera_webrtc",
     "state": False, "body": "WebRtcOffer",
     "summary": "WebRTC live view, sub-second: an SDP offer in, the SDP answer out (ICE "
                "candidates included). The camera's own H.264 packets are sent as they are, "
                "from the connection the engine already holds; a viewer takes one of the "
                "camera's restream viewer slots (503 when none is free, the camera is not "
                "streaming, or the engine lacks its webrtc extra)",
     "responses": {"200": "WebRtcAnswer"}, "errors": ["400", "404", "503"]},
    {"method": "GET", "path": "/alert-policy", "operation_id": "get_alert_policy", "state": False,
     "summary": "Read the alert policy", "responses": {"200": "AlertPolicyView"}},
    {"method": "PUT", "path": "/alert-policy", "operation_id": "set_alert_policy", "state": False,
     "summary": "Replace the alert policy", "body": "AlertPolicyView",
     "responses": {"200": "ChangeResult"}, "errors": ["400", "409"]},
    {"method": "PATCH", "path": "/settings", "operation_id": "update_settings", "state": False,
     "summary": "Change retention, object-filter and tracking fields (applied at once "
                "where the engine can; restart_fields names the rest)", "body": "SettingsUpdate",
     "responses": {"200": "ChangeResult"}, "errors": ["400", "409"]},
    {"method": "GET", "path": "/clips", "operation_id": "list_clips", "query": "ClipQuery",
     "summary": "List clips", "responses": {"200": "ClipList"}, "errors": ["400"]},
    {"method": "GET", "path": "/clips/{clip_id}", "operation_id": "get_clip",
     "summary": "Read a clip", "responses": {"200": "Clip"}, "errors": ["404"]},
    {"method": "DELETE", "path": "/clips/{clip_id}", "operation_id": "delete_clip",
     "summary": "Delete a clip and its file", "responses": {"200": "Clip"}, "errors": ["404"]},
    {"method": "GET", "path": "/clips/{clip_id}/media", "operation_id": "get_clip_media",
     "summary": "The clip's video (HTTP Range supported)", "media": "video/mp4",
     "responses": {"200": None, "206": None}, "errors": ["404", "416"]},
    {"method": "GET", "path": "/clips/{clip_id}/snapshot", "operation_id": "get_clip_snapshot",
     "summary": "The clip's snapshot (JPEG of the best detection frame)", "media": "image/jpeg",
     "responses": {"200": None}, "errors": ["404"]},
    {"method": "GET", "path": "/live-events", "operation_id": "list_live_events",
     "query": "LiveEventQuery", "summary": "Live events (one per recording), newest first",
     "responses": {"200": "LiveEventList"}, "errors": ["400"]},
    {"method": "GET", "path": "/stats", "operation_id": "get_stats",
     "summary": "Counters", "responses": {"200": "Stats"}},
    {"method": "POST", "path": "/system/restart", "operation_id": "restart", "state": False,
     "summary": "Graceful restart", "responses": {"202": "RestartAccepted"}},
    {"method": "GET", "path": "/events", "operation_id": "events", "state": False, "websocket": True,
     "summary": "WebSocket of alert, event and camera_health messages",
     "responses": {"101": None}},
    {"method": "GET", "path": "/openapi.json", "operation_id": "get_openapi", "public": True,
     "summary": "This document", "responses": {"200": None}},
]


def route_path(operation_id: str, **params: str) -> str:
    """The absolute API path of a route in the table, its {placeholders} filled in."""
    route = next(r for r in ROUTES if r["operation_id"] == operation_id)
    return API_BASE + str(route["path"]).format(**params)
