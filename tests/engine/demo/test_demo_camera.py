"""The embedded default's demo camera: real footage over RTSP when it has it, else synthetic.

The footage is made the way ./scripts/run makes it (homesec_engine.demo.footage, from Debian's
pedestrian video), shorter so the test is quick; the engine runs as `homesec run` in a child
process with HOMESEC_DEMO_FOOTAGE naming it, as ./scripts/run starts it.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest

from homesec_engine.demo import footage
from homesec_engine.sources.demo import write_clip
from tests import realdata
from tests.faults.engine_process import EngineProcess, http
from tests.loopback import loopback_sockets

__all__ = ["loopback_sockets"]  # autouse: the engine and its camera are on loopback


@pytest.fixture(scope="module")
def plaza(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Demo footage: 3 s of the empty plaza, 8 s of people walking, 4 s empty, looping."""
    source = realdata.opencv_samples() / "vtest.avi"
    frames = list(footage.read_frames(source, width=480))
    path = tmp_path_factory.mktemp("demo") / "plaza.mp4"
    write_clip(path, footage.compose(frames, loop=((3.0, 0.0, 8.0),), tail_empty_s=4.0),
               footage.FPS, gop=footage.FPS)
    return path


def _demo_camera(engine: EngineProcess) -> dict[str, Any]:
    status, body = http("GET", f"{engine.url}/status")
    assert status == 200, body
    return next(c for c in body["cameras"] if c["name"] == "demo")


def _first_live_event(engine: EngineProcess, timeout: float) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        status, body = http("GET", f"{engine.url}/live-events?camera=demo")
        assert status == 200, body
        if body["events"]:
            return dict(body["events"][-1])
        time.sleep(1.0)
    raise AssertionError(f"no live event within {timeout:.0f} s: "
                         f"{engine.log.read_text(errors='replace')[-3000:]}")


def test_demo_camera_plays_real_people_through_the_rtsp_source(plaza: Path, tmp_path: Path) -> None:
    # Given the footage that ./scripts/run made, named as it names it
    with EngineProcess(tmp_path, env={"HOMESEC_DEMO_FOOTAGE": str(plaza)}) as engine:
        # When the engine starts from the embedded default
        engine.wait_healthy()
        # Then the demo camera is an ordinary rtsp camera on loopback, not a drawn scene
        camera = _demo_camera(engine)
        assert camera["source_backend"] == "rtsp"
        assert camera["synthetic"] is False and camera["live_stream"] is True
        # And the people walking in become a live event the shipped detector calls a person
        event = _first_live_event(engine, timeout=120)
        assert "person" in event["detected_objects"], event
        person = next(o for o in event["objects"] if o["class"] == "person")
        assert person["boxes"] and all(0 <= v <= 1 for box in person["boxes"] for v in box)
        # And the camera's live picture is a JPEG of the plaza
        status, picture = http("GET", f"{engine.url}/cameras/demo/snapshot")
        assert status == 200 and isinstance(picture, bytes) and picture[:2] == b"\xff\xd8"
        # And /health counts it online
        assert engine.wait_healthy()["cameras_online"] == 1


def test_demo_camera_without_footage_is_the_synthetic_scene_and_says_so(tmp_path: Path) -> None:
    # Given no footage (Debian was unreachable when ./scripts/run tried), or a broken file
    broken = tmp_path / "broken.mp4"
    broken.write_bytes(b"not a video")
    for env in ({"HOMESEC_DEMO_FOOTAGE": ""}, {"HOMESEC_DEMO_FOOTAGE": str(broken)}):
        workdir = tmp_path / f"run{len(env['HOMESEC_DEMO_FOOTAGE'])}"
        workdir.mkdir()
        # When the engine starts from the embedded default
        with EngineProcess(workdir, env=env) as engine:
            engine.wait_healthy()
            # Then the demo camera is the drawn scene, and the API says it is synthetic
            camera = _demo_camera(engine)
            assert camera["source_backend"] == "demo" and camera["synthetic"] is True
        if env["HOMESEC_DEMO_FOOTAGE"]:
            # And a broken file is named in a warning
            assert "cannot be served" in engine.log.read_text(errors="replace")
