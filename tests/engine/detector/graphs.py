"""Small real ONNX graphs with each family's output shapes, built with the `onnx` package.

No YOLO, YOLOX, NanoDet-Plus or SSD model installs from the registries here, so these graphs
stand in for them (CenterNet and MoveNet do, see bench/detect.py; their graphs check the
decoding here without a conversion): each takes a real image input and returns fixed raw outputs (plus 0 x the
input's mean, so the input is really read) that encode one known box, exactly as that family's
export lays it out. The detector must decode them to the right place and class.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

W, H = 96, 64  # cells: 12*8 + 6*4 + 3*2 = 126 (strides 8/16/32)


def cells(strides: tuple[int, ...]) -> list[tuple[int, int, int]]:
    return [(s, math.ceil(H / s), math.ceil(W / s)) for s in strides]


def save_graph(path: Path, outputs: dict[str, np.ndarray], *, nhwc: bool = False,
               input_shape: list[int | str] | None = None,
               input_type: int = TensorProto.FLOAT) -> Path:
    shape = input_shape or ([1, H, W, 3] if nhwc else [1, 3, H, W])
    nodes = [helper.make_node("Cast", ["image"], ["image_f"], to=TensorProto.FLOAT),
             helper.make_node("ReduceMean", ["image_f"], ["mean"], keepdims=0),
             helper.make_node("Mul", ["mean", "zero"], ["nothing"])]
    inits = [numpy_helper.from_array(np.zeros((), np.float32), "zero")]
    outs = []
    for name, value in outputs.items():
        inits.append(numpy_helper.from_array(value.astype(np.float32), f"{name}_raw"))
        nodes.append(helper.make_node("Add", [f"{name}_raw", "nothing"], [name]))
        outs.append(helper.make_tensor_value_info(name, TensorProto.FLOAT, list(value.shape)))
    graph = helper.make_graph(nodes, "family", [
        helper.make_tensor_value_info("image", input_type, shape)], outs, initializer=inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    model.ir_version = 8
    onnx.checker.check_model(model)
    onnx.save(model, str(path))
    return path


# The box every graph encodes, in model pixels, and its class (COCO-80: 0 person, 2 car).
BOX = (24.0, 8.0, 56.0, 56.0)  # x1, y1, x2, y2 in the 96 x 64 input
CENTRE = ((BOX[0] + BOX[2]) / 2, (BOX[1] + BOX[3]) / 2)
SIZE = (BOX[2] - BOX[0], BOX[3] - BOX[1])


def _dist(distance: float, stride: int, reg_max: int) -> np.ndarray:
    """GFL logits whose softmax expectation is distance / stride (two neighbouring bins)."""
    d = distance / stride
    lo = int(math.floor(d))
    frac = d - lo
    probs = np.full(reg_max + 1, 1e-6)
    probs[lo] = max(1 - frac, 1e-6)
    if lo + 1 <= reg_max:
        probs[lo + 1] = max(frac, 1e-6)
    return np.log(probs / probs.sum())


def _gfl_level(stride: int, gh: int, gw: int, reg_max: int, offset: float, cls: int
               ) -> tuple[np.ndarray, np.ndarray]:
    scores = np.full((gh * gw, 80), 0.01)
    dists = np.zeros((gh * gw, 4 * (reg_max + 1)))
    if stride == 16:  # the object is found on the stride-16 level
        cx, cy = int(CENTRE[0] // stride), int(CENTRE[1] // stride)
        px, py = (cx + offset) * stride, (cy + offset) * stride
        row = cy * gw + cx
        scores[row, cls] = 0.9
        for k, d in enumerate((px - BOX[0], py - BOX[1], BOX[2] - px, BOX[3] - py)):
            dists[row, k * (reg_max + 1):(k + 1) * (reg_max + 1)] = _dist(d, stride, reg_max)
    return scores, dists


def nanodet(path: Path, cls: int = 0) -> Path:
    outputs = {}
    for stride, gh, gw in cells((8, 16, 32)):
        scores, dists = _gfl_level(stride, gh, gw, 10, 0.5, cls)
        outputs[f"cls_{stride}"] = scores[None]
        outputs[f"reg_{stride}"] = dists[None]
    return save_graph(path, outputs)


def nanodet_plus(path: Path, cls: int = 0) -> Path:
    levels = [np.concatenate(_gfl_level(s, gh, gw, 7, 0.0, cls), axis=1)
              for s, gh, gw in cells((8, 16, 32, 64))]
    return save_graph(path, {"output": np.concatenate(levels)[None]})


def _rows(extra_obj: bool, cls: int, anchors: int = 1) -> np.ndarray:
    n = sum(gh * gw for _, gh, gw in cells((8, 16, 32))) * anchors
    width = (5 if extra_obj else 4) + 80
    rows = np.zeros((n, width))
    rows[:, :4] = [10, 10, 4, 4]
    head = 5 if extra_obj else 4
    rows[:, head:] = 0.01
    rows[7, :4] = [CENTRE[0], CENTRE[1], SIZE[0], SIZE[1]]
    rows[7, head + cls] = 0.92
    if extra_obj:
        rows[:, 4] = 0.05
        rows[7, 4] = 0.98
    return rows


def yolov8(path: Path, cls: int = 2) -> Path:
    return save_graph(path, {"output0": _rows(False, cls).T[None]})


def yolov5(path: Path, cls: int = 2) -> Path:
    return save_graph(path, {"output": _rows(True, cls, anchors=3)[None]})


def yolox(path: Path, cls: int = 0) -> Path:
    rows = _rows(True, cls)
    rows[:, :4] = [0.0, 0.0, -3.0, -3.0]
    # raw YOLOX: stride-8 cell (gx, gy) = row index on the first level; xy = (p + g) * s
    stride, gw = 8, math.ceil(W / 8)
    gx, gy = int(CENTRE[0] // stride), int(CENTRE[1] // stride)
    row = gy * gw + gx
    rows[row, 0] = CENTRE[0] / stride - gx
    rows[row, 1] = CENTRE[1] / stride - gy
    rows[row, 2] = math.log(SIZE[0] / stride)
    rows[row, 3] = math.log(SIZE[1] / stride)
    rows[row, 5:] = 0.01
    rows[row, 5 + cls] = 0.92
    rows[row, 4] = 0.98
    rows[7] = rows[0]
    return save_graph(path, {"output": rows[None]})


def ssd(path: Path, coco_id: int = 3) -> Path:
    boxes = np.zeros((1, 10, 4))
    boxes[0, 0] = [BOX[1] / H, BOX[0] / W, BOX[3] / H, BOX[2] / W]  # ymin, xmin, ymax, xmax
    scores = np.zeros((1, 10))
    scores[0, 0] = 0.9
    classes = np.ones((1, 10))
    classes[0, 0] = coco_id
    return save_graph(path, {"detection_boxes": boxes, "detection_scores": scores,
                             "detection_classes": classes, "num_detections": np.array([3.0])},
                      nhwc=True, input_type=TensorProto.UINT8)


def centernet(path: Path, cls: int = 2) -> Path:
    detections = np.zeros((1, 100, 6))
    detections[0, :, 4] = 0.01  # the graph's top-K always returns K rows
    detections[0, 0] = [*BOX, 0.9, cls]  # x1, y1, x2, y2 (input pixels), score, COCO-80 index
    detections[0, 1] = [*BOX, 0.3, 15]  # an unsure cat on the same place: dropped
    return save_graph(path, {"tower_0/detections": detections,
                             "tower_0/wh": np.zeros((1, H // 4, W // 4, 4))}, nhwc=True)


def centernet_heads(path: Path) -> Path:
    """CenterNet cut at its heads (scripts/models/centernet-heads.py): a stride-4 grid of
    peak-masked class scores and of box edge distances. The van is scored as a car and, a
    little lower, as a truck at the same cell (CenterNet's per-class peaks): one vehicle."""
    heat = np.zeros((1, H // 4, W // 4, 80))
    edges = np.zeros((1, H // 4, W // 4, 4))
    col, row = int(CENTRE[0] // 4), int(CENTRE[1] // 4)
    x, y = col * 4.0, row * 4.0  # the cell's corner, where the graph measures edges from
    heat[0, row, col, 2] = 0.9  # car
    heat[0, row, col, 7] = 0.6  # truck
    edges[0, row, col] = [x - BOX[0], y - BOX[1], BOX[2] - x, BOX[3] - y]
    heat[0, 1, 1, 15] = 0.2  # an unsure cat elsewhere: dropped
    return save_graph(path, {"heat": heat, "wh": edges}, nhwc=True)


def movenet(path: Path) -> Path:
    people = np.zeros((1, 6, 56))
    people[0, :, 55] = 0.02
    people[0, 0, 51:] = [BOX[1] / H, BOX[0] / W, BOX[3] / H, BOX[2] / W, 0.9]
    return save_graph(path, {"output_0": people}, nhwc=True, input_type=TensorProto.INT32)
