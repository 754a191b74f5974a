"""Per-camera `filter_backend`: the demo camera keeps the heuristic that reads its drawn
subjects; every other camera gets the trained detector unless it says otherwise."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

pytest.importorskip("onnxruntime", reason="the detector runs on onnxruntime")

from homesec_engine.records import ClipFile, utcnow  # noqa: E402
from homesec_engine.sources.demo import render_frames, write_clip  # noqa: E402
from tests.engine_harness import running_engine  # noqa: E402

CAMERAS = [
    {"name": "demo", "source_backend": "demo", "source_config": {"interval_s": 3600}},
    {"name": "porch", "source_backend": "local_folder", "source_config": {"path": "/tmp"}},
    {"name": "shed", "source_backend": "local_folder", "source_config": {"path": "/tmp"},
     "filter_backend": "builtin"},
]


async def test_each_camera_is_judged_by_its_own_filter_backend(
    tmp_path: Path, socket_enabled: None
) -> None:
    # Given the default filter (the trained detector) and three cameras: a demo camera, a
    # camera without a setting, and one set to the builtin heuristic
    async with running_engine(tmp_path, cameras=CAMERAS) as engine:
        results = {}
        for camera in ("demo", "porch", "shed"):
            # When each hands in the demo's synthetic clip (a red block walking by)
            path = tmp_path / f"{camera}.mp4"
            write_clip(path, render_frames("person", 320, 240, 10, 3.0), 10)
            now = utcnow()
            task = engine.runtime.pipeline.submit(
                ClipFile(camera, path, now - timedelta(seconds=3), now))
            assert task is not None
            outcome = await task
            record = await engine.runtime.repository.get_clip(outcome.clip_id)
            assert record is not None
            results[camera] = (record.detected_objects, record.alerted)
    # Then the demo camera and the builtin camera alert on it as a person, while the trained
    # detector does not take a flat red block for a person
    assert results["demo"] == (["person"], True)
    assert results["shed"] == (["person"], True)
    assert results["porch"] == ([], False)


async def test_the_detector_loads_only_when_a_camera_uses_it(
    tmp_path: Path, socket_enabled: None
) -> None:
    # Given an engine whose only enabled camera is the demo camera (the builtin heuristic)
    demo_only = [CAMERAS[0], {**CAMERAS[1], "enabled": False}]
    async with running_engine(tmp_path, cameras=demo_only) as engine:
        # When it has started
        status = engine.runtime.components()["filter"]
        # Then the detector's model is not loaded, and nothing is reported wrong
        assert engine.runtime.object_filter is not None
        assert engine.runtime.object_filter.model is None  # type: ignore[attr-defined]
        assert status["status"] == "ok" and status["loaded"] is False

        # When a clip of a camera no longer configured is judged (a recording left behind)
        path = tmp_path / "gone.mp4"
        write_clip(path, render_frames("person", 320, 240, 10, 2.0), 10)
        now = utcnow()
        task = engine.runtime.pipeline.submit(ClipFile("gone", path, now - timedelta(seconds=2),
                                                       now))
        assert task is not None
        await task
        # Then the detector loaded for it, on first use
        status = engine.runtime.components()["filter"]
        assert status["loaded"] is True and status["model"].endswith(".onnx")

    # Given a camera that uses the detector
    async with running_engine(tmp_path / "b", cameras=CAMERAS) as engine:
        # Then its model is loaded at start, before any clip
        assert engine.runtime.components()["filter"]["loaded"] is True
