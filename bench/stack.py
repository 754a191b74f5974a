"""Which interpreter and PyAV cost the CPU of a camera's decode: CPU per 1000 frames, per stage.

    # once, with any venv that has the engine: write the 1080p15 4 Mbit/s test file
    .venvs/newest/bin/python bench/stack.py --make /tmp/stack.mp4
    # then with each stack to compare (each venv needs the engine installed, no detector)
    VENV/bin/python bench/stack.py /tmp/stack.mp4 [--repeat 3]

The file is real footage (Debian opencv-doc's vtest.avi, people in a plaza) scaled to
1920x1080 at 15 fps, 4 Mbit/s, no B-frames: what a camera sends. Each stage runs over the whole
file in this process and is timed with process CPU time (the best of ``--repeat`` runs, so load
from other processes on the machine distorts it little):

* demux: reading the packets (the Python loop every packet of every camera goes through);
* analysis: demux + the engine's analysis decode (AnalysisDecoder at 5 fps, grey frame for
  motion): what a quiet camera costs;
* detector input: converting 5 frames a second to the RGB the live detector reads
  (frame_rgb at 416 px wide), on top of decoding: what a camera seeing people adds before
  inference;
* full decode: a plain decode of every frame, for reference.

Run it with each interpreter/PyAV pair to separate the two (PyAV 19 needs Python >= 3.12, so
the pairs are 3.11+18, 3.14+18 and 3.14+19). Prints one line per stage; asserts nothing.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from pathlib import Path

import av

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from homesec_engine.live.watch import frame_rgb  # noqa: E402
from homesec_engine.sources.analysis import AnalysisDecoder, analysis_gray  # noqa: E402

ANALYSIS_FPS = 5.0
DETECT_FPS = 5.0


def make(path: Path, seconds: int) -> None:
    """The test file: vtest.avi scaled to 1080p, looped to `seconds`, 15 fps at 4 Mbit/s."""
    from tests import realdata
    from tests.videotools import write_h264

    src = [av.VideoFrame.from_ndarray(f, format="rgb24").to_ndarray(
        format="rgb24", width=1920, height=1080)
        for f in realdata.video_frames(realdata.opencv_samples() / "vtest.avi", every=1)]
    frames = (src[i % len(src)] for i in range(seconds * 15))
    write_h264(path, frames, fps=15, gop=30, bit_rate=4_000_000)
    print(f"wrote {path} ({path.stat().st_size / 1e6:.1f} MB, {seconds * 15} frames)")


def run_demux(path: Path) -> int:
    n = 0
    with av.open(str(path)) as c:
        for packet in c.demux(c.streams.video[0]):
            if packet.size:
                n += 1
    return n


def run_analysis(path: Path, to_rgb: bool = False) -> int:
    n = 0
    with av.open(str(path)) as c:
        stream = c.streams.video[0]
        decoder = AnalysisDecoder(stream.codec_context, ANALYSIS_FPS)
        next_rgb = 0.0
        for packet in c.demux(stream):
            if not packet.size:
                continue
            n += 1
            t = float(packet.pts * stream.time_base)
            for ft, frame in decoder.decode(packet, t, stream.time_base):
                analysis_gray(frame, 320)
                if to_rgb and ft >= next_rgb:
                    frame_rgb(frame, 416)
                    next_rgb = ft + 1 / DETECT_FPS
    return n


def run_full(path: Path) -> int:
    n = 0
    with av.open(str(path)) as c:
        stream = c.streams.video[0]
        stream.codec_context.thread_type = "SLICE"
        stream.codec_context.thread_count = 1
        for _ in c.decode(stream):
            n += 1
    return n


def best(stage: Callable[[], int], repeat: int) -> tuple[float, int]:
    """(CPU seconds per 1000 frames, frames): the best of `repeat` runs."""
    results = []
    for _ in range(repeat):
        cpu0 = time.process_time()
        n = stage()
        results.append((time.process_time() - cpu0, n))
    cpu, n = min(results)
    return 1000 * cpu / max(1, n), n


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("path", type=Path)
    parser.add_argument("--make", action="store_true", help="write the test file and exit")
    parser.add_argument("--seconds", type=int, default=60, help="length of the file (--make)")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    if args.make:
        make(args.path, args.seconds)
        return
    stack = f"Python {sys.version.split()[0]}, PyAV {av.__version__}, " \
            f"FFmpeg {av.library_versions['libavcodec']}"
    print(f"stack: {stack}")
    stages: list[tuple[str, Callable[[], int]]] = [
        ("demux", lambda: run_demux(args.path)),
        ("analysis (quiet camera)", lambda: run_analysis(args.path)),
        ("analysis + detector input", lambda: run_analysis(args.path, to_rgb=True)),
        ("full decode", lambda: run_full(args.path)),
    ]
    for name, stage in stages:
        per_k, n = best(stage, args.repeat)
        # CPU share of one core at 15 fps = per-1000 CPU s * 15 / 1000.
        print(f"  {name:28s} {per_k:6.2f} CPU s / 1000 frames  "
              f"({per_k * 1.5:5.1f} % of a core per 15 fps camera; {n} frames)")


if __name__ == "__main__":
    main()
