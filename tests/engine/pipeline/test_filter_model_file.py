"""The `model_file` filter backend: ONNX model files the tests build, run on real video.

The model files are made here with the `onnx` package (nothing is downloaded); the engine runs
them with `onnxruntime`.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

onnx = pytest.importorskip("onnx", reason="the onnx package builds the test models")
pytest.importorskip("onnxruntime", reason="the model_file backend runs on onnxruntime")

from onnx import TensorProto, helper  # noqa: E402

from homesec_engine.filters import FilterError, ModelFileDetector  # noqa: E402

from .conftest import Scene  # noqa: E402
from .test_filters import filter_config  # noqa: E402


# -- model_file (ONNX) ----------------------------------------------------------------------


def colour_model(path: Path, labels: str = "person,car,background") -> Path:
    """A tiny ONNX classifier: mean frame colour -> softmax over [reddish, bluish, grey].

    input [1, 3, 32, 32] float RGB 0..1 -> ReduceMean over H, W -> MatMul -> Add -> Softmax.
    """
    weights = np.array([[30.0, -15.0, 0.0],   # R
                        [-15.0, -15.0, 0.0],  # G
                        [-15.0, 30.0, 0.0]],  # B
                       dtype=np.float32)
    bias = np.array([0.0, 0.0, 1.0], dtype=np.float32)
    nodes = [
        helper.make_node("ReduceMean", ["frame", "axes"], ["mean"], keepdims=0),
        helper.make_node("MatMul", ["mean", "W"], ["logits0"]),
        helper.make_node("Add", ["logits0", "b"], ["logits"]),
        helper.make_node("Softmax", ["logits"], ["scores"], axis=1),
    ]
    graph = helper.make_graph(
        nodes, "colour_classifier",
        [helper.make_tensor_value_info("frame", TensorProto.FLOAT, [1, 3, 32, 32])],
        [helper.make_tensor_value_info("scores", TensorProto.FLOAT, [1, 3])],
        initializer=[
            helper.make_tensor("axes", TensorProto.INT64, [2], [2, 3]),
            helper.make_tensor("W", TensorProto.FLOAT, [3, 3], weights.flatten().tolist()),
            helper.make_tensor("b", TensorProto.FLOAT, [3], bias.tolist()),
        ],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 18)])
    model.ir_version = 9
    helper.set_model_props(model, {"labels": labels})
    onnx.checker.check_model(model)
    onnx.save(model, str(path))
    return path


BIG_RED = Scene(subject=(220, 170), colour=(230, 30, 30), ground=0.95, start_x=10, end_x=80)
BIG_BLUE = Scene(subject=(220, 170), colour=(30, 30, 230), ground=0.95, start_x=10, end_x=80)


async def test_model_file_backend_runs_a_user_supplied_onnx_model(
    tmp_path: Path, make_video: Callable[..., Path]
) -> None:
    # Given a model file the user supplies (reddish frame -> "person", bluish -> "car")
    model = colour_model(tmp_path / "colour.onnx")
    detector = ModelFileDetector(filter_config(backend="model_file", model_path=str(model),
                                               trigger_classes=[]))
    await detector.start()
    try:
        # When clips dominated by red, by blue, and by neither are filtered
        red = await detector.run(make_video(BIG_RED))
        blue = await detector.run(make_video(BIG_BLUE))
        grey = await detector.run(make_video(Scene(subject=None)))
    finally:
        await detector.close()
    # Then the model's labels come back normalised to HomeSec's classes ("car" -> vehicle)
    # and its "background" label is never a detection
    assert red.classes == ["person"]
    assert blue.classes == ["vehicle"]
    assert grey.classes == []
    assert detector.status()["status"] == "error"  # closed: no model loaded any more


async def test_model_file_backend_exits_early_on_a_trigger_class(
    tmp_path: Path, make_video: Callable[..., Path]
) -> None:
    # Given the colour model and a clip that is red from its first frame
    model = colour_model(tmp_path / "colour.onnx")
    detector = ModelFileDetector(filter_config(backend="model_file", model_path=str(model),
                                               trigger_classes=["person"]))
    await detector.start()
    try:
        # When it is filtered with person as trigger class
        out = await detector.run(make_video(BIG_RED))
    finally:
        await detector.close()
    # Then one frame was enough
    assert out.classes == ["person"] and out.early_exit
    assert out.result.frames_sampled == 1


@pytest.mark.parametrize("model_path", [None, "missing.onnx", "not-onnx.onnx"])
async def test_model_file_backend_refuses_to_start_without_a_usable_model(
    tmp_path: Path, model_path: str | None
) -> None:
    # Given no model path, a path to nothing, and a file that is no ONNX model
    (tmp_path / "not-onnx.onnx").write_text("hello")
    path = str(tmp_path / model_path) if model_path else None
    detector = ModelFileDetector(filter_config(backend="model_file", model_path=path))
    # When it starts / Then it says what is wrong with filter.model_path
    with pytest.raises(FilterError, match="model_path"):
        await detector.start()
    assert detector.status()["status"] == "error"


def box_model(path: Path) -> Path:
    """A tiny ONNX "detector" whose output is detection rows [1, K, 6] (fixed, for the test)."""
    rows = [[0.1, 0.2, 0.3, 0.4, 0.9, 1.0],   # a car, confident
            [0.0, 0.0, 0.1, 0.1, 0.2, 0.0]]   # a person, too unsure to keep
    nodes = [
        helper.make_node("ReduceMean", ["frame", "axes"], ["mean"], keepdims=0),
        helper.make_node("Mul", ["mean", "zero"], ["nothing"]),
        helper.make_node("Add", ["rows", "nothing"], ["detections"]),
    ]
    graph = helper.make_graph(
        nodes, "fixed_boxes",
        [helper.make_tensor_value_info("frame", TensorProto.FLOAT, [1, 3, 16, 16])],
        [helper.make_tensor_value_info("detections", TensorProto.FLOAT, [1, 2, 6])],
        initializer=[
            helper.make_tensor("axes", TensorProto.INT64, [3], [1, 2, 3]),
            helper.make_tensor("zero", TensorProto.FLOAT, [1], [0.0]),
            helper.make_tensor("rows", TensorProto.FLOAT, [1, 2, 6],
                               [v for row in rows for v in row]),
        ],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 18)])
    model.ir_version = 9
    helper.set_model_props(model, {"labels": "person,car"})
    onnx.checker.check_model(model)
    onnx.save(model, str(path))
    return path


async def test_model_file_backend_reads_detection_rows_with_boxes(
    tmp_path: Path, make_video: Callable[..., Path]
) -> None:
    # Given a model that outputs detection rows (x, y, w, h, score, class)
    detector = ModelFileDetector(filter_config(
        backend="model_file", model_path=str(box_model(tmp_path / "boxes.onnx")),
        trigger_classes=["vehicle"]))
    await detector.start()
    try:
        # When a clip is filtered
        out = await detector.run(make_video(Scene(subject=None)))
    finally:
        await detector.close()
    # Then the confident row is a vehicle with its box; the unsure one is dropped
    assert out.classes == ["vehicle"]
    assert out.best_detection is not None
    assert out.best_detection.box == pytest.approx((0.1, 0.2, 0.3, 0.4))
