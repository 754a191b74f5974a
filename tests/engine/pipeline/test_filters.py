"""The object filter on real video: the built-in detector and an ONNX model file."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper

from homesec_engine.filters import BuiltinDetector, FilterError, ModelFileDetector
from homesec_engine.sources.demo import render_frames, write_clip
from tests.videotools import Segment, make_motion_video, object_box

from .conftest import Scene

TRIGGERS = ["person", "vehicle", "animal", "package"]


def filter_config(**overrides: object) -> dict[str, object]:
    config: dict[str, object] = {"backend": "builtin", "sample_fps": 2.0, "min_confidence": 0.5,
                                 "trigger_classes": TRIGGERS, "model_path": None}
    config.update(overrides)
    return config


# -- builtin ---------------------------------------------------------------------------------


@pytest.mark.parametrize(("scene", "expected"), [
    (Scene(subject=(36, 90)), "person"),  # tall upright
    (Scene(subject=(130, 48), colour=(40, 60, 210)), "vehicle"),  # wide and big
    (Scene(subject=(44, 26), colour=(220, 150, 20), ground=0.9), "animal"),  # small and low
])
async def test_builtin_names_the_subject_crossing_a_made_scene(
    make_video: Callable[..., Path], scene: Scene, expected: str
) -> None:
    # Given a clip of a textured, noisy scene with one subject crossing it
    path = make_video(scene)
    detector = BuiltinDetector(filter_config(trigger_classes=[]))  # no early exit: see all
    # When the built-in detector (no model file) filters it
    out = await detector.run(path)
    # Then the subject is named by its class, and nothing else is seen
    assert out.classes == [expected]
    assert out.best_frame is not None and out.best_frame.shape == (240, 320, 3)
    assert out.best_detection is not None and out.best_detection.box is not None


async def test_builtin_recognises_the_videotools_subject_and_where_it_is(tmp_path: Path) -> None:
    # Given the shared test video: a tall box crossing the frame from 0.5 s to 3.5 s
    segment = Segment(0.5, 3.5)
    path = make_motion_video(tmp_path / "cam.mp4", [segment], duration_s=4.0)
    # When it is filtered with early exit on trigger classes
    out = await BuiltinDetector(filter_config()).run(path)
    # Then a person is found, and the detection box lies where the subject was drawn
    assert out.classes == ["person"]
    det = out.best_detection
    assert det is not None and det.box is not None
    x, y, w, h = object_box(det.frame_index / 2.0, segment, 320, 240)
    bx, by, bw, bh = det.box
    assert abs(bx * 320 - x) <= 6 and abs(by * 240 - y) <= 6
    assert abs(bw * 320 - w) <= 6 and abs(bh * 240 - h) <= 6


@pytest.mark.parametrize("subject", ["person", "vehicle", "animal"])
async def test_builtin_recognises_each_demo_camera_subject(tmp_path: Path, subject: str) -> None:
    # Given a clip exactly as the demo camera renders it
    path = tmp_path / f"demo-{subject}.mp4"
    write_clip(path, render_frames(subject, 320, 240, 10, 4.0), 10)
    # When it is filtered
    out = await BuiltinDetector(filter_config(trigger_classes=[])).run(path)
    # Then the demo's subject is what the detector names
    assert out.classes == [subject]


async def test_builtin_sees_nothing_in_a_static_scene(make_video: Callable[..., Path]) -> None:
    # Given a noisy scene where nothing moves
    path = make_video(Scene(subject=None, noise=3.0))
    # When it is filtered
    out = await BuiltinDetector(filter_config()).run(path)
    # Then nothing is detected, but a snapshot frame is still available
    assert out.classes == []
    assert out.result.frames_sampled == 8
    assert out.best_frame is not None


async def test_early_exit_stops_once_a_trigger_class_is_found(
    make_video: Callable[..., Path]
) -> None:
    # Given a clip with a person visible from the first frame
    path = make_video(Scene(subject=(36, 90), duration_s=6.0))
    # When it is filtered once with person as a trigger class and once without
    early = await BuiltinDetector(filter_config(trigger_classes=["person"])).run(path)
    full = await BuiltinDetector(filter_config(trigger_classes=[])).run(path)
    # Then the trigger run stopped at the first confident frame; the other looked at all
    assert early.early_exit and early.result.frames_sampled == 1
    assert not full.early_exit and full.result.frames_sampled == 12
    assert early.classes == full.classes == ["person"]


async def test_sample_fps_sets_how_many_frames_are_looked_at(
    make_video: Callable[..., Path]
) -> None:
    # Given a 4 s clip
    path = make_video(Scene(subject=None))
    # When it is filtered at 1 and at 5 frames per second
    slow = await BuiltinDetector(filter_config(sample_fps=1.0)).run(path)
    fast = await BuiltinDetector(filter_config(sample_fps=5.0)).run(path)
    # Then the number of frames analysed follows the sampling rate
    assert slow.result.frames_sampled == 4
    assert fast.result.frames_sampled == 20


async def test_an_unreadable_clip_is_a_filter_error(tmp_path: Path) -> None:
    # Given a file that is not a video
    path = tmp_path / "broken.mp4"
    path.write_bytes(b"not a video at all")
    # When it is filtered / Then a FilterError says so
    with pytest.raises(FilterError):
        await BuiltinDetector(filter_config()).run(path)


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
