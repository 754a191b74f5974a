"""The demo camera: playable synthetic clips with the moving subject its docstring describes."""

from __future__ import annotations

from pathlib import Path

import av
import numpy as np
import pytest

from homesec_engine.sources.demo import SUBJECTS, DemoSource
from tests.videotools import probe_video


def subject_boxes(path: Path, colour: tuple[int, int, int]) -> list[tuple[int, int, int, int]]:
    """Bounding box (x, y, w, h) of the subject's colour in each decoded frame."""
    boxes = []
    with av.open(str(path)) as container:
        for frame in container.decode(video=0):
            rgb = frame.to_ndarray(format="rgb24").astype(np.int16)
            mask = np.all(np.abs(rgb - np.array(colour)) < 40, axis=2)
            ys, xs = np.nonzero(mask)
            assert len(xs), "subject missing from a frame"
            boxes.append((xs.min(), ys.min(), xs.max() - xs.min() + 1, ys.max() - ys.min() + 1))
    return boxes


@pytest.mark.parametrize(("subject", "upright"), [("person", True), ("vehicle", False), ("animal", False)])
async def test_demo_camera_produces_a_playable_clip_with_a_moving_subject(
    work_dir: Path, recorder, subject: str, upright: bool
) -> None:
    # Given a demo camera that would wait a minute between events
    source = DemoSource("demo", {"interval_s": 60, "clip_s": 2, "subject": subject}, work_dir)
    # When it starts
    await source.start(recorder.on_clip, recorder.on_health)
    try:
        # Then a first clip arrives without waiting for the interval
        await recorder.wait_for(lambda: len(recorder.clips) == 1)
        assert source.is_healthy() and source.last_heartbeat() is not None
    finally:
        await source.stop()
    clip = recorder.clips[0]
    # And the clip plays: 2 s of 320x240 at 10 fps
    info = probe_video(clip.path)
    assert (info.width, info.height, info.frames) == (320, 240, 20)
    assert abs(info.duration_s - 2.0) < 0.15 and clip.duration_s == pytest.approx(2.0)
    # And it shows the documented subject shape, moving left to right
    boxes = subject_boxes(clip.path, SUBJECTS[subject][0])
    xs = [b[0] for b in boxes]
    assert xs == sorted(xs) and xs[-1] - xs[0] > 100
    _, _, w, h = boxes[len(boxes) // 2]
    assert (h > 2 * w) if upright else (w > h)
    # And stopping reports the camera as no longer live
    assert recorder.health == [("demo", True), ("demo", False)]


async def test_demo_camera_repeats_every_interval(work_dir: Path, recorder) -> None:
    # Given a demo camera with a short interval
    source = DemoSource("demo", {"interval_s": 0.1, "clip_s": 0.5, "subject": "vehicle"}, work_dir)
    await source.start(recorder.on_clip, recorder.on_health)
    try:
        # When it runs for a while, Then clips keep coming, each its own file
        await recorder.wait_for(lambda: len(recorder.clips) >= 3)
    finally:
        await source.stop()
    paths = {c.path for c in recorder.clips}
    assert len(paths) == len(recorder.clips) and all(p.exists() for p in paths)


def test_unknown_subject_is_refused(work_dir: Path) -> None:
    # Given a demo config naming a subject that cannot be drawn, Then construction fails clearly
    with pytest.raises(ValueError, match="subject"):
        DemoSource("demo", {"subject": "dragon"}, work_dir)
