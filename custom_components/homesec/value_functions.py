"""Entity values a path into the status data cannot express, by the names the schema uses.

An entity spec in homesec_engine/schema/entities.py names one of these as `value_fn` or
`available_fn`; the platforms look the name up here, so no platform class branches on keys.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from .alert_objects import alert_classes, alert_count

if TYPE_CHECKING:
    from .entity import HomeSecEntity


def camera_state(entity: HomeSecEntity) -> str | None:
    """online / degraded / offline / disabled: what a user asks of a camera first."""
    camera = entity.camera_data
    return None if camera is None else camera_health(camera)


def camera_health(camera: Mapping[str, Any]) -> str:
    """A camera's state from its /status entry (the health sensor, Assist's answer)."""
    if not camera["enabled"]:
        return "disabled"
    if not camera["healthy"]:
        return "offline"
    return "degraded" if camera.get("degraded") else "online"


def count_once_known(entity: HomeSecEntity) -> Any:
    """A counter, unknown while the engine's database was down since start-up."""
    if not entity.coordinator.complete:
        return None
    return entity.raw_value


def online_while_reachable(entity: HomeSecEntity) -> bool:
    """Connected only while the engine answers and says the camera is healthy."""
    return bool(entity.coordinator.last_update_success and entity.raw_value)


def alert_object_count(entity: HomeSecEntity) -> int | None:
    """How many of the spec's `alert_class` the latest alert found (unknown before any)."""
    camera = entity.camera_data
    alert = camera.get("last_alert") if camera else None
    detected_class = getattr(entity.entity_description, "alert_class", None)
    if alert is None or detected_class is None:
        return None
    return alert_count(alert, detected_class)


def camera_known(entity: HomeSecEntity) -> bool:
    """Available as long as the camera exists, also while the engine is unreachable (then off)."""
    return entity.camera_data is not None


VALUE_FUNCTIONS: Mapping[str, Callable[[HomeSecEntity], Any]] = {
    "camera_state": camera_state,
    "count_once_known": count_once_known,
    "online_while_reachable": online_while_reachable,
    "alert_object_count": alert_object_count,
}
AVAILABLE_FUNCTIONS: Mapping[str, Callable[[HomeSecEntity], bool]] = {
    "camera_known": camera_known,
}


def alert_matches(alert_class: str | None, alert: Mapping[str, Any]) -> bool:
    """A push entity with an `alert_class` turns on only for alerts that detected it."""
    return alert_class is None or alert_class in alert_classes(alert)
