"""Regions of interest: where to look again at the model's own resolution.

A whole 1080p frame letterboxed into a 416-pixel model shrinks everything 4.6 times, so a
person 40 pixels tall becomes 9 model pixels and is lost. The best NVRs also run the model on
crops around what moves and around what was seen before; this module plans those crops.

The API (all boxes are (x, y, w, h) in frame pixels):

- `motion_boxes(previous, current)`: boxes around what changed between two RGB frames of the
  same size (a coarse cell grid, so sensor noise and small flicker do not count; a change of
  the whole view, a pan or the lights, gives none).
- `plan_regions(boxes, frame_w, frame_h, model_w, model_h, limit)`: crops to run the model on.
  Each box is grown by a margin and to at least the model's input size (so the crop is seen
  1:1, never upscaled), boxes whose crops overlap are merged, and at most `limit` crops are kept
  (largest evidence first). A crop that covers most of the frame is dropped: the whole-frame
  pass already sees it at nearly that scale.
- `RegionPlanner`: the state one stream needs (the previous frame and the last boxes seen);
  `planner.regions(rgb, seen)` gives the crops for this frame from motion since the previous
  frame and from `seen` (tracks, detections of the previous frame, any confidence).
- `to_frame(boxes, region)`: boxes found in a crop (fractions of the crop) as fractions of
  the frame.

Callers: `DetectorFilter.detect(rgb, regions=...)` (backend.py) for clips and live frames; the
live scheduler can call the planner itself to share one inference budget across cameras.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import numpy as np

Box = tuple[float, float, float, float]  # x, y, w, h in frame pixels

# Motion: frames compared on a grid of CELL-pixel cells (grey mean per cell); a cell whose mean
# changed by more than CHANGE grey levels moved. Means over a cell average sensor noise away.
CELL = 16
CHANGE = 12.0
# A crop larger than this share of the frame's area is left to the whole-frame pass.
MAX_SHARE = 0.6


def cell_means(rgb: np.ndarray, cell: int = CELL) -> np.ndarray:
    """Mean green level (a luminance proxy) per cell, read from every 4th pixel: cheap."""
    step = 4 if cell % 4 == 0 else 1
    green = rgb[::step, ::step, 1].astype(np.float32)
    size = cell // step
    gh, gw = green.shape[0] // size, green.shape[1] // size
    means: np.ndarray = green[: gh * size, : gw * size].reshape(gh, size, gw, size).mean(
        axis=(1, 3))
    return means


def motion_boxes(previous: np.ndarray, current: np.ndarray, cell: int = CELL,
                 change: float = CHANGE) -> list[Box]:
    """Boxes around the groups of cells that changed between two frames of one size (RGB
    frames, or their `cell_means`)."""
    if previous.shape != current.shape:
        return []
    if previous.ndim == 3:
        previous, current = cell_means(previous, cell), cell_means(current, cell)
    # A change of light or exposure scales every cell alike: undo the median gain first.
    gain = float(np.median(current)) / max(1.0, float(np.median(previous)))
    moved = np.abs(current - previous * gain) > change
    if moved.mean() > MAX_SHARE:  # the whole view changed (a pan, a light): no one place
        return []
    return [(float(x * cell), float(y * cell), float(w * cell), float(h * cell))
            for x, y, w, h in _groups(_dilate(moved))]


def _dilate(mask: np.ndarray) -> np.ndarray:
    """Each cell and its 8 neighbours: one moving subject rarely changes every cell it covers."""
    padded = np.pad(mask, 1)
    out = np.zeros_like(mask)
    for dy in range(3):
        for dx in range(3):
            out |= padded[dy:dy + mask.shape[0], dx:dx + mask.shape[1]]
    return out


def _groups(mask: np.ndarray) -> list[tuple[int, int, int, int]]:
    """Bounding boxes (x, y, w, h in cells) of 8-connected groups of True cells."""
    seen = np.zeros_like(mask)
    out = []
    for y0, x0 in zip(*np.nonzero(mask), strict=True):
        if seen[y0, x0]:
            continue
        stack, seen[y0, x0] = [(y0, x0)], True
        ys, xs = [y0], [x0]
        while stack:
            y, x = stack.pop()
            for ny in range(max(0, y - 1), min(mask.shape[0], y + 2)):
                for nx in range(max(0, x - 1), min(mask.shape[1], x + 2)):
                    if mask[ny, nx] and not seen[ny, nx]:
                        seen[ny, nx] = True
                        stack.append((ny, nx))
                        ys.append(ny)
                        xs.append(nx)
        out.append((int(min(xs)), int(min(ys)), int(max(xs) - min(xs) + 1),
                    int(max(ys) - min(ys) + 1)))
    return out


def _grow(box: Box, frame_w: int, frame_h: int, min_w: int, min_h: int, margin: float) -> Box:
    x, y, w, h = box
    cx, cy = x + w / 2, y + h / 2
    w, h = min(frame_w, max(min_w, w * (1 + margin))), min(frame_h, max(min_h, h * (1 + margin)))
    x = min(max(0.0, cx - w / 2), frame_w - w)
    y = min(max(0.0, cy - h / 2), frame_h - h)
    return (x, y, w, h)


def _overlap(a: Box, b: Box) -> bool:
    return a[0] < b[0] + b[2] and b[0] < a[0] + a[2] and a[1] < b[1] + b[3] and b[1] < a[1] + a[3]


def _union(a: Box, b: Box) -> Box:
    x1, y1 = min(a[0], b[0]), min(a[1], b[1])
    x2, y2 = max(a[0] + a[2], b[0] + b[2]), max(a[1] + a[3], b[1] + b[3])
    return (x1, y1, x2 - x1, y2 - y1)


def plan_regions(boxes: Iterable[Box], frame_w: int, frame_h: int, model_w: int, model_h: int,
                 limit: int = 1, margin: float = 0.25) -> list[Box]:
    """Crops (x, y, w, h in frame pixels) to run the model on, at most `limit`, merged."""
    # The crop keeps the model's aspect, so it fills the input without letterbox bars.
    aspect = model_w / model_h
    crops = []
    for box in sorted(boxes, key=lambda b: -b[2] * b[3]):
        x, y, w, h = _grow(box, frame_w, frame_h, model_w, model_h, margin)
        crops.append(_grow((x, y, w, h), frame_w, frame_h, round(h * aspect), round(w / aspect),
                           0.0))
    merged = True
    while merged:  # merge until no two crops overlap
        merged = False
        for i in range(len(crops)):
            for j in range(i + 1, len(crops)):
                if _overlap(crops[i], crops[j]):
                    crops[i] = _grow(_union(crops[i], crops[j]), frame_w, frame_h, 0, 0, 0.0)
                    del crops[j]
                    merged = True
                    break
            if merged:
                break
    keep = [c for c in crops if c[2] * c[3] <= MAX_SHARE * frame_w * frame_h]
    return [tuple(round(v) for v in c) for c in keep[:limit]]  # type: ignore[misc]


def crop(rgb: np.ndarray, region: Box) -> np.ndarray:
    x, y, w, h = (int(v) for v in region)
    return rgb[y:y + h, x:x + w]


def to_frame(fractions: np.ndarray, region: Box, frame_w: int, frame_h: int) -> np.ndarray:
    """Boxes (x, y, w, h as fractions of the crop) as fractions of the whole frame."""
    x, y, w, h = region
    out = fractions.astype(np.float64).copy()
    out[:, 0] = (x + out[:, 0] * w) / frame_w
    out[:, 1] = (y + out[:, 1] * h) / frame_h
    out[:, 2] = out[:, 2] * w / frame_w
    out[:, 3] = out[:, 3] * h / frame_h
    return out


@dataclass(slots=True)
class RegionPlanner:
    """Per stream: crops for the next frame from motion since the last one and from `seen`."""

    model_w: int
    model_h: int
    limit: int = 1
    _previous: np.ndarray | None = field(default=None, repr=False)

    def regions(self, rgb: np.ndarray, seen: Sequence[Box] = ()) -> list[Box]:
        frame_h, frame_w = rgb.shape[:2]
        if frame_w <= self.model_w * 1.25 and frame_h <= self.model_h * 1.25:
            return []  # the whole-frame pass already sees the frame at about 1:1
        previous, self._previous = self._previous, cell_means(rgb)
        boxes = list(seen)
        if previous is not None:
            boxes += motion_boxes(previous, self._previous)
        return plan_regions(boxes, frame_w, frame_h, self.model_w, self.model_h, self.limit)

    def reset(self) -> None:
        self._previous = None
