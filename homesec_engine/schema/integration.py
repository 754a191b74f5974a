"""Models of the Home Assistant side: config-flow forms, options and service calls.

They live here so the config flow, the services and the engine validate the same fields
the same way (service bodies are forwarded to the engine's API).
"""

from __future__ import annotations

from .config import ACTIVITY_TYPES, CONFIG_MODELS, RISK_LEVELS
from .api import CAMERA, CLIP_QUERY
from .fields import (
    Decl,
    bool_field,
    derive,
    int_field,
    list_field,
    model,
    slug_field,
    str_field,
)

DEFAULT_PORT = 8080
DEFAULT_SCAN_INTERVAL_S = 30
DEFAULT_MOTION_RESET_S = 30
SILENCE_MAX_S = 7 * 24 * 3600

# The engine settings users tune most, as one flat form: the options flow and the
# homesec.update_settings service. What the engine applies at once (PATCH /settings, each field
# into the config section that declares it); what is not given stays.
ENGINE_SETTINGS_SECTIONS = {"retention": ["keep_days", "alerted_keep_days", "max_gb"],
                            "filter": ["min_confidence", "min_hits"]}
_SECTION_MODELS = {"retention": "RetentionConfig", "filter": "FilterConfig"}
ENGINE_SETTINGS = model("The engine settings users tune most.", {
    name: decl
    for section, names in ENGINE_SETTINGS_SECTIONS.items()
    for name, decl in derive(CONFIG_MODELS[_SECTION_MODELS[section]], "", only=names,
                             optional=True)["fields"].items()})

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
        # No default here: unset, it is on, except for entries set up from the add-on
        # (which has the panel through ingress); custom_components/homesec/panel.py decides.
        "sidebar_panel": bool_field("Show HomeSec's panel in the sidebar"),
    }),
    "ServiceAddCamera": derive(CAMERA, "homesec.add_camera"),
    "ServiceUpdateCamera": derive(CAMERA, "homesec.update_camera: what is given replaces the "
                                  "old value", drop=["source_backend"],
                                  optional=[n for n in CAMERA["fields"] if n != "name"],
                                  # the camera's own keep times (its `retention` update)
                                  add=CONFIG_MODELS["RetentionRules"]["fields"]),
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
    # The options flow's engine form (its current values as defaults).
    "EngineSettings": derive(ENGINE_SETTINGS, "Options: the engine's retention and detection "
                             "thresholds, applied at once"),
    "ServiceUpdateSettings": derive(ENGINE_SETTINGS, "homesec.update_settings: retention and "
                                    "the detector's thresholds, applied at once"),
    "ServiceDeleteClip": model("homesec.delete_clip", {
        "clip_id": str_field("Clip id", required=True, min_len=1, max_len=128,
                             pattern=r"^[A-Za-z0-9_\-]+$",
                             pattern_message="must be a clip id"),
    }),
    "ServiceRestartEngine": model("homesec.restart_engine", {}),
    "ServiceGetClips": derive(CLIP_QUERY, "homesec.get_clips"),
    # Notifications only: the engine keeps recording, detecting and alerting.
    "ServiceSilenceCamera": model("homesec.silence_camera", {
        "camera": slug_field("Camera name"),
        "duration_s": int_field("Seconds from now (0 ends the silence; absent: only report "
                                "it)", min=0, max=SILENCE_MAX_S),
        "scope": str_field("Whose notifications: any name, e.g. an automation's entity id "
                           "(empty: everyone's)", default="", max_len=255),
    }),
}

# Examples shown in the action editor (services.yaml `example:`). JSON lives here, never in
# the translated descriptions: its braces would read as placeholders to hassfest and to the
# frontend's ICU message parser.
SERVICE_FIELD_EXAMPLES = {
    "zones": '[{"name": "path", "points": [[0.1, 0.5], [0.9, 0.5], [0.9, 1], [0.1, 1]], '
             '"classes": ["person"]}]',
    "motion_masks": '[{"name": "tree", "points": [[0, 0], [0.3, 0], [0.3, 0.4]]}]',
}

SERVICES = {
    "add_camera": "ServiceAddCamera",
    "update_camera": "ServiceUpdateCamera",
    "remove_camera": "ServiceRemoveCamera",
    "set_alert_policy": "ServiceSetAlertPolicy",
    "update_settings": "ServiceUpdateSettings",
    "delete_clip": "ServiceDeleteClip",
    "restart_engine": "ServiceRestartEngine",
    "get_clips": "ServiceGetClips",
    "silence_camera": "ServiceSilenceCamera",
}
