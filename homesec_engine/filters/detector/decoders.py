"""Raw outputs -> candidate boxes (x1, y1, x2, y2 in model pixels), scores, COCO-80 indices.

One decoder per family (layouts in families.py); NMS and thresholds come after.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np

from .coco import coco80_from_coco91
from .families import OutputLayout

Candidates = tuple[np.ndarray, np.ndarray, np.ndarray]


def _probabilities(scores: np.ndarray) -> np.ndarray:
    """Scores as probabilities: exports that leave logits get a sigmoid here."""
    if scores.size and (scores.min() < 0.0 or scores.max() > 1.0):
        out: np.ndarray = 1.0 / (1.0 + np.exp(-scores))
        return out
    return scores


def _best_class(scores: np.ndarray, floor: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per row the best class and its score, keeping rows at or above `floor`."""
    classes = scores.argmax(axis=1)
    best = scores[np.arange(len(scores)), classes]
    rows = np.nonzero(best >= floor)[0]
    return rows, best[rows], classes[rows]


def _centres(height: int, width: int, stride: int, offset: float) -> np.ndarray:
    gh, gw = math.ceil(height / stride), math.ceil(width / stride)
    ys, xs = np.mgrid[0:gh, 0:gw]
    return (np.stack([xs.ravel(), ys.ravel()], axis=1).astype(np.float32) + offset) * stride


def _distances(dist: np.ndarray, reg_max: int) -> np.ndarray:
    """GFL box distributions [n, 4 * (R + 1)] -> expected distances [n, 4] (in strides)."""
    logits = dist.reshape(-1, 4, reg_max + 1)
    logits = logits - logits.max(axis=2, keepdims=True)
    weights = np.exp(logits)
    weights /= weights.sum(axis=2, keepdims=True)
    out: np.ndarray = weights @ np.arange(reg_max + 1, dtype=np.float32)
    return out


def _gfl(scores: np.ndarray, dist: np.ndarray, centres: np.ndarray, stride: int, reg_max: int,
         floor: float) -> Candidates:
    rows, best, classes = _best_class(_probabilities(scores), floor)
    d = _distances(dist[rows], reg_max) * stride
    c = centres[rows]
    boxes = np.stack([c[:, 0] - d[:, 0], c[:, 1] - d[:, 1],
                      c[:, 0] + d[:, 2], c[:, 1] + d[:, 3]], axis=1)
    return boxes, best, classes


def _join(parts: list[Candidates]) -> Candidates:
    return (np.concatenate([p[0] for p in parts]).reshape(-1, 4),
            np.concatenate([p[1] for p in parts]), np.concatenate([p[2] for p in parts]))


def decode_nanodet(outputs: list[np.ndarray], layout: OutputLayout, height: int, width: int,
                   floor: float) -> Candidates:
    # NanoDet's GFL head puts each prior at the cell centre.
    return _join([
        _gfl(outputs[si][0], outputs[di][0], _centres(height, width, stride, 0.5), stride,
             layout.reg_max, floor)
        for stride, (si, di) in zip(layout.strides, layout.pairs, strict=True)])


def decode_nanodet_plus(outputs: list[np.ndarray], layout: OutputLayout, height: int,
                        width: int, floor: float) -> Candidates:
    # NanoDet-Plus puts priors at the cell's top-left corner, levels concatenated.
    out = outputs[layout.single][0]
    parts, start = [], 0
    for stride in layout.strides:
        centres = _centres(height, width, stride, 0.0)
        level = out[start:start + len(centres)]
        start += len(centres)
        parts.append(_gfl(level[:, :80], level[:, 80:], centres, stride, layout.reg_max, floor))
    return _join(parts)


def _cxcywh(rows: np.ndarray) -> np.ndarray:
    cx, cy, w, h = rows[:, 0], rows[:, 1], rows[:, 2], rows[:, 3]
    return np.stack([cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2], axis=1)


def decode_yolov8(outputs: list[np.ndarray], layout: OutputLayout, height: int, width: int,
                  floor: float) -> Candidates:
    out = outputs[layout.single][0]
    out = out.T if layout.transposed else out
    rows, best, classes = _best_class(_probabilities(out[:, 4:]), floor)
    return _cxcywh(out[rows]), best, classes


def decode_yolov5(outputs: list[np.ndarray], layout: OutputLayout, height: int, width: int,
                  floor: float) -> Candidates:
    out = outputs[layout.single][0]
    scores = _probabilities(out[:, 5:]) * _probabilities(out[:, 4:5])
    rows, best, classes = _best_class(scores, floor)
    return _cxcywh(out[rows]), best, classes


def decode_yolox(outputs: list[np.ndarray], layout: OutputLayout, height: int, width: int,
                 floor: float) -> Candidates:
    out = outputs[layout.single][0].astype(np.float32)
    grid = np.concatenate([_centres(height, width, s, 0.0) / s for s in layout.strides])
    strides = np.concatenate([np.full(math.ceil(height / s) * math.ceil(width / s), s,
                                      dtype=np.float32) for s in layout.strides])[:, None]
    scores = _probabilities(out[:, 5:]) * _probabilities(out[:, 4:5])
    rows, best, classes = _best_class(scores, floor)
    xy = (out[rows, :2] + grid[rows]) * strides[rows]
    wh = np.exp(np.clip(out[rows, 2:4], -10, 10)) * strides[rows]
    return _cxcywh(np.concatenate([xy, wh], axis=1)), best, classes


def decode_ssd(outputs: list[np.ndarray], layout: OutputLayout, height: int, width: int,
               floor: float) -> Candidates:
    roles = layout.ssd
    boxes = outputs[roles["box"]].reshape(-1, 4).astype(np.float32)
    scores = outputs[roles["score"]].reshape(-1).astype(np.float32)
    ids = outputs[roles["class"]].reshape(-1).astype(np.int64)
    if "num" in roles:
        count = int(outputs[roles["num"]].reshape(-1)[0])
        boxes, scores, ids = boxes[:count], scores[:count], ids[:count]
    classes = np.array([coco80_from_coco91(int(i)) for i in ids], dtype=np.int64)
    keep = (scores >= floor) & (classes >= 0)
    ymin, xmin, ymax, xmax = (boxes[keep, i] for i in range(4))
    xyxy = np.stack([xmin * width, ymin * height, xmax * width, ymax * height], axis=1)
    return xyxy, scores[keep], classes[keep]


CENTERNET_TOP_K = 100  # peaks kept per picture, as CenterNet's own top-K


def decode_centernet(outputs: list[np.ndarray], layout: OutputLayout, height: int, width: int,
                     floor: float) -> Candidates:
    if layout.heads is not None:
        return _centernet_peaks(outputs[layout.heads[0]], outputs[layout.heads[1]], height,
                                floor)
    rows = outputs[layout.single].reshape(-1, 6).astype(np.float32)
    keep = rows[:, 4] >= floor
    return rows[keep, :4], rows[keep, 4], rows[keep, 5].astype(np.int64)


def _centernet_peaks(heat: np.ndarray, edges: np.ndarray, height: int, floor: float
                     ) -> Candidates:
    """The best peaks of a heat map cut at CenterNet's heads: what its top-K does in the
    full graph (a cell's box spans its edge distances around the cell's corner)."""
    grid_h, grid_w, classes = heat.shape[1:]
    stride = height / grid_h
    scores = heat.reshape(-1)
    picked = np.flatnonzero(scores >= floor)
    if len(picked) > CENTERNET_TOP_K:
        picked = picked[np.argpartition(-scores[picked], CENTERNET_TOP_K)[:CENTERNET_TOP_K]]
    cell = picked // classes
    x = (cell % grid_w).astype(np.float32) * stride
    y = (cell // grid_w).astype(np.float32) * stride
    d = edges.reshape(-1, 4)[cell].astype(np.float32)
    boxes = np.stack([x - d[:, 0], y - d[:, 1], x + d[:, 2], y + d[:, 3]], axis=1)
    return boxes, scores[picked].astype(np.float32), (picked % classes).astype(np.int64)


def decode_movenet(outputs: list[np.ndarray], layout: OutputLayout, height: int, width: int,
                   floor: float) -> Candidates:
    people = outputs[layout.single].reshape(-1, 56).astype(np.float32)
    people = people[people[:, 55] >= floor]
    ymin, xmin, ymax, xmax = (people[:, 51 + i] for i in range(4))
    xyxy = np.stack([xmin * width, ymin * height, xmax * width, ymax * height], axis=1)
    return xyxy, people[:, 55], np.zeros(len(people), dtype=np.int64)  # COCO 0: person


Decoder = Callable[[list[np.ndarray], OutputLayout, int, int, float], Candidates]
DECODERS: dict[str, Decoder] = {
    "nanodet": decode_nanodet,
    "nanodet_plus": decode_nanodet_plus,
    "yolov5": decode_yolov5,
    "yolov8": decode_yolov8,
    "yolox": decode_yolox,
    "ssd": decode_ssd,
    "centernet": decode_centernet,
    "movenet": decode_movenet,
}
