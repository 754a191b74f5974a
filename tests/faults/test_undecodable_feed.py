"""Camera health on feeds no decoder can use (issue 26, item 8).

A camera that answers RTSP correctly and then sends random RTP payloads was reported healthy
(every packet counted as a sign of life); one stuck mid-frame (an H.264 fragment whose end
never comes) stayed unhealthy with an empty error, no log line and no reconnect for a minute.
Now a stream is up only while it yields pictures, and one connected without any for
`undecodable_timeout_s` is logged, shown as the camera's error (and in /health) and
reconnected. A real engine process, a real RTSP server on loopback sending the garbage.
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from tests.videotools import make_motion_video

from .broken_camera import BrokenCamera
from .engine_process import EngineProcess, http


@pytest.mark.parametrize("mode", ["random", "fragment"])
def test_an_undecodable_feed_is_unhealthy_with_the_reason_logged_and_reconnected(
        tmp_path: Path, mode: str) -> None:
    video = make_motion_video(tmp_path / "real.mp4", [], duration_s=1)
    # Given a camera whose RTSP session works but whose stream no decoder can use
    with BrokenCamera(video, mode) as camera:
        cameras = [{"name": "demo", "enabled": False, "source_backend": "demo",
                    "source_config": {}},
                   {"name": "gate", "source_backend": "rtsp",
                    "source_config": {"url": camera.url, "undecodable_timeout_s": 4,
                                      "reconnect_max_backoff_s": 2}}]
        # When the engine watches it
        with EngineProcess(tmp_path, config={"cameras": cameras}) as engine:
            engine.wait_healthy()
            seen_healthy, gate = False, None
            deadline = time.monotonic() + 120
            while time.monotonic() < deadline:
                _, listing = http("GET", f"{engine.url}/cameras")
                gate = next(c for c in listing["cameras"] if c["name"] == "gate")
                seen_healthy |= bool(gate["healthy"])
                if gate.get("error") and camera.plays >= 2:
                    break
                time.sleep(0.5)
            # Then it is never reported healthy, and its error says why
            assert gate is not None and not seen_healthy, gate
            assert gate["healthy"] is False and "no picture" in (gate.get("error") or ""), gate
            # And the engine's health names it with that reason (HA's system health, repairs)
            _, health = http("GET", f"{engine.url}/health")
            assert health["status"] != "healthy" and "no picture" in health.get(
                "cameras_down", {}).get("gate", ""), health
            # And the engine reconnected rather than waiting on the dead session
            assert camera.plays >= 2
        # And the log says so, naming the camera
        log = engine.log.read_text(errors="replace")
        assert any("gate" in line and "no picture" in line for line in log.splitlines()), \
            log[-2000:]
