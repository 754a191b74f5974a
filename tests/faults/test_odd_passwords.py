"""Camera passwords with URL syntax in them, against a real RTSP server that checks them
(issue 16, item 3)."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path

import pytest

from homesec_engine.sources.credentials import Scrubber
from homesec_engine.sources.rtsp import RtspSource
from tests.engine.sources.conftest import Recorder
from tests.videotools import RtspTestServer, Segment, free_port, make_motion_video

# Taken as typed, also when they look percent-encoded (`%41` is three characters, not `A`).
PASSWORDS = ["pa/ss-s3cret", "pa#ss-s3cret", "p@ss-s3cret", "50%off-s3cret", "a:b-s3cret",
             "x/#@%:y-s3cret", "pa%2Fss-s3cret", "pa%41ss-s3cret", "100%25-s3cret"]


@pytest.fixture(scope="module")
def video(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_motion_video(tmp_path_factory.mktemp("odd") / "scene.mp4", [Segment(1, 3)],
                             duration_s=6, fps=10, gop=10)


async def _wait(predicate, timeout: float = 30.0) -> None:
    async with asyncio.timeout(timeout):
        while not predicate():
            await asyncio.sleep(0.1)


@pytest.mark.parametrize("password", PASSWORDS)
async def test_an_odd_password_from_the_env_var_connects_and_is_never_logged(
    tmp_path: Path, video: Path, monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture, password: str
) -> None:
    caplog.set_level(logging.DEBUG)
    # Given a camera that demands exactly this password, and its URL typed as-is into an
    # env var
    with RtspTestServer(video, loop=True, auth=("admin", password)) as server:
        monkeypatch.setenv("CAM_URL", f"rtsp://admin:{password}@127.0.0.1:{server.port}/cam")
        source = RtspSource("porch", {"url_env": "CAM_URL", "reconnect_max_backoff_s": 1},
                            tmp_path / "work")
        recorder = Recorder()
        # When the source starts
        await source.start(recorder.on_clip, recorder.on_health)
        try:
            # Then it authenticates and streams: the camera is healthy, no error shown
            await _wait(source.is_healthy)
            assert source.last_error() is None
        finally:
            await source.stop()
    # And no part of the password reached the log
    assert "s3cret" not in caplog.text
    assert "Traceback" not in caplog.text


async def test_a_refused_password_is_shown_as_the_error_and_retried(
    tmp_path: Path, video: Path, monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture
) -> None:
    # Given a camera whose env var holds a wrong password full of URL syntax
    with RtspTestServer(video, loop=True, auth=("admin", "right")) as server:
        monkeypatch.setenv("CAM_URL",
                           f"rtsp://admin:wr/o#ng@s3cret@127.0.0.1:{server.port}/cam")
        source = RtspSource("porch", {"url_env": "CAM_URL", "reconnect_max_backoff_s": 1},
                            tmp_path / "work")
        recorder = Recorder()
        await source.start(recorder.on_clip, recorder.on_health)
        try:
            # When the camera refuses it, again and again
            await _wait(lambda: caplog.text.count("stream error") >= 2)
            # Then the camera shows why (401, in words: no FFmpeg errno number), without
            # the password, and keeps retrying
            error = source.last_error() or ""
            assert "401" in error and "s3cret" not in error, error
            assert "Errno" not in error, error
            assert not source.is_healthy()
            assert any(t.is_alive() for t in source._threads)
        finally:
            await source.stop()
    assert "s3cret" not in caplog.text


async def test_a_vendor_url_with_the_password_in_its_path_is_logged_masked(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    # Given a vendor-style URL carrying the password as a path parameter, camera unreachable
    port = free_port()
    monkeypatch.setenv("CAM_URL", f"rtsp://127.0.0.1:{port}/user=admin&password=s3cret"
                                  "&channel=1&stream=0.sdp")
    source = RtspSource("porch", {"url_env": "CAM_URL", "reconnect_max_backoff_s": 1},
                        tmp_path / "work")
    recorder = Recorder()
    await source.start(recorder.on_clip, recorder.on_health)
    try:
        await _wait(lambda: "stream error" in caplog.text)
    finally:
        await source.stop()
    # Then the log names the camera's address, and masks the password
    assert "s3cret" not in caplog.text and "s3cret" not in (source.last_error() or "")
    assert f"127.0.0.1:{port}/user=admin&password=***" in caplog.text


def test_the_scrubber_never_fails_and_never_leaks() -> None:
    # Given URLs no URL parser accepts
    for url in ["rtsp://a:b/c#d@h:99999999/x", "rtsp://[::1:bad@h/", "rtsp://u:s3cret@@",
                "\x00rtsp://:s3cret@h", "rtsp://u:%zz-s3cret@h/"]:
        scrub = Scrubber(url)
        # Then cleaning any message quoting them works and removes the secret
        cleaned = scrub(f"failed on '{url}' ({url!r})")
        assert "s3cret" not in cleaned, (url, cleaned)
