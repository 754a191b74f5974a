"""Frame-difference motion detection on small grayscale frames (pure: numpy in, decisions out).

The rtsp source feeds one analysis frame per decoded video frame with its stream time. A frame
"moves" when enough pixels changed enough since the previous frame; motion is *confirmed* once
moving frames have gone on for ``min_motion_s`` (short gaps tolerated), which filters out
single-frame flicker (compression pops, insects, IR switching).

Motion masks (polygons in frame fractions: a tree in the wind, a timestamp overlay) are left
out of the comparison: their pixels neither count as changed nor towards the frame's area.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..zones import Polygon, polygon_mask

# Sensitivity 0..1 maps onto these ranges (higher sensitivity = smaller thresholds).
_PIXEL_DELTA_RANGE = (18, 60)  # grey levels; 18 keeps ordinary sensor noise out even at 1.0
_AREA_FRACTION_RANGE = (0.0005, 0.05)  # share of changed pixels for a frame to count as moving


@dataclass(frozen=True, slots=True)
class Thresholds:
    pixel_delta: int
    area_fraction: float


def thresholds_for(sensitivity: float) -> Thresholds:
    """Map sensitivity (0 = least, 1 = most sensitive) to pixel and area thresholds.

    The area threshold moves on a log scale: each step in sensitivity matters as much at the
    sensitive end as at the coarse end.
    """
    s = min(1.0, max(0.0, float(sensitivity)))
    lo_px, hi_px = _PIXEL_DELTA_RANGE
    lo_area, hi_area = _AREA_FRACTION_RANGE
    pixel_delta = round(hi_px - s * (hi_px - lo_px))
    area = float(np.exp(np.log(hi_area) - s * (np.log(hi_area) - np.log(lo_area))))
    return Thresholds(pixel_delta, area)


def changed_fraction(prev: np.ndarray, cur: np.ndarray, pixel_delta: int,
                     watched: np.ndarray | None = None) -> float:
    """Share of pixels whose grey level changed by more than ``pixel_delta`` (0..1).

    ``watched``: a boolean array of the frame's shape, False where a motion mask lies; the
    share is then of the watched pixels only.
    """
    if prev.shape != cur.shape or cur.size == 0:
        return 0.0
    # uint8 wrap-around trick: |a-b| without widening = max(a-b, b-a) with saturating math.
    diff = np.maximum(cur, prev) - np.minimum(cur, prev)
    changed = diff > pixel_delta
    if watched is None:
        return float(np.count_nonzero(changed)) / cur.size
    area = int(np.count_nonzero(watched))
    return float(np.count_nonzero(changed & watched)) / area if area else 0.0


def downscale_gray(luma: np.ndarray, analysis_width: int) -> np.ndarray:
    """Cheap analysis frame from a full-resolution luma plane: integer-step subsampling.

    Aliasing does not matter for change detection, and a strided view costs next to nothing
    compared with a proper resize.
    """
    step = max(1, luma.shape[1] // max(1, analysis_width))
    return np.ascontiguousarray(luma[::step, ::step])


@dataclass(frozen=True, slots=True)
class MotionUpdate:
    moving: bool  # this frame differs enough from the previous one
    confirmed: bool  # a motion run has lasted min_motion_s (stays True until the run ends)
    run_start: float | None  # stream time of the first moving frame of the current run
    last_motion: float | None  # stream time of the latest moving frame


class MotionDetector:
    """Stateful detector: feed ``update(gray, t)`` with increasing stream times in seconds."""

    def __init__(
        self, sensitivity: float = 0.5, min_motion_s: float = 0.5, gap_tolerance_s: float = 0.5,
        masks: list[Polygon] | None = None,
    ) -> None:
        self.thresholds = thresholds_for(sensitivity)
        self.masks = list(masks or [])
        self._watched: np.ndarray | None = None  # built for the frame size on first use
        self.min_motion_s = max(0.0, float(min_motion_s))
        self.gap_tolerance_s = max(0.0, float(gap_tolerance_s))
        self._prev: np.ndarray | None = None
        self._run_start: float | None = None
        self._last_motion: float | None = None

    def reset(self) -> None:
        """Forget the previous frame and any run (after a reconnect the scene may have jumped)."""
        self._prev = None
        self._run_start = None
        self._last_motion = None

    def _watched_for(self, gray: np.ndarray) -> np.ndarray | None:
        """The pixels outside every mask, for this frame size (None: no masks)."""
        if not self.masks:
            return None
        if self._watched is None or self._watched.shape != gray.shape[:2]:
            self._watched = ~polygon_mask(gray.shape[0], gray.shape[1], self.masks)
        return self._watched

    def update(self, gray: np.ndarray, t: float) -> MotionUpdate:
        prev, self._prev = self._prev, gray
        moving = (
            prev is not None
            and changed_fraction(prev, gray, self.thresholds.pixel_delta, self._watched_for(gray))
            >= self.thresholds.area_fraction
        )
        if moving:
            gap_ok = self._last_motion is not None and t - self._last_motion <= self.gap_tolerance_s
            if self._run_start is None or not gap_ok:
                self._run_start = t
            self._last_motion = t
        elif self._last_motion is not None and t - self._last_motion > self.gap_tolerance_s:
            self._run_start = None  # the run is over; last_motion is kept for post-roll
        confirmed = self._run_start is not None and (
            self._last_motion is not None
            and self._last_motion - self._run_start >= self.min_motion_s
        )
        return MotionUpdate(moving, confirmed, self._run_start, self._last_motion)
