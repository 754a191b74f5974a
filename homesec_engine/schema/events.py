"""Payloads the engine pushes: the `homesec_alert` HA event and WebSocket messages (SPEC §7)."""

from __future__ import annotations

from .api import alert_zones_field, objects_field
from .config import RISK_LEVELS
from .fields import Decl, bool_field, datetime_field, list_field, model, str_field

ALERT_EVENT_TYPE = "homesec_alert"
# Camera health changes also go to HA as an event (data: CameraHealthEvent).
CAMERA_HEALTH_EVENT_TYPE = "homesec_camera_health"
WS_MESSAGE_TYPES = ["alert", "camera_health", "heartbeat"]

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
    }, extra="allow"),
    "CameraHealthEvent": model("WebSocket `camera_health` data.", {
        "camera": str_field("Camera name", required=True),
        "healthy": bool_field("Streaming now", required=True),
        "last_heartbeat": datetime_field("Last frame or file seen", required=True,
                                         nullable=True),
    }, extra="allow"),
    "WsMessage": model("One WebSocket message from /api/v1/events.", {
        "type": str_field("Message type", required=True, choices=WS_MESSAGE_TYPES),
        "data": {"type": "object", "required": True, "description": "AlertEvent, "
                 "CameraHealthEvent or {} for heartbeat"},
    }, extra="allow"),
}
