"""The tracker's settings, read from the validated `tracking` config section.

The defaults and limits are declared once, in the schema (`TrackingConfig`); this only turns
the validated dict into typed values, so a tracker made without a config uses the same
defaults a fresh install gets.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ..schema.validate import validate


@dataclass(frozen=True, slots=True)
class TrackerSettings:
    iou_min: float
    max_distance: float
    max_missing_s: float
    stationary_keep_s: float
    stationary_s: float
    stationary_move: float
    max_tracks: int
    class_stationary_s: dict[str, float] = field(default_factory=dict)
    activity_priority: tuple[str, ...] = ()
    min_hits: int = 1

    @classmethod
    def from_config(cls, tracking: dict[str, Any] | None = None, *, min_hits: int = 1
                    ) -> TrackerSettings:
        """From the `tracking` section (validated here: defaults filled, bad values refused
        with a SchemaValidationError naming the field). `min_hits` is the filter's."""
        data = validate("TrackingConfig", dict(tracking or {}), prefix="tracking")
        return cls(
            iou_min=float(data["iou_min"]), max_distance=float(data["max_distance"]),
            max_missing_s=float(data["max_missing_s"]),
            stationary_keep_s=float(data["stationary_keep_s"]),
            stationary_s=float(data["stationary_s"]),
            stationary_move=float(data["stationary_move"]),
            max_tracks=int(data["max_tracks"]),
            class_stationary_s={str(k): float(v)
                                for k, v in data["class_stationary_s"].items()},
            activity_priority=tuple(data["activity_priority"]),
            min_hits=max(1, int(min_hits)))

    def stationary_after(self, label: str) -> float | None:
        """Seconds without moving after which `label` counts as stationary (None: never)."""
        seconds = self.class_stationary_s.get(label, self.stationary_s)
        return seconds if seconds > 0 else None
