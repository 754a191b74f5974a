"""Which detector family a graph belongs to, recognised from its output shapes.

Each family's outputs, for an input of H x W pixels and C classes (grid cells per stride s:
ceil(H/s) * ceil(W/s), summed over the strides):

- `nanodet` (NanoDet, GFL head): per stride 8/16/32 a pair [1, cells, C] scores and
  [1, cells, 4 * (R + 1)] box distributions (R = reg_max, 7 or 10).
- `nanodet_plus`: one [1, cells(8/16/32/64), C + 4 * (R + 1)].
- `yolov8`: one [1, 4 + C, cells] (or transposed [1, cells, 4 + C]): cx, cy, w, h, scores.
- `yolov5`: one [1, 3 * cells, 5 + C] (three anchors per cell): cx, cy, w, h, objectness, scores.
- `yolox`: one [1, cells, 5 + C], raw grid offsets (the export's default, no decoding in graph).
- `ssd`: boxes [1, K, 4] (ymin, xmin, ymax, xmax fractions), scores [1, K], classes [1, K]
  (COCO ids 1..90), optionally num_detections [1] (TensorFlow Object Detection API exports).
- `centernet` (CenterNet with its top-K in the graph): detections [1, K, 6] (x1, y1, x2, y2 in
  input pixels, score, COCO-80 index), beside its heat-map outputs; or, cut at its heads so the
  picture size can be open (scripts/models/centernet-heads.py), exactly two outputs per
  stride-4 cell (NHWC): peak-masked class scores [1, H/4, W/4, C] and the distances to the
  box's edges [1, H/4, W/4, 4] (left, top, right, bottom in input pixels).
- `movenet` (MoveNet multipose, people only): [1, P, 56] per person 17 keypoints (y, x, score)
  then ymin, xmin, ymax, xmax (fractions) and the person's score.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

FAMILIES = ("nanodet", "nanodet_plus", "yolov5", "yolov8", "yolox", "ssd", "centernet",
            "movenet")
NUM_CLASSES = 80


class FamilyMismatch(ValueError):
    """The outputs do not have the shapes of the family (or of any family)."""


@dataclass(frozen=True, slots=True)
class OutputLayout:
    """How to read the outputs: which output (by position) holds what."""

    family: str
    strides: tuple[int, ...] = ()
    # nanodet: per stride (scores index, distributions index); others: their output indices.
    pairs: tuple[tuple[int, int], ...] = ()
    single: int = 0
    transposed: bool = False  # yolov8 [1, 4 + C, cells]
    reg_max: int = 0
    ssd: dict[str, int] = field(default_factory=dict)
    heads: tuple[int, int] | None = None  # centernet cut at its heads: (heat, wh) indices


Shape = Sequence[int | str | None]


def cells(height: int, width: int, strides: Sequence[int]) -> list[int]:
    return [math.ceil(height / s) * math.ceil(width / s) for s in strides]


def _dims(shape: Shape) -> tuple[int, ...] | None:
    """A fully known shape, or None when some dimension is dynamic (a name or None)."""
    if not all(isinstance(d, int) and d > 0 for d in shape):
        return None
    return tuple(int(d) for d in shape)  # type: ignore[arg-type]


def _nanodet(shapes: list[tuple[int, ...]], h: int, w: int) -> OutputLayout | None:
    strides = (8, 16, 32)
    by_count = {n: s for n, s in zip(cells(h, w, strides), strides, strict=True)}
    if len(shapes) != 6 or any(len(s) != 3 for s in shapes):
        return None
    score_at: dict[int, int] = {}
    dist_at: dict[int, int] = {}
    reg = set()
    for i, (_, n, c) in enumerate(shapes):
        if n not in by_count:
            return None
        if c == NUM_CLASSES:
            score_at[by_count[n]] = i
        elif c % 4 == 0:
            dist_at[by_count[n]] = i
            reg.add(c // 4 - 1)
    if set(score_at) != set(strides) or set(dist_at) != set(strides) or len(reg) != 1:
        return None
    return OutputLayout("nanodet", strides, tuple((score_at[s], dist_at[s]) for s in strides),
                        reg_max=reg.pop())


def _single(shape: tuple[int, ...], h: int, w: int) -> OutputLayout | None:
    if len(shape) != 3 or shape[0] != 1:
        return None
    _, a, b = shape
    plus = sum(cells(h, w, (8, 16, 32, 64)))
    grid = sum(cells(h, w, (8, 16, 32)))
    if a == plus and b > NUM_CLASSES and (b - NUM_CLASSES) % 4 == 0:
        return OutputLayout("nanodet_plus", (8, 16, 32, 64), reg_max=(b - NUM_CLASSES) // 4 - 1)
    if b == grid and a == 4 + NUM_CLASSES:
        return OutputLayout("yolov8", (8, 16, 32), transposed=True)
    if a == grid and b == 4 + NUM_CLASSES:
        return OutputLayout("yolov8", (8, 16, 32))
    if a == 3 * grid and b == 5 + NUM_CLASSES:
        return OutputLayout("yolov5", (8, 16, 32))
    if a == grid and b == 5 + NUM_CLASSES:
        return OutputLayout("yolox", (8, 16, 32))
    return None


def _centernet_heads(shapes: list[tuple[int, ...]], h: int, w: int) -> OutputLayout | None:
    """CenterNet cut at its heads: a stride-4 grid of class scores and one of box edges."""
    grid = (1, math.ceil(h / 4), math.ceil(w / 4))
    if len(shapes) != 2 or any(len(s) != 4 or s[:3] != grid for s in shapes):
        return None
    channels = [s[3] for s in shapes]
    if sorted(channels) != [4, NUM_CLASSES]:
        return None
    return OutputLayout("centernet", (4,), heads=(channels.index(NUM_CLASSES), channels.index(4)))


def _ssd(names: list[str], shapes: list[tuple[int, ...]]) -> OutputLayout | None:
    roles: dict[str, int] = {}
    for i, (name, shape) in enumerate(zip(names, shapes, strict=True)):
        key = name.lower()
        for role in ("box", "score", "class", "num"):
            if role in key and role not in roles:
                roles[role] = i
                break
    if not {"box", "score", "class"} <= roles.keys():
        return None
    boxes, scores, classes = (shapes[roles[r]] for r in ("box", "score", "class"))
    if len(boxes) != 3 or boxes[2] != 4 or scores[:2] != boxes[:2] or classes[:2] != boxes[:2]:
        return None
    return OutputLayout("ssd", ssd=roles)


def _top_k(names: list[str], shapes: list[tuple[int, ...]]) -> OutputLayout | None:
    """CenterNet's [1, K, 6] detections or MoveNet multipose's [1, P, 56] people."""
    for i, (name, shape) in enumerate(zip(names, shapes, strict=True)):
        if len(shape) == 3 and shape[0] == 1 and shape[2] == 6 and "detection" in name.lower():
            return OutputLayout("centernet", single=i)
        if len(names) == 1 and len(shape) == 3 and shape[0] == 1 and shape[2] == 56:
            return OutputLayout("movenet", single=i)
    return None


def recognise(names: list[str], shapes: list[Shape], height: int, width: int,
              family: str | None = None) -> OutputLayout:
    """The layout of the outputs; `family` (from config) is checked instead of guessed.

    SSD graphs have a dynamic detection count, so only the grid families need known shapes.
    """
    known = [_dims(s) for s in shapes]
    candidates: list[OutputLayout | None] = []
    if all(k is not None for k in known):
        full = [k for k in known if k is not None]
        candidates.append(_nanodet(full, height, width))
        if len(full) == 1:
            candidates.append(_single(full[0], height, width))
        candidates.append(_centernet_heads(full, height, width))
    ssd_shapes = [tuple(d if isinstance(d, int) else -1 for d in s) for s in shapes]
    candidates.append(_ssd(names, ssd_shapes))
    candidates.append(_top_k(names, ssd_shapes))
    found = [c for c in candidates if c is not None]
    if family is not None:
        found = [c for c in found if c.family == family]
        if not found:
            raise FamilyMismatch(f"the model's outputs {_describe(names, shapes)} are not those "
                                 f"of a {family} model at {width}x{height}")
    if not found:
        raise FamilyMismatch(f"the model's outputs {_describe(names, shapes)} match no "
                             f"supported family ({', '.join(FAMILIES)}) at {width}x{height}")
    return found[0]


def _describe(names: list[str], shapes: list[Shape]) -> str:
    return ", ".join(f"{n}{list(s)}" for n, s in zip(names, shapes, strict=True))
