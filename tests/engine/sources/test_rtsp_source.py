"""The rtsp source against a real RTSP server on loopback (tests/videotools.RtspTestServer)."""

from __future__ import annotations

import asyncio
from pathlib import Path

import av
import numpy as np
import pytest

from homesec_engine.sources import SOURCE_BACKENDS
from homesec_engine.sources.rtsp import RtspSource, redact_url
from tests.videotools import RtspTestServer, Segment, free_port, make_motion_video, probe_video

FPS, GOP_S = 10, 1.0
OBJECT_RGB = np.array([230, 230, 40])  # the scripted object's colour (videotools default)


def object_frames(path: Path) -> list[bool]:
    """For each frame of a clip: is the scripted object visible?"""
    seen = []
    with av.open(str(path)) as container:
        for frame in container.decode(video=0):
            rgb = frame.to_ndarray(format="rgb24").astype(np.int16)
            close = np.all(np.abs(rgb - OBJECT_RGB) < 40, axis=2)
            seen.append(int(close.sum()) > 100)
    return seen


@pytest.fixture
def two_segment_video(tmp_path: Path) -> Path:
    # Given a scene that is still except for an object crossing it during 2-4 s and 8-10 s
    return make_motion_video(
        tmp_path / "scene.mp4", [Segment(2, 4), Segment(8, 10)], duration_s=14, fps=FPS,
        gop=int(GOP_S * FPS),
    )


async def test_records_exactly_the_motion_segments_with_pre_and_post_roll(
    two_segment_video: Path, work_dir: Path, recorder
) -> None:
    pre, post = 1.0, 1.5
    config = {"analysis_width": 160, "sensitivity": 0.5, "min_motion_s": 0.3,
              "pre_roll_s": pre, "post_roll_s": post}
    with RtspTestServer(two_segment_video, speed=2.0) as server:
        source = RtspSource("front door", {**config, "url": server.url}, work_dir)
        await source.start(recorder.on_clip, recorder.on_health)
        try:
            # When the stream plays through both motion segments
            await recorder.wait_for(lambda: len(recorder.clips) >= 2)
        finally:
            await source.stop()

    # Then exactly one clip per motion segment was recorded
    assert len(recorder.clips) == 2
    expected = 2.0 + pre + post  # segment length plus pre-roll and post-roll
    for clip in recorder.clips:
        assert clip.camera == "front door"
        assert clip.path.parent == work_dir and clip.path.suffix == ".mp4"
        # And each clip plays, with the expected length give or take a keyframe interval
        info = probe_video(clip.path)
        assert expected - 2 / FPS <= info.duration_s <= expected + GOP_S + 2 / FPS
        assert info.frames >= round(info.duration_s * FPS) - 1
        assert abs(clip.duration_s - info.duration_s) < 2 / FPS
        # And it is the camera's own picture (remuxed, not re-encoded at analysis size)
        assert (info.width, info.height) == (320, 240)
        # And it opens before the object appears and closes after it left (pre/post roll)
        seen = object_frames(clip.path)
        assert not seen[0] and not seen[-1]
        assert abs(sum(seen) - 2.0 * FPS) <= 2
    assert recorder.clips[0].ended_at <= recorder.clips[1].started_at
    # And no half-written files are left in the work dir
    assert sorted(p.name for p in work_dir.iterdir()) == sorted(c.path.name for c in recorder.clips)


async def test_still_scene_records_nothing_but_stays_healthy(tmp_path: Path, work_dir: Path, recorder) -> None:
    # Given a stream of a scene where nothing moves
    video = make_motion_video(tmp_path / "still.mp4", [], duration_s=4, fps=FPS)
    with RtspTestServer(video, speed=2.0) as server:
        source = RtspSource("yard", {"url": server.url, "min_motion_s": 0.2}, work_dir)
        await source.start(recorder.on_clip, recorder.on_health)
        try:
            # When the whole stream has been watched (the server goes silent at its end)
            await recorder.wait_for(lambda: ("yard", True) in recorder.health)
            first_beat = source.last_heartbeat()
            await recorder.wait_for(lambda: recorder.health[-1] == ("yard", False))
        finally:
            await source.stop()
    # Then no clip was recorded, and the heartbeat moved on while frames arrived
    assert recorder.clips == []
    assert first_beat is not None and source.last_heartbeat() > first_beat


async def test_lost_stream_marks_camera_unhealthy_and_reconnects(
    tmp_path: Path, work_dir: Path, recorder
) -> None:
    # Given a healthy camera streaming a looping still scene
    video = make_motion_video(tmp_path / "loop.mp4", [], duration_s=3, fps=FPS)
    server = RtspTestServer(video, port=free_port(), loop=True)
    server.start()
    config = {"url": server.url, "reconnect_max_backoff_s": 1.0}
    source = RtspSource("garage", config, work_dir)
    assert not source.is_healthy() and source.last_heartbeat() is None
    await source.start(recorder.on_clip, recorder.on_health)
    try:
        await recorder.wait_for(lambda: recorder.health == [("garage", True)])
        assert source.is_healthy()

        # When the stream dies
        server.stop()
        # Then the health callback reports the camera unhealthy
        await recorder.wait_for(lambda: recorder.health[-1] == ("garage", False))
        assert not source.is_healthy()
        beat_when_lost = source.last_heartbeat()

        # When the stream comes back on the same address
        server.start()
        # Then the source reconnects by itself and is healthy again, with a fresh heartbeat
        await recorder.wait_for(lambda: recorder.health[-1] == ("garage", True))
        assert source.is_healthy()
        assert source.last_heartbeat() > beat_when_lost
        assert recorder.health[:3] == [("garage", True), ("garage", False), ("garage", True)]
    finally:
        await source.stop()
        server.stop()


@pytest.mark.parametrize(
    "password",
    [
        "s3cret",
        # PyAV's error message shows the URL quoted, with a backslash doubled
        "pa\\ss-s3cret",
    ],
    ids=["plain", "backslash"],
)
async def test_url_from_env_var_is_used_and_never_logged(
    work_dir: Path, recorder, monkeypatch, caplog, password: str
) -> None:
    # Given a camera whose URL (with a password) lives in an environment variable
    port = free_port()
    monkeypatch.setenv("CAM_URL", f"rtsp://admin:{password}@127.0.0.1:{port}/cam")
    source = RtspSource("porch", {"url_env": "CAM_URL", "reconnect_max_backoff_s": 1}, work_dir)
    # When the camera cannot be reached
    await source.start(recorder.on_clip, recorder.on_health)
    try:
        async with asyncio.timeout(30):
            while "stream error" not in caplog.text:
                await asyncio.sleep(0.1)
    finally:
        await source.stop()
    # Then it is logged as unreachable with the camera's address but no part of the password
    assert "s3cret" not in caplog.text
    assert f"127.0.0.1:{port}/cam" in caplog.text
    assert not source.is_healthy()
    assert redact_url("rtsp://a:b@h:554/x?y=1") == "rtsp://h:554/x?y=1"


def test_backends_are_registered_and_construction_starts_nothing(work_dir: Path) -> None:
    # Given the registry, When a disabled camera's source is merely constructed
    source = SOURCE_BACKENDS["rtsp"]("off", {"url": "rtsp://127.0.0.1:1/x"}, work_dir)
    # Then no thread runs and it reports no health yet
    assert source._threads == []
    assert not source.is_healthy() and source.last_heartbeat() is None
    assert set(SOURCE_BACKENDS) == {"rtsp", "local_folder", "demo"}


async def test_long_motion_is_split_at_max_clip_length(tmp_path: Path, work_dir: Path, recorder) -> None:
    # Given an object that keeps moving for 6 s and a camera limited to 2.5 s clips
    video = make_motion_video(tmp_path / "long.mp4", [Segment(1, 7)], duration_s=10, fps=FPS)
    config = {"min_motion_s": 0.3, "pre_roll_s": 0.5, "post_roll_s": 1.0, "max_clip_s": 2.5}
    with RtspTestServer(video, speed=2.0) as server:
        source = RtspSource("lane", {**config, "url": server.url}, work_dir)
        await source.start(recorder.on_clip, recorder.on_health)
        try:
            # When the motion has passed
            await recorder.wait_for(lambda: sum(c.duration_s for c in recorder.clips) >= 6.0)
        finally:
            await source.stop()
    # Then it was recorded as several playable clips, none longer than the limit (+ one GOP)
    assert len(recorder.clips) >= 3
    for clip in recorder.clips:
        assert probe_video(clip.path).duration_s <= 2.5 + GOP_S + 2 / FPS


async def test_motion_inside_a_motion_mask_records_nothing(
    tmp_path: Path, work_dir: Path, recorder
) -> None:
    # Given a stream where an object crosses the middle band of the picture during 1-3 s, and
    # a motion mask over that band
    video = make_motion_video(tmp_path / "masked.mp4", [Segment(1, 3)], duration_s=5, fps=FPS)
    band = {"name": "overlay", "points": [[0, 0.25], [1, 0.25], [1, 0.75], [0, 0.75]]}
    with RtspTestServer(video, speed=2.0) as server:
        source = RtspSource("yard", {"url": server.url, "min_motion_s": 0.2}, work_dir)
        source.set_motion_masks([band])
        await source.start(recorder.on_clip, recorder.on_health)
        try:
            # When the whole stream has been watched (the server goes silent at its end)
            await recorder.wait_for(lambda: ("yard", True) in recorder.health)
            await recorder.wait_for(lambda: recorder.health[-1] == ("yard", False))
        finally:
            await source.stop()
    # Then the crossing inside the mask recorded no clip (the same stream without a mask
    # records one: test_records_exactly_the_motion_segments_with_pre_and_post_roll)
    assert recorder.clips == []
