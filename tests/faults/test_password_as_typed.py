"""A literal `%41` in an RTSP password is kept as typed (issue 26, item 8).

The README says passwords are taken as typed; a password holding `%41` was decoded to `A`
and the camera refused it. Real RTSP server checking the password, real source.
"""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path

import pytest

from homesec_engine.sources.rtsp import RtspSource
from tests.engine.sources.conftest import Recorder
from tests.videotools import RtspTestServer, Segment, make_motion_video


@pytest.mark.parametrize("password", ["pa%41ss-s3cret", "100%25-s3cret", "%2F%2F-s3cret"])
async def test_a_password_that_looks_percent_encoded_is_sent_as_typed(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture,
        password: str) -> None:
    caplog.set_level(logging.DEBUG)
    video = make_motion_video(tmp_path / "scene.mp4", [Segment(1, 3)], duration_s=6, fps=10,
                              gop=10)
    # Given a camera whose password really is these characters, typed as-is in the env var
    with RtspTestServer(video, loop=True, auth=("admin", password)) as server:
        monkeypatch.setenv("CAM_URL", f"rtsp://admin:{password}@127.0.0.1:{server.port}/cam")
        source = RtspSource("porch", {"url_env": "CAM_URL", "reconnect_max_backoff_s": 1},
                            tmp_path / "work")
        recorder = Recorder()
        # When the source connects
        await source.start(recorder.on_clip, recorder.on_health)
        try:
            # Then the camera accepts it: healthy, no error
            async with asyncio.timeout(20):
                while not source.is_healthy():
                    await asyncio.sleep(0.1)
            assert source.last_error() is None
        finally:
            await source.stop()
    # And the password is in no log line
    assert "s3cret" not in caplog.text
