"""Models of the Home Assistant side: config-flow forms, options and service calls.

They live here so the config flow, the services and the engine validate the same fields
the same way (service bodies are forwarded to the engine's API).
"""

from __future__ import annotations

from .config import (
    ACTIVITY_TYPES,
    RISK_LEVELS,
    SOURCE_BACKENDS,
    motion_masks_field,
    replacing,
    zones_field,
)
from .api import CLIP_STATUSES
from .fields import (
    Decl,
    bool_field,
    datetime_field,
    int_field,
    list_field,
    model,
    object_field,
    slug_field,
    str_field,
)

DEFAULT_PORT = 8080
DEFAULT_SCAN_INTERVAL_S = 30
DEFAULT_MOTION_RESET_S = 30

INTEGRATION_MODELS: dict[str, Decl] = {
    "Connection": model("How Home Assistant reaches the engine.", {
        "host": str_field("Host name or IP address of the engine", required=True,
                          min_len=1, max_len=253, pattern=r"^[A-Za-z0-9.\-:\[\]_]+$",
                          pattern_message="must be a host name or an IP address"),
        "port": int_field("TCP port of the engine's API", default=DEFAULT_PORT, min=1,
                          max=65535),
        "api_key": str_field("API key (leave empty when the engine has none)", default="",
                             max_len=512, selector="password"),
        "verify_ssl": bool_field("Verify the TLS certificate", default=True),
        "ssl": bool_field("Use HTTPS", default=False),
    }),
    "Options": model("Integration options.", {
        "scan_interval": int_field("Seconds between polls", default=DEFAULT_SCAN_INTERVAL_S,
                                   min=5, max=3600),
        "motion_reset_s": int_field("Seconds the motion sensor stays on after an alert",
                                    default=DEFAULT_MOTION_RESET_S, min=1, max=3600),
    }),
    "ServiceAddCamera": model("homesec.add_camera", {
        "name": slug_field("Camera name"),
        "source_backend": str_field("Clip source backend", required=True,
                                    choices=SOURCE_BACKENDS),
        "source_config": object_field("Backend settings", required=True),
        "enabled": bool_field("Start the camera", default=True),
        "zones": zones_field(),
        "motion_masks": motion_masks_field(),
    }),
    "ServiceUpdateCamera": model("homesec.update_camera", {
        "name": slug_field("Camera name"),
        "enabled": bool_field("Start the camera"),
        "source_config": object_field("Backend settings (replace the old ones)"),
        "zones": replacing(zones_field(), "Zones (replace the old ones)"),
        "motion_masks": replacing(motion_masks_field(), "Motion masks (replace the old ones)"),
    }),
    "ServiceRemoveCamera": model("homesec.remove_camera", {
        "name": slug_field("Camera name"),
    }),
    "ServiceSetAlertPolicy": model("homesec.set_alert_policy", {
        "min_risk_level": str_field("Lowest risk level that alerts", required=True,
                                    choices=RISK_LEVELS),
        "activity_types": list_field("Only these activities alert (empty: all)",
                                     str_field("Activity type", choices=ACTIVITY_TYPES),
                                     default=[]),
        "camera": str_field("Apply to this camera only (empty: the global policy)",
                            pattern=r"^[a-z0-9_]{1,64}$",
                            pattern_message="must be a camera name"),
    }),
    "ServiceDeleteClip": model("homesec.delete_clip", {
        "clip_id": str_field("Clip id", required=True, min_len=1, max_len=128,
                             pattern=r"^[A-Za-z0-9_\-]+$",
                             pattern_message="must be a clip id"),
    }),
    "ServiceRestartEngine": model("homesec.restart_engine", {}),
    "ServiceGetClips": model("homesec.get_clips", {
        "camera": str_field("Camera name"),
        "status": str_field("Pipeline state", choices=CLIP_STATUSES),
        "alerted": bool_field("Only alerted clips"),
        "risk_level": str_field("Risk level", choices=RISK_LEVELS),
        "activity_type": str_field("Activity type", choices=ACTIVITY_TYPES),
        "since": datetime_field("Created at or after"),
        "until": datetime_field("Created before"),
        "page": int_field("Page, 1-based", default=1, min=1, max=1_000_000),
        "page_size": int_field("Clips per page", default=50, min=1, max=100),
    }),
}

SERVICES = {
    "add_camera": "ServiceAddCamera",
    "update_camera": "ServiceUpdateCamera",
    "remove_camera": "ServiceRemoveCamera",
    "set_alert_policy": "ServiceSetAlertPolicy",
    "delete_clip": "ServiceDeleteClip",
    "restart_engine": "ServiceRestartEngine",
    "get_clips": "ServiceGetClips",
}
