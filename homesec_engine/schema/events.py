"""Payloads the engine pushes: the `homesec_alert` HA event and WebSocket messages (SPEC §7)."""

from __future__ import annotations

from .api import alert_zones_field, objects_field
from .config import RISK_LEVELS
from .fields import (
    Decl,
    bool_field,
    datetime_field,
    int_field,
    list_field,
    model,
    model_field,
    str_field,
)

ALERT_EVENT_TYPE = "homesec_alert"
# Camera health changes also go to HA as an event (data: CameraHealthEvent).
CAMERA_HEALTH_EVENT_TYPE = "homesec_camera_health"
# Live events (started/updated/ended/interrupted) also go to HA as an event (data: LiveEvent).
LIVE_EVENT_TYPE = "homesec_event"
WS_MESSAGE_TYPES = ["alert", "event", "camera_health", "heartbeat"]

EVENT_MODELS: dict[str, Decl] = {
    "AlertEvent": model("The homesec_alert event data, also sent as WebSocket `alert`.", {
        "camera": str_field("Camera name", required=True),
        "clip_id": str_field("Clip id", required=True),
        "activity_type": str_field("What happened", required=True, nullable=True),
        "risk_level": str_field("Risk level", required=True, nullable=True,
                                choices=RISK_LEVELS),
        "summary": str_field("VLM summary", required=True, nullable=True),
        "view_url": str_field("Link to the clip", required=True, nullable=True),
        "storage_uri": str_field("Where the clip is stored", required=True, nullable=True),
        "timestamp": datetime_field("When (ISO 8601 UTC)", required=True),
        "detected_objects": list_field("Detected classes", str_field("Class"), required=True),
        # Not required: an engine from before per-object results sends neither.
        "objects": objects_field(required=False),
        "zones": alert_zones_field(required=False),
        "tier": str_field("Always alert (a detection is recorded, not sent)",
                          choices=["alert", "detection"]),
        "snapshot_url": str_field("Engine link to the event's snapshot (the same field as "
                                  "the live event's)", nullable=True),
        "last_alert": model_field("The camera's last-alert summary this alert makes (what "
                                  "/status shows as the camera's last_alert)",
                                  "AlertSummary", required=True),
    }, extra="allow"),
    "CameraHealthEvent": model("WebSocket `camera_health` data.", {
        "camera": str_field("Camera name", required=True),
        "healthy": bool_field("Streaming now", required=True),
        "last_heartbeat": datetime_field("Last frame or file seen", required=True,
                                         nullable=True),
    }, extra="allow"),
    "PushedStats": model("The engine's figures carried by a pushed message.", {
        "alerts_today": int_field("Alerts since local midnight (absent while the database "
                                  "is down)", min=0),
        "cameras_online": int_field("Cameras streaming now", required=True, min=0),
    }),
    "WsMessage": model("One WebSocket message from /api/v1/events.", {
        "type": str_field("Message type", required=True, choices=WS_MESSAGE_TYPES),
        "data": {"type": "object", "required": True, "description": "AlertEvent, "
                 "LiveEvent (with phase), CameraHealthEvent or {} for heartbeat"},
        # The engine's own figures, so the integration applies them instead of recomputing.
        "stats": model_field("Figures after this message (alert, event, camera_health)",
                             "PushedStats"),
    }, extra="allow"),
}
