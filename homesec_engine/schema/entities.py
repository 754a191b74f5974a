"""Home Assistant entity specs, rendered into the integration's entity descriptions.

`value_path` points into the /api/v1/status data: for scope "hub" from the document root,
for scope "camera" from that camera's entry in `cameras`, for scope "engine" (cluster mode:
one device per engine) from that engine's entry in `health.cluster.engines`. Push-driven entities (motion,
person, last alert) read the camera's `last_alert`, which alerts also update live.

When a path is not enough, a spec names a function instead, written once in the
integration's `value_functions.py` (a test checks every name here exists there):
- `value_fn`: computes the state from the entity (its camera, the coordinator);
- `available_fn`: decides availability instead of "engine reachable and camera known";
- `alert_class`: a push entity turns on only for alerts that detected this class; a count
  sensor (`value_fn: alert_object_count`) shows how many of it the latest alert found.
"""

from __future__ import annotations

from .config import ACTIVITY_TYPES, LIVE_EVENT_FIRED, RISK_LEVELS
from .fields import Decl


# The classes with their own binary and count sensors per camera.
OBJECT_ICONS = {"person": "mdi:account", "vehicle": "mdi:car", "animal": "mdi:paw"}


def entity(key: str, platform: str, scope: str, value_path: list[str], **extra: object) -> Decl:
    spec: Decl = {"key": key, "platform": platform, "scope": scope, "value_path": value_path,
                  "translation_key": key, "enabled_default": True}
    spec.update(extra)
    return spec


ENTITY_SPECS: list[Decl] = [
    # Hub sensors
    entity("cameras_online", "sensor", "hub", ["stats", "cameras_online"],
           state_class="measurement", icon="mdi:cctv"),
    entity("alerts_today", "sensor", "hub", ["stats", "alerts_today"],
           state_class="total", icon="mdi:alarm-light", value_fn="count_once_known"),
    entity("clips_today", "sensor", "hub", ["stats", "clips_today"],
           state_class="total", icon="mdi:filmstrip-box-multiple", value_fn="count_once_known"),
    entity("system_health", "sensor", "hub", ["health", "status"], device_class="enum",
           options=["healthy", "degraded", "unhealthy"], entity_category="diagnostic",
           icon="mdi:heart-pulse"),
    # Engine sensors (cluster mode: each engine of the installation is a device)
    entity("cameras_held", "sensor", "engine", ["cameras_held"], state_class="measurement",
           icon="mdi:server-network"),
    # Hub storage sensors (measured by the engine's retention pass; see StorageStatus)
    entity("disk_used", "sensor", "hub", ["storage", "disk_used_bytes"],
           device_class="data_size", state_class="measurement", unit="B",
           suggested_unit="GB", suggested_display_precision=2, icon="mdi:harddisk"),
    entity("disk_free", "sensor", "hub", ["storage", "disk_free_bytes"],
           device_class="data_size", state_class="measurement", unit="B",
           suggested_unit="GB", suggested_display_precision=1, icon="mdi:harddisk-plus"),
    entity("clips_stored", "sensor", "hub", ["storage", "clips_stored"],
           state_class="measurement", icon="mdi:filmstrip-box"),
    entity("oldest_clip", "sensor", "hub", ["storage", "oldest_clip"],
           device_class="timestamp", icon="mdi:clock-start"),
    entity("offsite_backlog", "sensor", "hub", ["storage", "offsite_backlog"],
           state_class="measurement", icon="mdi:cloud-upload",
           created_when=["storage", "offsite_enabled"]),
    # Camera sensors
    entity("last_activity", "sensor", "camera", ["last_alert", "activity_type"],
           device_class="enum", options=ACTIVITY_TYPES, icon="mdi:motion-sensor",
           restore=True),
    entity("risk_level", "sensor", "camera", ["last_alert", "risk_level"], device_class="enum",
           options=RISK_LEVELS, icon="mdi:shield-alert", restore=True),
    entity("health", "sensor", "camera", [], device_class="enum",
           options=["online", "degraded", "offline", "disabled"], entity_category="diagnostic",
           icon="mdi:cctv", value_fn="camera_state"),
    entity("lag", "sensor", "camera", ["lag_s"], device_class="duration", unit="s",
           state_class="measurement", entity_category="diagnostic", icon="mdi:timer-sand"),
    entity("analysis_dropped", "sensor", "camera", ["analysis_dropped_pct"], unit="%",
           state_class="measurement", entity_category="diagnostic", icon="mdi:filmstrip-off"),
    entity("detection_rate", "sensor", "camera", ["detection_rate"], unit="fps",
           state_class="measurement", entity_category="diagnostic", icon="mdi:account-search"),
    entity("detection_delay", "sensor", "camera", ["detection_delay_s"],
           device_class="duration", unit="s", state_class="measurement",
           entity_category="diagnostic", icon="mdi:timer-sand-paused"),
    entity("last_heartbeat", "sensor", "camera", ["last_heartbeat"], device_class="timestamp",
           entity_category="diagnostic", enabled_default=False, icon="mdi:heart-pulse"),
    *(entity(f"{cls}_count", "sensor", "camera", ["last_alert", "objects"],
             state_class="measurement", value_fn="alert_object_count", alert_class=cls,
             icon=icon)
      for cls, icon in OBJECT_ICONS.items()),
    # Camera binary sensors
    entity("motion", "binary_sensor", "camera", ["last_alert", "timestamp"],
           device_class="motion", push=True),
    *(entity(cls, "binary_sensor", "camera", ["last_alert", "objects"],
             device_class="occupancy", push=True, icon=icon, alert_class=cls)
      for cls, icon in OBJECT_ICONS.items()),
    entity("online", "binary_sensor", "camera", ["healthy"], device_class="connectivity",
           entity_category="diagnostic", value_fn="online_while_reachable",
           available_fn="camera_known"),
    # Camera switch, event and image
    entity("enabled", "switch", "camera", ["enabled"], entity_category="config",
           icon="mdi:cctv"),
    # Fires the activity type of each alert, and `started` / `ended` for each live event.
    entity("alert", "event", "camera", ["last_alert"],
           event_types=[*ACTIVITY_TYPES, *LIVE_EVENT_FIRED],
           device_class=None, icon="mdi:alarm-light"),
    entity("last_alert_snapshot", "image", "camera", ["last_alert", "clip_id"],
           icon="mdi:image"),
    # The live camera: picture and stream from the engine; available while it is healthy
    # (or switched off, so it can be switched on again); on/off is the `enabled` flag.
    entity("live", "camera", "camera", ["healthy"], icon="mdi:cctv"),
]
