"""RTSP motion path benchmark: CPU cost of motion detection over decode-only, per core.

Generates ~20 s of 1080p15 H.264 (textured scene, sensor noise, a moving object) with PyAV into a
temp dir, then decodes it the way the rtsp source does (analysis decode settings, one decoder
thread) with and without motion detection, measuring process CPU time. Prints figures; asserts
nothing.

    python bench/motion.py [--seconds 20] [--repeat 3]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import av

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from homesec_engine.sources.analysis import analysis_gray, configure_analysis_decoder  # noqa: E402
from homesec_engine.sources.motion import MotionDetector  # noqa: E402
from tests.videotools import Segment, scripted_frames, write_h264  # noqa: E402

WIDTH, HEIGHT, FPS = 1920, 1080, 15


def run(path: Path, analysis: bool, motion: bool, analysis_width: int = 320) -> tuple[float, int]:
    """Decode the whole file once; returns (process CPU seconds, frames)."""
    detector = MotionDetector(sensitivity=0.5, min_motion_s=0.5)
    frames = 0
    cpu0 = time.process_time()
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        if analysis:
            configure_analysis_decoder(stream.codec_context, threads=1)
        else:
            stream.codec_context.thread_count = 1
        tb = stream.time_base
        for packet in container.demux(stream):
            for frame in packet.decode():
                frames += 1
                if motion:
                    detector.update(analysis_gray(frame, analysis_width), float(frame.pts * tb))
    return time.process_time() - cpu0, frames


def measure(
    cases: dict[str, Callable[[], tuple[float, int]]], repeat: int
) -> dict[str, tuple[float, int]]:
    """Best-of-``repeat`` CPU time per case; cases interleaved so drift hits all alike."""
    for fn in cases.values():
        fn()  # warm-up: page cache, decoder tables, numpy
    best: dict[str, tuple[float, int]] = {}
    for _ in range(repeat):
        for name, fn in cases.items():
            cpu, n = fn()
            if name not in best or cpu < best[name][0]:
                best[name] = (cpu, n)
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--mbps", type=float, nargs="+", default=[2.0, 4.0],
                        help="stream bitrates to test (decode cost grows with bitrate)")
    args = parser.parse_args()
    for mbps in args.mbps:
        bench_stream(args.seconds, args.repeat, mbps)


def bench_stream(seconds: float, repeat: int, mbps: float) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "bench_1080p15.mp4"
        t0 = time.monotonic()
        segments = [Segment(3, 8), Segment(12, 17)]
        frames = scripted_frames(WIDTH, HEIGHT, FPS, seconds, segments, noise=4.0)
        # A camera-like main stream: fixed bitrate, 2 s GOP, no B-frames.
        write_h264(path, frames, fps=FPS, gop=2 * FPS, preset="veryfast",
                   bit_rate=int(mbps * 1e6))
        size_mb = path.stat().st_size / 1e6
        print(f"stream: {seconds:.0f} s 1080p{FPS} H.264, {size_mb:.1f} MB "
              f"({size_mb * 8 / seconds:.1f} Mbit/s), generated in {time.monotonic() - t0:.1f} s")
        media_s = seconds
        rows = measure(
            {
                "full-quality decode (reference)": lambda: run(path, False, False),
                "analysis decode only": lambda: run(path, True, False),
                "analysis decode + motion": lambda: run(path, True, True),
            },
            repeat,
        )
        for name, (cpu, n) in rows.items():
            print(f"{name:34s} cpu {cpu:6.2f} s  {n / cpu:7.1f} fps  "
                  f"real-time factor per core {media_s / cpu:6.1f}x")
        decode, _ = rows["analysis decode only"]
        both, _ = rows["analysis decode + motion"]
        print(f"motion detection CPU over decode-only: {100 * (both - decode) / decode:+.1f} % "
              f"(target <= 8 %)")
        print(f"decode+motion real-time factor per core: {media_s / both:.1f}x (target >= 15x)")
        print()


if __name__ == "__main__":
    main()
