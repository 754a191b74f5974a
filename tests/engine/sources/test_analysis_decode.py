"""The paced analysis decode: motion runs at analysis_fps, non-reference frames are not decoded."""

from __future__ import annotations

from pathlib import Path

import av

from homesec_engine.sources.analysis import AnalysisDecoder, analysis_gray
from homesec_engine.sources.motion import MotionDetector
from tests.videotools import Segment, scripted_frames, write_h264

FPS = 15
MOTION = Segment(2, 4)


def write_with_b_frames(path: Path) -> Path:
    """Like a camera 'smart codec' stream: two non-reference B-frames between P-frames."""
    with av.open(str(path), "w") as out:
        stream = out.add_stream("libx264", rate=FPS)
        stream.pix_fmt, stream.width, stream.height = "yuv420p", 320, 240
        stream.options = {"preset": "veryfast", "bf": "2", "crf": "23",
                          "x264-params": f"scenecut=0:keyint={FPS}:b-pyramid=none"}
        for rgb in scripted_frames(320, 240, FPS, 6, [MOTION], noise=2.0):
            out.mux(stream.encode(av.VideoFrame.from_ndarray(rgb, format="rgb24")))
        out.mux(stream.encode(None))
    return path


def analyse(path: Path, fps: float) -> tuple[int, int, list]:
    """Run a file through the analysis decode + motion: (frames, decoded, motion updates)."""
    detector = MotionDetector(sensitivity=0.5, min_motion_s=0.5)
    updates, frames = [], 0
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        decoder = AnalysisDecoder(stream.codec_context, fps)
        for packet in container.demux(stream):
            frames += packet.size > 0
            t = float(packet.pts * stream.time_base) if packet.pts is not None else 0.0
            for ft, frame in decoder.decode(packet, t, stream.time_base):
                updates.append((ft, detector.update(analysis_gray(frame, 160), ft)))
    return frames, decoder.decoded, updates


def assert_motion_found(updates: list) -> None:
    confirmed = [u for _, u in updates if u.confirmed]
    assert confirmed, "the moving object was not detected"
    assert MOTION.start_s - 0.01 <= confirmed[0].run_start <= MOTION.start_s + 0.3
    assert abs(updates[-1][1].last_motion - MOTION.end_s) <= 0.3
    assert not any(u.moving for t, u in updates if t < MOTION.start_s or t > MOTION.end_s + 0.3)


def test_stream_with_non_reference_frames_is_analysed_at_5_fps_without_decoding_them(
    tmp_path: Path,
) -> None:
    # Given a 15 fps stream in which two of every three frames are non-reference B-frames
    path = write_with_b_frames(tmp_path / "ibbp.mp4")
    # When it is analysed at 5 fps
    frames, decoded, updates = analyse(path, fps=5)
    # Then most frames were never decoded, and about 5 frames a second were analysed
    assert decoded <= frames * 0.45
    times = [t for t, _ in updates]
    assert 4.5 * 6 <= len(times) <= 6.5 * 6
    assert max(b - a for a, b in zip(times, times[1:])) <= 0.27
    # And the object's motion is still found from when it started to when it stopped
    assert_motion_found(updates)


def test_all_reference_stream_is_decoded_fully_but_analysed_at_5_fps(tmp_path: Path) -> None:
    # Given a camera-like stream where every frame is a reference (I and P frames only)
    frames_rgb = scripted_frames(320, 240, FPS, 6, [MOTION], noise=2.0)
    path = write_h264(tmp_path / "ipp.mp4", frames_rgb, fps=FPS, gop=FPS)
    # When it is analysed at 5 fps
    frames, decoded, updates = analyse(path, fps=5)
    # Then every frame had to be decoded (later frames depend on it), but only every third
    # one was looked at
    assert decoded == frames == 6 * FPS
    assert len(updates) == 6 * FPS // 3
    assert_motion_found(updates)
    # And with analysis_fps 0 every frame is analysed
    assert len(analyse(path, fps=0)[2]) == 6 * FPS
