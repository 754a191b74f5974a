"""The built-in object filter on real video (no model file)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from homesec_engine.filters import BuiltinDetector, FilterError
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


async def test_the_whole_clip_is_judged_after_a_trigger_class_is_found(
    make_video: Callable[..., Path]
) -> None:
    # Given a clip with a person visible from the first frame
    path = make_video(Scene(subject=(36, 90), duration_s=6.0))
    # When it is filtered once with person as a trigger class and once without
    triggered = await BuiltinDetector(filter_config(trigger_classes=["person"])).run(path)
    full = await BuiltinDetector(filter_config(trigger_classes=[])).run(path)
    # Then both looked at every sampled frame (what comes later can change the judgement),
    # and both saw the one person crossing as one track that moved
    assert not triggered.early_exit and triggered.result.frames_sampled == 12
    assert full.result.frames_sampled == 12
    assert triggered.classes == full.classes == ["person"]
    assert triggered.tracks is not None
    assert [(t.label, t.was_active) for t in triggered.tracks.tracks] == [("person", True)]


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
