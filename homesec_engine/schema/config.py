"""Config models: the YAML files, the add-on options that seed them, and camera bodies."""

from __future__ import annotations

from .backends import BUILTIN_BACKENDS, SOURCE_SETTINGS_MODELS
from .fields import (
    Decl,
    backend_field,
    bool_field,
    env_var_field,
    float_field,
    int_field,
    list_field,
    map_field,
    model,
    model_field,
    object_field,
    polygon_field,
    slug_field,
    str_field,
    url_field,
)

DETECTION_CLASSES = ["person", "vehicle", "animal", "package", "object", "unknown"]
RISK_LEVELS = ["low", "medium", "high", "critical"]
# What the analyzer may answer as activity_type; without an analyzer the activity is the most
# significant detected class. Event entities declare these as their event types.
ACTIVITY_TYPES = [
    "person", "vehicle", "animal", "package", "delivery", "loitering", "intrusion", "other",
]
SOURCE_BACKENDS = BUILTIN_BACKENDS["source"]
MAX_ZONES = 32  # per camera, for zones and for motion masks alike


def zones_field() -> Decl:
    return list_field("Named areas of the picture; with zones, only detections inside one "
                      "whose classes include theirs alert",
                      {"type": "model", "model": "Zone", "required": False,
                       "description": "Zone"},
                      default=[], unique_by="name", max_len=MAX_ZONES)


def motion_masks_field() -> Decl:
    return list_field("Areas motion detection ignores (a tree in the wind, a timestamp)",
                      {"type": "model", "model": "MotionMask", "required": False,
                       "description": "Motion mask"},
                      default=[], unique_by="name", max_len=MAX_ZONES)


def _area_name() -> Decl:
    return str_field("Name, unique per camera", required=True, min_len=1, max_len=64,
                     pattern=r"^[^\x00-\x1f]+$",
                     pattern_message="must not contain control characters")


DETECTOR_FAMILIES = ["nanodet", "nanodet_plus", "yolov5", "yolov8", "yolox", "ssd", "centernet",
                     "movenet"]
# Live events (one per recording): their states, message phases and why they end.
LIVE_EVENT_STATES = ["active", "ended", "interrupted"]
LIVE_EVENT_PHASES = ["started", "updated", "ended", "interrupted"]
LIVE_END_REASONS = ["clip_closed", "stream_lost", "engine_restart", "holder_lost"]
# What HA's event entity fires for live events (an interrupted event fires `ended` too).
LIVE_EVENT_FIRED = ["started", "ended"]
LOG_LEVELS = ["debug", "info", "warning", "error"]
OFFSITE_BACKENDS = ["s3", "webdav"]
_KEEP_MIN_MESSAGE = "must be more than 0 (0 would delete every clip at once)"

# The config is shown by GET /config: a password in the database URL (in the user info or
# as a `password=` query parameter) is refused; it belongs in the env var named by url_env.
DB_URL_WITHOUT_PASSWORD = r"^(?![^:/?#]+://[^/?#]*:[^/?#]*@)(?![^#]*[?&]password=).*$"

CONFIG_MODELS: dict[str, Decl] = {
    "RtspSourceConfig": model(
        "An RTSP camera decoded with PyAV; motion triggers a recording.",
        {
            "url": url_field("Stream URL without credentials", schemes=["rtsp", "rtsps"],
                             nullable=True, env_field="url_env"),
            "url_env": env_var_field("Env var holding the stream URL with its credentials"),
            "analysis_url": url_field(
                "Low-resolution substream for motion detection only (without credentials)",
                schemes=["rtsp", "rtsps"], nullable=True, env_field="analysis_url_env"),
            "analysis_url_env": env_var_field(
                "Env var holding the substream URL with its credentials"),
            "rtsp_transport": str_field("RTSP transport", default="tcp", choices=["tcp", "udp"]),
            "analysis_width": int_field("Width of the low-resolution analysis decode",
                                        default=320, min=64, max=1920),
            "analysis_fps": float_field("Frames per second analysed for motion (0: every frame)",
                                        default=5.0, min=0.0, max=60.0),
            "live_fps": float_field(
                "Frames per second the detector looks at from motion onset, for events that "
                "start as the person appears (0: judge the finished clip only; at most "
                "analysis_fps frames are decoded)",
                default=5.0, min=0.0, max=10.0),
            "live_follow_fps": float_field(
                "Frames per second the detector looks at once the event has started, to follow "
                "it and catch a further class (at most live_fps; a quarter of it while all it "
                "follows stands still). Lower spends less of the detector shared by all cameras",
                default=1.0, min=0.1, max=10.0),
            "sensitivity": float_field("Motion sensitivity (higher is more sensitive)",
                                       default=0.5, min=0.0, max=1.0),
            "min_motion_s": float_field("Minimum motion duration before recording",
                                        default=0.5, min=0.0, max=60.0),
            "pre_roll_s": float_field("Seconds kept before the motion", default=2.0,
                                      min=0.0, max=30.0),
            "post_roll_s": float_field("Seconds kept after the motion", default=3.0,
                                       min=0.0, max=60.0),
            "max_clip_s": float_field("Longest clip", default=60.0, min=1.0, max=600.0),
            "reconnect_max_backoff_s": float_field("Longest wait between reconnects",
                                                   default=30.0, min=1.0, max=600.0),
            "open_timeout_s": float_field("Timeout for connecting to the stream", default=10.0,
                                          min=1.0, max=120.0),
            "read_timeout_s": float_field("A stream silent this long counts as lost",
                                          default=5.0, min=1.0, max=120.0),
            "undecodable_timeout_s": float_field(
                "A connected stream that yields no picture this long (data no decoder can "
                "use, a frame that never completes) counts as lost: the camera is unhealthy "
                "with the reason and is reconnected",
                default=15.0, min=2.0, max=300.0),
            "decoder_threads": int_field("Decoder threads", default=1, min=1, max=16),
            "restream_max_viewers": int_field(
                "Live stream viewers at once (they share the camera connection)",
                default=4, min=0, max=16),
            "restream_max_lag_s": float_field(
                "A live stream viewer this far behind the camera is dropped",
                default=5.0, min=0.5, max=60.0),
        },
        one_of_required=[["url", "url_env"]],
    ),
    "LocalFolderSourceConfig": model(
        "Finished video files dropped into a folder.",
        {
            "path": str_field("Folder to watch", required=True, min_len=1),
            "stable_s": float_field("Seconds a file's size must stay the same", default=2.0,
                                    min=0.0, max=600.0),
            "poll_s": float_field("Polling interval", default=1.0, min=0.1, max=60.0),
            "extensions": list_field("Video file extensions", str_field("Extension"),
                                     default=[".mp4", ".mkv", ".mov", ".avi"]),
        },
    ),
    "DemoSourceConfig": model(
        "A synthetic camera that needs no hardware.",
        {
            "interval_s": float_field("Seconds between synthetic clips", default=20.0,
                                      min=1.0, max=86400.0),
            "clip_s": float_field("Clip length", default=4.0, min=1.0, max=60.0),
            "subject": str_field("What moves through the picture", default="person",
                                 choices=["person", "vehicle", "animal"]),
            "width": int_field("Frame width", default=320, min=64, max=1920),
            "height": int_field("Frame height", default=240, min=48, max=1080),
            "fps": int_field("Frames per second", default=10, min=1, max=30),
        },
    ),
    "Zone": model(
        "A named area of the picture, a polygon in frame fractions. A detection is inside "
        "when its foot point (the middle of its box's bottom edge) is.",
        {
            "name": _area_name(),
            "points": polygon_field("Corners [[x, y], ...] as fractions of the frame (0..1)"),
            "classes": list_field("Classes that alert in this zone (empty: every trigger "
                                  "class)", str_field("Class", choices=DETECTION_CLASSES),
                                  default=[]),
        },
    ),
    "MotionMask": model(
        "An area of the picture motion detection ignores.",
        {
            "name": _area_name(),
            "points": polygon_field("Corners [[x, y], ...] as fractions of the frame (0..1)"),
        },
    ),
    "Camera": model(
        "A camera: a named clip source.",
        {
            "name": slug_field("Camera name (slug)"),
            "enabled": bool_field("Whether the camera is started", default=True),
            "source_backend": backend_field("source", "Clip source backend", required=True),
            "source_config": object_field("Backend-specific settings", required=True),
            "zones": zones_field(),
            "motion_masks": motion_masks_field(),
            "filter_backend": backend_field(
                "filter",
                "Object filter for this camera (unset: filter.backend; a demo camera: builtin, "
                "the heuristic that reads the demo's drawn subjects)",
                nullable=True),
        },
        variant={"discriminator": "source_backend", "field": "source_config",
                 "models": SOURCE_SETTINGS_MODELS},
    ),
    "CameraPolicy": model(
        "Per-camera alert-policy override; unset fields inherit the global policy.",
        {
            "min_risk_level": str_field("Lowest risk level that alerts", choices=RISK_LEVELS,
                                        nullable=True),
            "activity_types": list_field("Only these activities alert (empty: all)",
                                         str_field("Activity type", choices=ACTIVITY_TYPES)),
            "enabled": bool_field("Whether this camera alerts at all", nullable=True),
            "alert_classes": list_field(
                "Classes whose events alert here (empty: the global alert_classes)",
                str_field("Class", choices=DETECTION_CLASSES)),
            "zones": map_field(
                "Tiers by zone (keys: zones the camera has; another name is refused): an "
                "event in a zone named here alerts only on that zone's alert_classes (in "
                "several: any of theirs); an event in no zone named here follows the "
                "camera's alert_classes",
                {"type": "model", "model": "ZonePolicy", "required": False,
                 "description": "The zone's rule"},
                key_pattern=r"^[^\x00-\x1f]{1,64}$"),
        },
    ),
    "ZonePolicy": model(
        "The tier rule of one zone of a camera.",
        {
            "alert_classes": list_field(
                "Classes whose events in this zone alert (empty: nothing here alerts; every "
                "event in it is a detection)",
                str_field("Class", choices=DETECTION_CLASSES), required=True),
        },
    ),
    "AlertPolicy": model(
        "Which analysed clips become alerts.",
        {
            "min_risk_level": str_field("Lowest risk level that alerts", default="low",
                                        choices=RISK_LEVELS),
            "activity_types": list_field("Only these activities alert (empty: all)",
                                         str_field("Activity type", choices=ACTIVITY_TYPES),
                                         default=[]),
            "alert_classes": list_field(
                "Tiers: an event of these classes is an alert (notified); one of only other "
                "trigger classes is a detection (recorded and reviewable, not notified)",
                str_field("Class", choices=DETECTION_CLASSES),
                default=["person", "vehicle"]),
            "cameras": map_field("Per-camera overrides (keys: cameras that exist; another "
                                 "name is refused)",
                                 {"type": "model", "model": "CameraPolicy", "required": False,
                                  "description": "Override"},
                                 default={}, key_pattern=r"^[a-z0-9_]{1,64}$"),
        },
    ),
    "ServerConfig": model(
        "The REST API and panel.",
        {
            "host": str_field("Listen address", default="127.0.0.1"),
            "port": int_field("Listen port", default=8080, min=1, max=65535),
            "api_key_env": env_var_field("Env var holding the API key (unset: no key)"),
            "trusted_proxies": list_field(
                "Peers allowed without a key (the add-on's ingress proxy); the per-address "
                "connection cap does not apply to them (they carry everyone's requests)",
                str_field("IP address"), default=[]),
            "max_connections_per_address": int_field(
                "Connections one address may hold open at once; more are answered 503 and "
                "closed (counted, logged once a minute)", default=64, min=1, max=10000),
            "public_url": url_field("Base URL used in view links", schemes=["http", "https"],
                                    nullable=True),
        },
    ),
    "StorageConfig": model(
        "Where clips are kept.",
        {
            "backend": backend_field("storage", "Storage backend", default="local"),
            "path": str_field("Root folder of stored clips", default="./data/clips"),
        },
    ),
    "RetentionRules": model(
        "Per-camera retention override; unset fields inherit the global retention.",
        {
            "keep_days": float_field("Days a clip without an alert is kept", nullable=True,
                                     min=0.01, max=3650.0, min_message=_KEEP_MIN_MESSAGE),
            "alerted_keep_days": float_field("Days an alerted clip is kept", nullable=True,
                                             min=0.01, max=3650.0,
                                             min_message=_KEEP_MIN_MESSAGE),
        },
    ),
    "RetentionConfig": model(
        "When stored clips are deleted: by age, and by a disk budget (oldest clips without "
        "an alert first, then the oldest alerted ones). A clip still being processed or not "
        "yet copied offsite is never deleted.",
        {
            "enabled": bool_field("Whether clips are ever deleted", default=True),
            "keep_days": float_field("Days a clip without an alert is kept", default=30.0,
                                     min=0.01, max=3650.0, min_message=_KEEP_MIN_MESSAGE),
            "alerted_keep_days": float_field("Days an alerted clip is kept", default=90.0,
                                             min=0.01, max=3650.0,
                                             min_message=_KEEP_MIN_MESSAGE),
            "max_gb": float_field("Most gigabytes the stored clips may take (unset: no limit)",
                                  nullable=True, min=0.001,
                                  min_message="must be more than 0 (0 would delete every "
                                  "clip at once); leave it unset for no limit"),
            "min_free_percent": float_field(
                "Free space kept on the clips' disk, in percent (unset: no limit)",
                nullable=True, min=0.0, max=90.0),
            "critical_free_percent": float_field(
                "Free space below which Home Assistant shows a repair issue", default=5.0,
                min=0.0, max=50.0),
            "interval_s": float_field("Seconds between retention passes", default=60.0,
                                      min=1.0, max=86400.0),
            "batch": int_field("Most clips deleted per pass (bounds each pass's work)",
                               default=500, min=1, max=10000),
            "cameras": map_field("Per-camera overrides",
                                 {"type": "model", "model": "RetentionRules",
                                  "required": False, "description": "Override"},
                                 default={}, key_pattern=r"^[a-z0-9_]{1,64}$"),
        },
    ),
    "OffsiteConfig": model(
        "Copies of every stored clip on another machine (S3-compatible store or WebDAV), "
        "queued on disk and retried until they are there.",
        {
            "enabled": bool_field("Whether clips are copied offsite", default=False),
            "backend": str_field("Offsite service", default="s3", choices=OFFSITE_BACKENDS),
            "endpoint": url_field("s3: endpoint of an S3-compatible store (unset: AWS); "
                                  "webdav: server URL, without credentials",
                                  schemes=["http", "https"], nullable=True),
            "bucket": str_field("s3: bucket name", nullable=True),
            "region": str_field("s3: region", default="us-east-1"),
            "root": str_field("Folder (key prefix) the clips are written under",
                              default="homesec"),
            "access_key_id_env": env_var_field("s3: env var holding the access key id"),
            "secret_access_key_env": env_var_field("s3: env var holding the secret key"),
            "username_env": env_var_field("webdav: env var holding the user name"),
            "password_env": env_var_field("webdav: env var holding the password"),
            "max_backlog": int_field("Most uploads kept waiting on disk; later clips are "
                                     "not copied (with a warning) until the backlog shrinks",
                                     default=10000, min=1, max=1000000),
            "retry_initial_s": float_field("First wait after a failed upload", default=5.0,
                                           min=0.01, max=3600.0),
            "retry_max_s": float_field("Longest wait between tries", default=600.0,
                                       min=0.01, max=86400.0),
            "timeout_s": float_field("Timeout of one upload", default=300.0, min=1.0,
                                     max=86400.0),
        },
    ),
    "StateConfig": model(
        "The clip-state database.",
        {
            "url": str_field("Database URL without a password (sqlite:///file or "
                             "postgresql://user@host/db)", default="sqlite:///./data/homesec.db",
                             pattern=DB_URL_WITHOUT_PASSWORD,
                             pattern_message="must not contain a password; put the full URL "
                             "in an environment variable and name it in state.url_env"),
            "url_env": env_var_field("Env var holding a database URL with a password"),
            "outbox_path": str_field("Folder for writes kept while the database is down",
                                     default="./data/outbox"),
        },
    ),
    "ClusterConfig": model(
        "Several engines as one installation (off: one engine runs every camera). Engines "
        "pointed at the same PostgreSQL state.url and the same offsite object store share "
        "the cameras: each camera is held by one engine through a lease in the database; "
        "cameras are spread by declared capacity and move when an engine joins, leaves or "
        "dies (within lease_s + heartbeat_s + a camera's start).",
        {
            "enabled": bool_field("Whether this engine joins a cluster", default=False),
            "engine_id": str_field("This engine's name in the cluster (unset: host name and "
                                   "API port)", nullable=True, pattern=r"^[a-z0-9_.-]{1,64}$",
                                   pattern_message="must be 1-64 of a-z, 0-9, '_', '.', '-'"),
            "capacity": int_field("Most cameras this engine holds; cameras are spread in "
                                  "proportion to capacity", default=16, min=1, max=1000),
            "lease_s": float_field("Seconds a camera's lease lasts without a renewal: an "
                                   "engine cut off from the database stops recording by "
                                   "then, and another engine may take the camera after it",
                                   default=15.0, min=2.0, max=600.0),
            "heartbeat_s": float_field("Seconds between lease renewals (at most a third of "
                                       "lease_s)", default=5.0, min=0.2, max=200.0),
            "advertise_url": url_field("URL other engines and Home Assistant reach this "
                                       "engine's API at (unset: http://<server.host>:"
                                       "<server.port>, the host name when server.host "
                                       "listens everywhere)", schemes=["http", "https"],
                                       nullable=True),
        },
    ),
    "FilterConfig": model(
        "Object detection on sampled frames.",
        {
            "backend": backend_field("filter", "Detector: a trained COCO model (detector) or "
                                     "the classical blob heuristic (builtin)",
                                     default="detector"),
            "model_path": str_field("ONNX model file (unset: the shipped CenterNet "
                                    "MobileNet-v3 416)",
                                    nullable=True),
            "family": str_field("Model family (unset: recognised from the model's outputs)",
                                nullable=True, choices=DETECTOR_FAMILIES),
            "input_size": list_field("Model input [width, height] of a model whose input "
                                     "size is open (the shipped one: 416x416 unless set)",
                                     int_field("Pixels", min=32, max=4096), default=[],
                                     max_len=2),
            "threads": int_field("Inference threads (0: one per core)", default=0, min=0,
                                 max=64),
            "min_hits": int_field("Consecutive sampled frames a class must be seen in",
                                  default=2, min=1, max=30),
            "min_box_size": float_field("Smallest box side kept, as a fraction of the "
                                        "picture the model saw (the frame, or a region "
                                        "around motion)",
                                        default=0.02, min=0.0, max=1.0),
            "region_width": int_field("Frames are decoded up to this width and the model "
                                      "also looks at a region around motion and unsure "
                                      "boxes at its own resolution, so distant subjects are "
                                      "seen (0: whole frame only)",
                                      default=1920, min=0, max=7680),
            "low_light": bool_field("A dark picture (night) is brightened, after a light blur "
                                    "against its noise, before the model looks at it",
                                    default=True),
            "class_min_confidence": map_field(
                "Lowest confidence kept per class (others: min_confidence)",
                float_field("Confidence", min=0.0, max=1.0),
                # Calibrated on bench/detect.py (README, Object detection): the shipped model
                # scores vehicles and animals lower than people for the same certainty.
                default={"vehicle": 0.25, "animal": 0.25},
                key_pattern="^(" + "|".join(DETECTION_CLASSES) + ")$"),
            "nms_iou": float_field("Overlap above which boxes of a class are merged",
                                   default=0.5, min=0.05, max=0.95),
            "on_model_error": str_field("What clips do while the model cannot be used: alert "
                                        "as motion, or hold (record and store, no alert)",
                                        default="motion", choices=["motion", "hold"]),
            "sample_fps": float_field("Frames analysed per second", default=2.0,
                                      min=0.1, max=30.0),
            # The shipped model's calibration (bench/detect.py: 0.3 keeps every empty scene
            # silent; its scores run lower than NanoDet's, whose default was 0.5).
            "min_confidence": float_field("Lowest confidence kept", default=0.3,
                                          min=0.0, max=1.0),
            "trigger_classes": list_field("Classes that trigger the analyzer",
                                          str_field("Class", choices=DETECTION_CLASSES),
                                          default=["person", "vehicle", "animal", "package"]),
        },
    ),
    "TrackingConfig": model(
        "Tracked objects: detections followed across frames, each moving or stationary. A "
        "stationary object (a parked car, a bin) starts no event, raises no sensor or alert "
        "and is not counted as active until it moves again.",
        {
            "iou_min": float_field("Least overlap between a track's last box and a detection "
                                   "for the detection to continue the track",
                                   default=0.2, min=0.01, max=0.95),
            "max_distance": float_field(
                "Farthest a track's centre may be from where it was heading, as a fraction of "
                "the frame, for a detection that does not overlap it to continue it",
                default=0.15, min=0.01, max=1.0),
            "max_missing_s": float_field("Seconds a moving object may go unseen before its "
                                         "track ends", default=2.0, min=0.1, max=120.0),
            "stationary_keep_s": float_field(
                "Seconds a stationary object is remembered while unseen (a parked car hidden "
                "by a passer-by is still parked when it shows again)",
                default=600.0, min=0.0, max=86400.0),
            "stationary_s": float_field(
                "Seconds an object must stay within stationary_move of where it was to count "
                "as stationary", default=10.0, min=0.5, max=3600.0),
            "class_stationary_s": map_field(
                "stationary_s per class (0: never stationary)",
                float_field("Seconds", min=0.0, max=86400.0), default={"person": 0.0},
                key_pattern="^(" + "|".join(DETECTION_CLASSES) + ")$"),
            "stationary_move": float_field(
                "How far an object may move and still count as standing still, as a fraction "
                "of the frame", default=0.03, min=0.001, max=0.5),
            "max_tracks": int_field(
                "Most objects followed at once per camera (a crowd beyond it is not followed "
                "one by one; diagnostics count what was left out)",
                default=40, min=1, max=500),
            "activity_priority": list_field(
                "Which class names a clip's activity when several moved, most important first",
                str_field("Class", choices=DETECTION_CLASSES),
                default=["person", "vehicle", "animal", "package"]),
        },
    ),
    "AnalyzerConfig": model(
        "The optional vision-language model: an OpenAI-compatible API (`openai`) or the AI "
        "provider set up in Home Assistant, through its ai_task (`home_assistant`).",
        {
            "enabled": bool_field("Whether the VLM runs", default=False),
            "backend": backend_field("analyzer", "Analyzer backend", default="openai"),
            "ai_task_entity": str_field("home_assistant: the ai_task entity that answers "
                                        "(unset: Home Assistant's preferred one)",
                                        nullable=True, pattern=r"^ai_task\.[a-z0-9_]+$",
                                        pattern_message="must be an ai_task entity id"),
            "url_env": env_var_field("home_assistant: env var holding HA's base URL "
                                     "(standalone mode)"),
            "token_env": env_var_field("home_assistant: env var holding a long-lived token "
                                       "(standalone mode)"),
            "base_url": url_field("API base URL", schemes=["http", "https"],
                                  default="https://api.openai.com/v1"),
            "model": str_field("Model name", default="gpt-4o-mini"),
            "api_key_env": env_var_field("Env var holding the API key"),
            "timeout_s": float_field("Request timeout", default=30.0, min=1.0, max=300.0),
            "max_retries": int_field("Retries on failure", default=2, min=0, max=10),
            "frames": int_field("Frames sent per clip", default=3, min=1, max=10),
        },
    ),
    "NotifierConfig": model(
        "One notifier; alerts fan out to all of them.",
        {
            "backend": backend_field("notifier", "Notifier backend", required=True),
            "enabled": bool_field("Whether it is used", default=True),
            "url_env": env_var_field("home_assistant: env var holding HA's base URL "
                                     "(standalone mode)"),
            "token_env": env_var_field("home_assistant: env var holding a long-lived token "
                                       "(standalone mode)"),
            "host": str_field("mqtt: broker host", default="127.0.0.1"),
            "port": int_field("mqtt: broker port", default=1883, min=1, max=65535),
            "username_env": env_var_field("mqtt: env var holding the user name"),
            "password_env": env_var_field("mqtt: env var holding the password"),
            "topic_prefix": str_field("mqtt: topic prefix", default="homesec"),
            "max_retries": int_field("Retries before giving up", default=3, min=0, max=10),
        },
    ),
    "Config": model(
        "The whole engine configuration.",
        {
            "config_version": int_field("Bumped on every run-time change", default=1, min=1),
            "config_overrides_path": str_field("Override file written at run time",
                                               nullable=True),
            "log_level": str_field("Log level", default="info", choices=LOG_LEVELS),
            "server": model_field("REST API", "ServerConfig", default={}),
            "storage": model_field("Clip storage", "StorageConfig", default={}),
            "state": model_field("Clip-state database", "StateConfig", default={}),
            "retention": model_field("Clip retention", "RetentionConfig", default={}),
            "offsite": model_field("Offsite copies", "OffsiteConfig", default={}),
            "cluster": model_field("Several engines as one installation", "ClusterConfig",
                                   default={}),
            "filter": model_field("Object filter", "FilterConfig", default={}),
            "tracking": model_field("Tracked objects", "TrackingConfig", default={}),
            "analyzer": model_field("VLM analyzer", "AnalyzerConfig", default={}),
            "alert_policy": model_field("Alert policy", "AlertPolicy", default={}),
            "notifiers": list_field("Notifiers",
                                    {"type": "model", "model": "NotifierConfig",
                                     "required": False, "description": "Notifier"},
                                    default=[]),
            "cameras": list_field("Cameras",
                                  {"type": "model", "model": "Camera", "required": False,
                                   "description": "Camera"},
                                  default=[], unique_by="name"),
            "removed_cameras": list_field("Cameras of the base file removed at run time",
                                          str_field("Camera name"), default=[]),
        },
    ),
}
