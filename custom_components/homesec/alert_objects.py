"""What an alert found, read the same way by sensors and device triggers."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


def _objects(alert: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    objects = alert.get("objects")
    return [o for o in objects if isinstance(o, Mapping)] if isinstance(objects, list) else []


def alert_classes(alert: Mapping[str, Any]) -> set[str]:
    """Classes of the alert's per-object results.

    An alert always has objects of a trigger class; one without any comes from an engine
    (or a clip stored) before per-object results: its detected classes stand in.
    """
    if objects := _objects(alert):
        # A class that only stood still (count 0, a parked car) is not what alerted.
        return {str(o.get("class")) for o in objects if o.get("count", 1)}
    return {str(c) for c in alert.get("detected_objects") or []}


def alert_count(alert: Mapping[str, Any], detected_class: str) -> int:
    """How many of `detected_class` the alert found (0 when none).

    Without per-object results (see alert_classes) a detected class counts as one.
    """
    objects = _objects(alert)
    if not objects:
        return int(detected_class in (alert.get("detected_objects") or []))
    for obj in objects:
        if obj.get("class") == detected_class:
            return int(obj.get("count") or 0)
    return 0


def alert_stationary(alert: Mapping[str, Any], detected_class: str) -> int:
    """How many of `detected_class` stood still in the alert's clip (0 when unknown)."""
    for obj in _objects(alert):
        if obj.get("class") == detected_class:
            return int(obj.get("stationary") or 0)
    return 0


def alert_zones(alert: Mapping[str, Any]) -> set[str]:
    return {str(z) for z in alert.get("zones") or []}
