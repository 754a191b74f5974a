"""The rtsp source with an analysis substream: motion from the substream, clips from the main.

Two real RTSP test servers play the two streams of one camera: the main stream at 640x480 and
the substream at 160x120, showing the same scripted scene.
"""

from __future__ import annotations

from pathlib import Path

import av
import numpy as np
import pytest

from homesec_engine.sources.rtsp import RtspSource
from tests.videotools import RtspTestServer, Segment, free_port, make_motion_video, probe_video

FPS, GOP_S = 10, 1.0
SEGMENTS = [Segment(2, 4), Segment(8, 10)]
OBJECT_RGB = np.array([230, 230, 40])  # the scripted object's colour (videotools default)


def object_frames(path: Path) -> list[bool]:
    """For each frame of a clip: is the scripted object visible?"""
    seen = []
    with av.open(str(path)) as container:
        for frame in container.decode(video=0):
            rgb = frame.to_ndarray(format="rgb24").astype(np.int16)
            seen.append(int(np.all(np.abs(rgb - OBJECT_RGB) < 40, axis=2).sum()) > 100)
    return seen


def camera_streams(tmp_path: Path, segments: list[Segment], duration_s: float) -> tuple[Path, Path]:
    """Main stream and substream of one camera filming the same scene."""
    main = make_motion_video(tmp_path / "main.mp4", segments, duration_s, width=640, height=480,
                             fps=FPS, gop=int(GOP_S * FPS))
    sub = make_motion_video(tmp_path / "sub.mp4", segments, duration_s, width=160, height=120,
                            fps=FPS, gop=int(GOP_S * FPS))
    return main, sub


async def test_motion_seen_on_the_substream_records_the_main_stream(
    tmp_path: Path, work_dir: Path, recorder
) -> None:
    # Given a camera whose substream is used for motion and whose main stream is recorded
    main, sub = camera_streams(tmp_path, SEGMENTS, duration_s=14)
    pre, post = 1.0, 1.5
    config = {"analysis_width": 160, "min_motion_s": 0.3, "pre_roll_s": pre, "post_roll_s": post}
    with RtspTestServer(main, speed=2.0) as main_srv, RtspTestServer(sub, speed=2.0) as sub_srv:
        source = RtspSource("drive", {**config, "url": main_srv.url,
                                      "analysis_url": sub_srv.url}, work_dir)
        await source.start(recorder.on_clip, recorder.on_health)
        try:
            # When both streams play through the two motion segments
            await recorder.wait_for(lambda: len(recorder.clips) >= 2)
        finally:
            await source.stop()

    # Then one clip per motion segment was recorded, and it is the main stream's picture
    assert len(recorder.clips) == 2
    assert recorder.health[0] == ("drive", True)
    expected = 2.0 + pre + post
    for clip in recorder.clips:
        info = probe_video(clip.path)
        assert (info.width, info.height) == (640, 480)
        assert expected - 3 / FPS <= info.duration_s <= expected + GOP_S + 3 / FPS
        assert info.frames >= round(info.duration_s * FPS) - 1
        # And it opens before the object appears and closes after it left (pre/post roll
        # carried over from the substream's clock to the main stream's)
        seen = object_frames(clip.path)
        assert not seen[0] and not seen[-1]
        assert abs(sum(seen) - 2.0 * FPS) <= 2
    assert recorder.clips[0].ended_at <= recorder.clips[1].started_at


async def test_substream_motion_triggers_even_if_main_stream_is_not_analysed(
    tmp_path: Path, work_dir: Path, recorder
) -> None:
    # Given a main stream showing a still scene and a substream showing motion at 2-4 s
    # (so only analysing the substream can start a recording)
    main = make_motion_video(tmp_path / "main.mp4", [], 8, width=640, height=480, fps=FPS)
    sub = make_motion_video(tmp_path / "sub.mp4", [Segment(2, 4)], 8, width=160, height=120,
                            fps=FPS)
    config = {"analysis_width": 160, "min_motion_s": 0.3, "pre_roll_s": 1, "post_roll_s": 1}
    with RtspTestServer(main, speed=2.0) as main_srv, RtspTestServer(sub, speed=2.0) as sub_srv:
        source = RtspSource("side", {**config, "url": main_srv.url,
                                     "analysis_url": sub_srv.url}, work_dir)
        await source.start(recorder.on_clip, recorder.on_health)
        try:
            await recorder.wait_for(lambda: len(recorder.clips) >= 1)
        finally:
            await source.stop()
    # Then the main stream was recorded for the substream's motion: about 2 s + rolls
    assert len(recorder.clips) == 1
    info = probe_video(recorder.clips[0].path)
    assert (info.width, info.height) == (640, 480)
    assert 4.0 - 3 / FPS <= info.duration_s <= 4.0 + GOP_S + 3 / FPS


@pytest.mark.parametrize("lost", ["substream", "main stream"])
async def test_health_covers_both_streams_and_each_reconnects(
    tmp_path: Path, work_dir: Path, recorder, monkeypatch, caplog, lost: str
) -> None:
    # Given a camera streaming a looping still scene on both streams, the substream's URL
    # (with a password) taken from an environment variable
    main, sub = camera_streams(tmp_path, [], duration_s=3)
    main_srv = RtspTestServer(main, port=free_port(), loop=True)
    sub_srv = RtspTestServer(sub, port=free_port(), loop=True)
    monkeypatch.setenv("CAM_SUB_URL", f"rtsp://admin:s3cret@127.0.0.1:{sub_srv.port}/cam")
    config = {"url": main_srv.url, "analysis_url_env": "CAM_SUB_URL",
              "reconnect_max_backoff_s": 1.0}
    source = RtspSource("gate", config, work_dir)
    victim = sub_srv if lost == "substream" else main_srv
    main_srv.start()
    sub_srv.start()
    try:
        await source.start(recorder.on_clip, recorder.on_health)
        await recorder.wait_for(lambda: recorder.health == [("gate", True)])

        # When one of the two streams dies
        victim.stop()
        # Then the camera is reported unhealthy although the other stream still plays
        await recorder.wait_for(lambda: recorder.health[-1] == ("gate", False))
        assert not source.is_healthy()
        beat_when_lost = source.last_heartbeat()

        # When it comes back
        victim.start()
        # Then the source reconnects it by itself and the camera is healthy again
        await recorder.wait_for(lambda: recorder.health[-1] == ("gate", True))
        assert source.last_heartbeat() > beat_when_lost
        assert recorder.health == [("gate", True), ("gate", False), ("gate", True)]
    finally:
        await source.stop()
        main_srv.stop()
        sub_srv.stop()
    # And the substream's secret never reached the log, while the loss did
    assert "s3cret" not in caplog.text
    assert "stream" in caplog.text and ("ended" in caplog.text or "error" in caplog.text)
    assert recorder.clips == []


async def test_missing_substream_env_var_refuses_to_start(work_dir: Path, recorder) -> None:
    # Given a substream URL configured through an environment variable that is not set
    source = RtspSource("attic", {"url": "rtsp://127.0.0.1:1/cam",
                                  "analysis_url_env": "HOMESEC_TEST_UNSET_VAR"}, work_dir)
    # When the camera is started, Then it fails with a message naming the variable
    with pytest.raises(ValueError, match="HOMESEC_TEST_UNSET_VAR"):
        await source.start(recorder.on_clip, recorder.on_health)
    assert source._threads == [] and not source.is_healthy()
