"""The built-in detector: classical computer vision, no model file, works out of the box.

How it sees (on small RGB frames sampled from the clip):

1. Background: the empty scene, rebuilt from the clip's first and last sampled frames. Where
   they agree, that is the background (a subject passing in between leaves both ends alone).
   Where they differ, a subject stands there at one end of the clip; per such region, the end
   whose picture continues smoothly into the surrounding background is the empty one (the
   other shows the subject's edge). Unlike a temporal median this holds for big, slow
   subjects that cover a spot for most of the clip.
2. Foreground: pixels whose colour differs from the background by more than a threshold,
   cleaned on a coarse grid of 4x4-pixel cells (isolated noisy cells fall away).
3. Blobs: 8-connected groups of foreground cells, measured exactly on the pixel mask.
4. Classes by shape, size and place, in frame fractions:
   - tall upright blob (height >= 1.4 x width)                      -> person
   - wide, low blob of some size (width >= 1.25 x height, >= 2.5 %)  -> vehicle
   - small, low-lying, wider-than-tall blob in the lower half      -> animal
   - small, compact, square-ish box in the lower half              -> package
   - anything else of reasonable size                              -> object
   A blob cut by the left or right edge of the picture is only partly visible: its shape says
   little, so it is not reported until it is wholly in view (whatever the thresholds, which
   are calibrated for the trained detector).

It is a heuristic, not a trained model: it recognises the demo camera's subjects and similar
clean scenes. Users with real cameras point the `model_file` backend at a model of their own.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Sequence
from typing import Any, ClassVar

import numpy as np

from ..records import Detection
from .base import ObjectFilter
from .frames import SampledFrame

CELL = 4  # px; the foreground grid's cell size
PIXEL_DELTA = 35  # colour distance from the background that counts as foreground
CELL_FILL = 0.4  # share of foreground pixels for a cell to count
MIN_AREA = 0.003  # blobs smaller than this share of the frame are noise


class BuiltinDetector(ObjectFilter):
    name: ClassVar[str] = "builtin"
    needs_whole_clip: ClassVar[bool] = True

    def __init__(self, config: dict[str, Any]) -> None:
        super().__init__(config)
        self._background: np.ndarray | None = None

    def prepare(self, frames: Sequence[SampledFrame]) -> None:
        self._background = estimate_background(frames[0].rgb, frames[-1].rgb) if frames \
            else None

    def detect_frame(self, frame: SampledFrame) -> list[Detection]:
        if self._background is None or self._background.shape != frame.rgb.shape:
            return []
        mask = foreground_mask(frame.rgb, self._background)
        detections = []
        for blob in find_blobs(mask):
            det = classify_blob(blob, mask.shape, frame.rgb)
            if det is not None:
                det.frame_index = frame.index
                detections.append(det)
        return detections


def _dilate(grid: np.ndarray) -> np.ndarray:
    padded = np.pad(grid, 1)
    out = np.zeros_like(grid)
    h, w = grid.shape
    for dy in (0, 1, 2):
        for dx in (0, 1, 2):
            out |= padded[dy : dy + h, dx : dx + w]
    return out


def _cell_means(rgb: np.ndarray) -> np.ndarray:
    h, w = rgb.shape[:2]
    gh, gw = h // CELL, w // CELL
    cells = rgb[: gh * CELL, : gw * CELL].astype(np.float32)
    means: np.ndarray = cells.reshape(gh, CELL, gw, CELL, 3).mean(axis=(1, 3))
    return means


def estimate_background(first: np.ndarray, last: np.ndarray) -> np.ndarray:
    """The empty scene from a clip's first and last frames (see the module docstring)."""
    background = first.astype(np.int16)
    if first.shape != last.shape:
        return background
    differs = foreground_mask(last, background)
    labels, count = _label_cells(_cell_grid(differs))
    if not count:
        return background
    first_cells, last_cells = _cell_means(first), _cell_means(last)
    h, w = first.shape[:2]
    for label in range(1, count + 1):
        region = labels == label
        ring = _dilate(region) & ~region & (labels == 0)
        inner = region & ~_erode(region)
        if not ring.any():
            continue
        outside = (first_cells[ring].mean(axis=0) + last_cells[ring].mean(axis=0)) / 2
        jump_first = np.abs(first_cells[inner].mean(axis=0) - outside).max()
        jump_last = np.abs(last_cells[inner].mean(axis=0) - outside).max()
        if jump_last < jump_first:  # the last frame is the empty one here
            cells = _dilate(region)
            pixels = np.repeat(np.repeat(cells, CELL, axis=0), CELL, axis=1)
            full = np.zeros((h, w), dtype=bool)
            full[: pixels.shape[0], : pixels.shape[1]] = pixels
            take = full & differs
            background[take] = last[take]
    return background


def _erode(grid: np.ndarray) -> np.ndarray:
    return ~_dilate(~grid)


def _label_cells(grid: np.ndarray) -> tuple[np.ndarray, int]:
    """8-connected labels of a boolean cell grid (0 = background)."""
    gh, gw = grid.shape
    labels = np.zeros(grid.shape, dtype=np.int32)
    count = 0
    for cy, cx in zip(*np.nonzero(grid), strict=True):
        if labels[cy, cx]:
            continue
        count += 1
        labels[cy, cx] = count
        queue = deque([(int(cy), int(cx))])
        while queue:
            y, x = queue.popleft()
            for ny in (y - 1, y, y + 1):
                for nx in (x - 1, x, x + 1):
                    if 0 <= ny < gh and 0 <= nx < gw and grid[ny, nx] and not labels[ny, nx]:
                        labels[ny, nx] = count
                        queue.append((ny, nx))
    return labels, count


def foreground_mask(rgb: np.ndarray, background: np.ndarray) -> np.ndarray:
    diff = np.abs(rgb.astype(np.int16) - background).max(axis=2)
    mask: np.ndarray = diff > PIXEL_DELTA
    return mask


def _cell_grid(mask: np.ndarray) -> np.ndarray:
    h, w = mask.shape
    gh, gw = h // CELL, w // CELL
    cells = mask[: gh * CELL, : gw * CELL].reshape(gh, CELL, gw, CELL).mean(axis=(1, 3))
    grid: np.ndarray = cells >= CELL_FILL
    return grid


def find_blobs(mask: np.ndarray) -> list[tuple[int, int, int, int, int]]:
    """Blobs as (x, y, w, h, pixel_count) in pixels, from 8-connected foreground cells."""
    labels, count = _label_cells(_cell_grid(mask))
    blobs = []
    for label in range(1, count + 1):
        ys, xs = np.nonzero(labels == label)
        y0, y1, x0, x1 = int(ys.min()), int(ys.max()), int(xs.min()), int(xs.max())
        # Exact extent from the pixel mask inside the blob's cells.
        sub = mask[y0 * CELL : (y1 + 1) * CELL, x0 * CELL : (x1 + 1) * CELL]
        rows, cols = np.nonzero(sub.any(axis=1))[0], np.nonzero(sub.any(axis=0))[0]
        if rows.size == 0:
            continue
        x, y = x0 * CELL + int(cols[0]), y0 * CELL + int(rows[0])
        w, h = int(cols[-1] - cols[0]) + 1, int(rows[-1] - rows[0]) + 1
        blobs.append((x, y, w, h, int(sub.sum())))
    return blobs


def classify_blob(blob: tuple[int, int, int, int, int], shape: tuple[int, ...],
                  rgb: np.ndarray) -> Detection | None:
    x, y, w, h, pixels = blob
    frame_h, frame_w = shape[0], shape[1]
    area = pixels / float(frame_h * frame_w)
    if area < MIN_AREA:
        return None
    aspect = h / max(1, w)  # >1: taller than wide
    fill = pixels / float(max(1, w * h))
    bottom = (y + h) / frame_h
    if x <= 1 or x + w >= frame_w - 1:  # cut by the picture's side: shape unreliable
        return None
    label, confidence = _label_for(aspect, area, fill, bottom)
    box = (round(x / frame_w, 4), round(y / frame_h, 4), round(w / frame_w, 4),
           round(h / frame_h, 4))
    return Detection(label=label, confidence=round(confidence, 3), box=box)


def _ramp(value: float, start: float, end: float) -> float:
    """0 at `start`, 1 at `end`, clamped (either direction)."""
    if end == start:
        return 1.0
    return float(min(1.0, max(0.0, (value - start) / (end - start))))


def _label_for(aspect: float, area: float, fill: float, bottom: float) -> tuple[str, float]:
    solid = _ramp(fill, 0.3, 0.9)  # compact, filled blobs are more believable
    if aspect >= 1.4:
        return "person", 0.55 + 0.3 * _ramp(aspect, 1.4, 2.2) + 0.1 * solid
    if aspect <= 0.8 and area >= 0.025:
        return "vehicle", 0.55 + 0.25 * _ramp(aspect, 0.8, 0.45) + 0.1 * _ramp(area, 0.025, 0.08)
    if aspect < 0.95 and area < 0.025 and bottom > 0.5:
        return "animal", 0.55 + 0.2 * _ramp(aspect, 0.95, 0.55) + 0.1 * _ramp(bottom, 0.5, 0.8)
    if aspect < 1.4 and area < 0.04 and fill >= 0.8 and bottom > 0.5:
        return "package", 0.55 + 0.2 * solid
    return "object", 0.5 + 0.2 * solid
