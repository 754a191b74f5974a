"""What an alert found, read the same way by sensors and device triggers."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


def alert_classes(alert: Mapping[str, Any]) -> set[str]:
    """Classes of the alert's per-object results (an older engine: its detected classes)."""
    objects = alert.get("objects")
    if isinstance(objects, list):
        return {str(o.get("class")) for o in objects if isinstance(o, Mapping)}
    return {str(c) for c in alert.get("detected_objects") or []}


def alert_count(alert: Mapping[str, Any], detected_class: str) -> int:
    """How many of `detected_class` the alert found (0 when none)."""
    for obj in alert.get("objects") or []:
        if isinstance(obj, Mapping) and obj.get("class") == detected_class:
            return int(obj.get("count") or 0)
    return 0


def alert_zones(alert: Mapping[str, Any]) -> set[str]:
    return {str(z) for z in alert.get("zones") or []}
