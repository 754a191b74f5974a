"""Zones and masks: polygons in frame fractions, and which detections count for a camera.

Pure geometry and bookkeeping (no I/O). A detection is *in* a zone when its foot point (the
middle of its box's bottom edge, where a person or a car touches the ground) lies inside the
zone's polygon. When a camera has zones, only detections inside a zone whose classes include
the detection's class count (a zone with no classes takes every trigger class); without zones
every detection counts.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from .records import Detection

Polygon = Sequence[Sequence[float]]  # [[x, y], ...] as fractions of the frame


def foot_point(box: Sequence[float]) -> tuple[float, float]:
    """(x + w/2, y + h): the middle of the box's bottom edge."""
    x, y, w, h = box
    return x + w / 2, y + h


def point_in_polygon(point: tuple[float, float], polygon: Polygon) -> bool:
    """Even-odd rule: a horizontal ray from the point crosses the outline an odd number of times."""
    px, py = point
    inside = False
    count = len(polygon)
    for i in range(count):
        x0, y0 = polygon[i][0], polygon[i][1]
        x1, y1 = polygon[(i + 1) % count][0], polygon[(i + 1) % count][1]
        if (y0 > py) != (y1 > py):
            cross_x = x0 + (py - y0) * (x1 - x0) / (y1 - y0)
            if px < cross_x:
                inside = not inside
    return inside


def polygon_mask(height: int, width: int, polygons: Iterable[Polygon]) -> np.ndarray:
    """Boolean HxW array, True for pixels whose centre lies in any of the polygons."""
    mask = np.zeros((height, width), dtype=bool)
    if height <= 0 or width <= 0:
        return mask
    xs = (np.arange(width, dtype=np.float64) + 0.5) / width
    ys = (np.arange(height, dtype=np.float64) + 0.5) / height
    for polygon in polygons:
        inside = np.zeros((height, width), dtype=bool)
        count = len(polygon)
        for i in range(count):
            x0, y0 = float(polygon[i][0]), float(polygon[i][1])
            x1, y1 = float(polygon[(i + 1) % count][0]), float(polygon[(i + 1) % count][1])
            if y0 == y1:
                continue  # a horizontal edge is never crossed by a horizontal ray
            rows = (ys > min(y0, y1)) & (ys <= max(y0, y1))
            if not rows.any():
                continue
            cross_x = x0 + (ys[rows] - y0) * (x1 - x0) / (y1 - y0)
            inside[rows] ^= xs[None, :] < cross_x[:, None]
        mask |= inside
    return mask


@dataclass(frozen=True, slots=True)
class Zone:
    name: str
    points: tuple[tuple[float, float], ...]
    classes: frozenset[str]  # empty: every trigger class


class CameraZones:
    """The zones of one camera (validated `zones` config) and the classes that trigger."""

    def __init__(self, zones: Iterable[Mapping[str, Any]], trigger_classes: Iterable[str]) -> None:
        self.zones = tuple(
            Zone(str(z["name"]), tuple((float(p[0]), float(p[1])) for p in z["points"]),
                 frozenset(z.get("classes") or ()))
            for z in zones
        )
        self.trigger_classes = frozenset(trigger_classes)

    def __bool__(self) -> bool:
        return bool(self.zones)

    def zones_of(self, detection: Detection) -> list[str]:
        """Names of the zones this detection counts in (in config order)."""
        if detection.box is None:
            return []
        foot = foot_point(detection.box)
        return [
            zone.name for zone in self.zones
            if detection.label in (zone.classes or self.trigger_classes)
            and point_in_polygon(foot, zone.points)
        ]

    def counts(self, detection: Detection) -> bool:
        """Whether the detection counts for this camera (always, when it has no zones)."""
        return not self.zones or bool(self.zones_of(detection))

    def zones_hit(self, detections: Iterable[Detection]) -> list[str]:
        """Zones any of these detections is in, in config order."""
        hit: set[str] = set()
        for detection in detections:
            hit.update(self.zones_of(detection))
        return [zone.name for zone in self.zones if zone.name in hit]


def summarize_objects(detections: Iterable[Detection]) -> list[dict[str, Any]]:
    """Per class: how many were seen together, the best confidence, and their boxes.

    `count` is the most detections of the class in one sampled frame (a person seen in ten
    frames is one person), and `boxes` are that frame's boxes (ties: the frame with the
    best confidence). Classes come in order of their best confidence, highest first.
    """
    by_class: dict[str, dict[int, list[Detection]]] = {}
    for det in detections:
        by_class.setdefault(det.label, {}).setdefault(det.frame_index, []).append(det)
    out: list[dict[str, Any]] = []
    for label, frames in by_class.items():
        best = max(d.confidence for dets in frames.values() for d in dets)
        frame = max(frames.values(), key=lambda dets: (len(dets), max(d.confidence for d in dets)))
        out.append({
            "class": label,
            "count": len(frame),
            "confidence": round(best, 4),
            "boxes": [[round(float(v), 4) for v in d.box]
                      for d in sorted(frame, key=lambda d: -d.confidence) if d.box is not None],
        })
    out.sort(key=lambda o: (-float(o["confidence"]), str(o["class"])))
    return out
