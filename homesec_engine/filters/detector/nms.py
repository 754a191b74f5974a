"""Greedy non-maximum suppression per class, in numpy (boxes are x1, y1, x2, y2)."""

from __future__ import annotations

import numpy as np


def iou(box: np.ndarray, others: np.ndarray) -> np.ndarray:
    """Intersection over union of one box with each of `others`."""
    x1 = np.maximum(box[0], others[:, 0])
    y1 = np.maximum(box[1], others[:, 1])
    x2 = np.minimum(box[2], others[:, 2])
    y2 = np.minimum(box[3], others[:, 3])
    inter = np.clip(x2 - x1, 0, None) * np.clip(y2 - y1, 0, None)
    area = (box[2] - box[0]) * (box[3] - box[1])
    areas = (others[:, 2] - others[:, 0]) * (others[:, 3] - others[:, 1])
    out: np.ndarray = inter / np.maximum(area + areas - inter, 1e-9)
    return out


def nms(boxes: np.ndarray, scores: np.ndarray, classes: np.ndarray, iou_threshold: float,
        max_keep: int = 100) -> np.ndarray:
    """Indices of the boxes kept, best first; boxes of different classes never suppress."""
    order = np.argsort(-scores)
    keep: list[int] = []
    while order.size and len(keep) < max_keep:
        best = int(order[0])
        keep.append(best)
        rest = order[1:]
        same = classes[rest] == classes[best]
        overlap = iou(boxes[best], boxes[rest]) > iou_threshold
        order = rest[~(same & overlap)]
    return np.asarray(keep, dtype=np.int64)


def nms_by_label(boxes: np.ndarray, scores: np.ndarray, labels: list[str],
                 iou_threshold: float) -> np.ndarray:
    """`nms` with classes given as names (HomeSec's): boxes of one name suppress each other
    whatever model class they came from."""
    if not len(scores):
        return np.zeros(0, dtype=np.int64)
    ids = {label: i for i, label in enumerate(sorted(set(labels)))}
    return nms(boxes, scores, np.array([ids[label] for label in labels], dtype=np.int64),
               iou_threshold)
