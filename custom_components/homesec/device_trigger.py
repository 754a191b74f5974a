"""Device triggers: "a camera raised an alert", optionally by activity type, risk level,
detected class and zone; "activity started / ended" also by tier (alert or detection).

They listen to the coordinator's SIGNAL_ALERT, which fires exactly once per clip however
the alert arrived (Events API bus event and/or the engine's WebSocket), so an automation
runs once per alert. The trigger variables carry the alert and signed, expiring snapshot
and clip URLs a phone can open without an HA login.
"""

from __future__ import annotations

from typing import Any, Final

from homeassistant.components.device_automation import DEVICE_TRIGGER_BASE_SCHEMA
from homeassistant.components.device_automation.exceptions import (
    InvalidDeviceAutomationConfig,
)
from homeassistant.const import CONF_DEVICE_ID, CONF_DOMAIN, CONF_PLATFORM, CONF_TYPE
from homeassistant.core import CALLBACK_TYPE, HassJob, HomeAssistant, callback
from homeassistant.helpers import device_registry as dr
from homeassistant.helpers.dispatcher import async_dispatcher_connect
from homeassistant.helpers.trigger import TriggerActionType, TriggerData, TriggerInfo
from homeassistant.helpers.typing import ConfigType

from .alert_objects import alert_classes, alert_zones
from .compat import vol
from .compat import device_config_entry_ids, parent_device_id
from .const import DOMAIN, SIGNAL_ALERT, SIGNAL_LIVE_EVENT
from .generated.schema_data import ACTIVITY_TYPES, DETECTION_CLASSES, RISK_LEVELS
from .views import async_signed_alert_urls

TRIGGER_TYPE_ALERT: Final = "alert"
# A live event's start (a trigger class seen) and its end (also when interrupted).
TRIGGER_TYPE_STARTED: Final = "event_started"
TRIGGER_TYPE_ENDED: Final = "event_ended"
TRIGGER_TYPES: Final = (TRIGGER_TYPE_ALERT, TRIGGER_TYPE_STARTED, TRIGGER_TYPE_ENDED)
CONF_ACTIVITY_TYPE: Final = "activity_type"
CONF_MIN_RISK_LEVEL: Final = "min_risk_level"
CONF_DETECTED_CLASS: Final = "detected_class"
CONF_ZONE: Final = "zone"
CONF_TIER: Final = "tier"
TIERS: Final = ("alert", "detection")

TRIGGER_SCHEMA: Final = DEVICE_TRIGGER_BASE_SCHEMA.extend(
    {
        vol.Required(CONF_TYPE): vol.In(TRIGGER_TYPES),
        vol.Optional(CONF_ACTIVITY_TYPE): vol.In(ACTIVITY_TYPES),
        vol.Optional(CONF_MIN_RISK_LEVEL): vol.In(RISK_LEVELS),
        vol.Optional(CONF_DETECTED_CLASS): vol.In(DETECTION_CLASSES),
        # Any name: a zone may be added to the camera after the automation was written.
        vol.Optional(CONF_ZONE): str,
        # An event's tier: an alert (notified) or a detection (recorded, not notified).
        vol.Optional(CONF_TIER): vol.In(TIERS),
    }
)


def camera_of_device(hass: HomeAssistant, device_id: str) -> tuple[str, str] | None:
    """(config entry id, camera name) of a HomeSec camera device; None for the hub."""
    device = dr.async_get(hass).async_get(device_id)
    if device is None or parent_device_id(device) is None:
        return None
    for domain, identifier in device.identifiers:
        if domain != DOMAIN:
            continue
        for entry_id in device_config_entry_ids(device):
            prefix = f"{entry_id}_"
            if identifier.startswith(prefix):
                return entry_id, identifier.removeprefix(prefix)
    return None


async def async_get_triggers(
    hass: HomeAssistant, device_id: str
) -> list[dict[str, Any]]:
    """`alert`, `event_started` and `event_ended` triggers per camera device."""
    if camera_of_device(hass, device_id) is None:
        return []
    return [
        {
            CONF_PLATFORM: "device",
            CONF_DOMAIN: DOMAIN,
            CONF_DEVICE_ID: device_id,
            CONF_TYPE: trigger_type,
        }
        for trigger_type in TRIGGER_TYPES
    ]


async def async_get_trigger_capabilities(
    hass: HomeAssistant, config: ConfigType
) -> dict[str, vol.Schema]:
    """The optional filters the automation editor offers (zones: the camera's own)."""
    fields: dict[vol.Marker, Any] = {
        vol.Optional(CONF_ACTIVITY_TYPE): vol.In(ACTIVITY_TYPES),
        vol.Optional(CONF_MIN_RISK_LEVEL): vol.In(RISK_LEVELS),
        vol.Optional(CONF_DETECTED_CLASS): vol.In(DETECTION_CLASSES),
    }
    if config.get(CONF_TYPE) in (TRIGGER_TYPE_STARTED, TRIGGER_TYPE_ENDED):
        fields[vol.Optional(CONF_TIER)] = vol.In(TIERS)  # an alert is always of tier alert
    if zones := _camera_zones(hass, config[CONF_DEVICE_ID]):
        fields[vol.Optional(CONF_ZONE)] = vol.In(zones)
    return {"extra_fields": vol.Schema(fields)}


def _camera_zones(hass: HomeAssistant, device_id: str) -> list[str]:
    """Names of the zones the device's camera has (from the latest poll)."""
    target = camera_of_device(hass, device_id)
    if target is None:
        return []
    entry = hass.config_entries.async_get_entry(target[0])
    runtime = getattr(entry, "runtime_data", None) if entry is not None else None
    camera = runtime.coordinator.camera(target[1]) if runtime is not None else None
    return [str(z["name"]) for z in (camera or {}).get("zones") or []]


def _risk_rank(level: object) -> int:
    return RISK_LEVELS.index(level) if level in RISK_LEVELS else -1


def alert_matches(config: ConfigType, alert: dict[str, Any]) -> bool:
    """Whether an alert passes the trigger's activity and risk filters."""
    if (activity := config.get(CONF_ACTIVITY_TYPE)) and alert.get("activity_type") != activity:
        return False
    if (minimum := config.get(CONF_MIN_RISK_LEVEL)) and _risk_rank(
        alert.get("risk_level")
    ) < _risk_rank(minimum):
        return False
    if (wanted := config.get(CONF_DETECTED_CLASS)) and wanted not in alert_classes(alert):
        return False
    if (zone := config.get(CONF_ZONE)) and zone not in alert_zones(alert):
        return False
    # An engine from before tiers sends none: everything was an alert.
    if (tier := config.get(CONF_TIER)) and (alert.get("tier") or "alert") != tier:
        return False
    return True


async def async_attach_trigger(
    hass: HomeAssistant,
    config: ConfigType,
    action: TriggerActionType,
    trigger_info: TriggerInfo,
) -> CALLBACK_TYPE:
    """Run `action` for each matching alert of this camera."""
    device_id: str = config[CONF_DEVICE_ID]
    target = camera_of_device(hass, device_id)
    if target is None:
        raise InvalidDeviceAutomationConfig(f"{device_id} is not a HomeSec camera")
    entry_id, camera = target
    job = HassJob(action, f"homesec {config[CONF_TYPE]} trigger {trigger_info}")
    trigger_data = trigger_info["trigger_data"]
    if config[CONF_TYPE] != TRIGGER_TYPE_ALERT:
        return _attach_live_event(hass, config, job, trigger_data, entry_id, camera)

    @callback
    def _on_alert(alert_camera: str, alert: dict[str, Any]) -> None:
        if alert_camera != camera or not alert_matches(config, alert):
            return
        urls = async_signed_alert_urls(hass, entry_id, str(alert.get("clip_id")))
        hass.async_run_hass_job(
            job,
            {
                "trigger": {
                    **trigger_data,
                    CONF_PLATFORM: "device",
                    CONF_DOMAIN: DOMAIN,
                    CONF_DEVICE_ID: device_id,
                    CONF_TYPE: TRIGGER_TYPE_ALERT,
                    "camera": camera,
                    "alert": dict(alert),
                    "clip_id": alert.get("clip_id"),
                    "activity_type": alert.get("activity_type"),
                    "risk_level": alert.get("risk_level"),
                    "summary": alert.get("summary"),
                    "objects": list(alert.get("objects") or []),
                    "zones": list(alert.get("zones") or []),
                    **urls,
                    "description": f"HomeSec alert on {camera}",
                }
            },
        )

    return async_dispatcher_connect(
        hass, SIGNAL_ALERT.format(entry_id=entry_id), _on_alert
    )


def _attach_live_event(
    hass: HomeAssistant,
    config: ConfigType,
    job: HassJob[..., Any],
    trigger_data: TriggerData,
    entry_id: str,
    camera: str,
) -> CALLBACK_TYPE:
    """Run the job at a live event's start or end (the same filters as for alerts)."""
    wanted = ("started",) if config[CONF_TYPE] == TRIGGER_TYPE_STARTED else (
        "ended", "interrupted")

    @callback
    def _on_event(event_camera: str, event: dict[str, Any]) -> None:
        if event_camera != camera or event.get("phase") not in wanted:
            return
        # Read like an alert (the same field names): its classes, objects and zones so far.
        if not alert_matches(config, event):
            return
        urls = async_signed_alert_urls(hass, entry_id, str(event.get("clip_id")))
        hass.async_run_hass_job(
            job,
            {
                "trigger": {
                    **trigger_data,
                    CONF_PLATFORM: "device",
                    CONF_DOMAIN: DOMAIN,
                    CONF_DEVICE_ID: config[CONF_DEVICE_ID],
                    CONF_TYPE: config[CONF_TYPE],
                    "camera": camera,
                    "event": dict(event),
                    "clip_id": event.get("clip_id"),
                    "detected_objects": list(event.get("detected_objects") or []),
                    "zones": list(event.get("zones") or []),
                    "tier": event.get("tier"),
                    "risk_level": event.get("risk_level"),
                    "summary": event.get("summary"),
                    "end_reason": event.get("end_reason"),
                    "duration_s": event.get("duration_s"),
                    **urls,
                    "description": f"HomeSec activity {event.get('phase')} on {camera}",
                }
            },
        )

    return async_dispatcher_connect(
        hass, SIGNAL_LIVE_EVENT.format(entry_id=entry_id), _on_event
    )
