"""RTSP motion path benchmark: CPU cost of the analysis decode and motion detection, per core.

Generates ~20 s of 1080p15 H.264 (textured scene, sensor noise, a moving object) at each bitrate
in ``--mbps`` (camera-like: I/P frames only, all of them references), the same at the top bitrate
with non-reference B-frames (cameras' "smart codec" modes), and a 640x360 substream of the same
scene. Then measures process CPU time, best of ``--repeat``, one decoder thread:

* per stream file: full-quality decode of every frame, the source's analysis decode
  (``AnalysisDecoder`` at ``analysis_fps``), and analysis decode + motion detection;
* the whole rtsp source (``RtspSource``) reading the streams over RTSP from the real test server
  (tests/videotools.py) at ``--speed`` times real time: single-stream mode (main stream decoded
  for motion) and substream mode (main stream only demuxed and remuxed into clips, substream
  decoded for motion).

Prints figures and a Markdown table; asserts nothing.

    python bench/motion.py [--seconds 20] [--repeat 3] [--cache-dir DIR]
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import av

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from homesec_engine.records import ClipFile  # noqa: E402
from homesec_engine.sources.analysis import AnalysisDecoder, analysis_gray  # noqa: E402
from homesec_engine.sources.motion import MotionDetector  # noqa: E402
from homesec_engine.sources.recording import BufferedPacket, PacketRing  # noqa: E402
from homesec_engine.sources.rtsp import RtspSource  # noqa: E402
from tests.videotools import RtspTestServer, Segment, scripted_frames  # noqa: E402

FPS, GOP = 15, 30  # 1080p15 with a 2 s GOP, like a typical camera main stream
MAIN_SIZE, SUB_SIZE = (1920, 1080), (640, 360)
SEGMENTS = [Segment(3, 8), Segment(12, 17)]


# --- stream generation ----------------------------------------------------------------------


@dataclass(frozen=True)
class Variant:
    name: str
    size: tuple[int, int]
    bit_rate: int
    b_frames: int = 0


def encode(path: Path, variant: Variant, seconds: float) -> None:
    """Encode the scripted scene with camera-like settings (fixed GOP, no scene cuts)."""
    width, height = variant.size
    params = f"scenecut=0:keyint={GOP}:min-keyint={GOP}"
    if variant.b_frames:
        params += ":b-pyramid=none"  # B-frames are then never references
    with av.open(str(path), "w") as out:
        stream = out.add_stream("libx264", rate=FPS)
        stream.pix_fmt, stream.width, stream.height = "yuv420p", width, height
        stream.codec_context.gop_size = GOP
        stream.bit_rate = variant.bit_rate
        stream.options = {"preset": "veryfast", "bf": str(variant.b_frames), "x264-params": params}
        for rgb in scripted_frames(width, height, FPS, seconds, SEGMENTS, noise=4.0):
            out.mux(stream.encode(av.VideoFrame.from_ndarray(rgb, format="rgb24")))
        out.mux(stream.encode(None))


def prepare(directory: Path, variants: list[Variant], seconds: float) -> dict[str, Path]:
    paths = {}
    for variant in variants:
        path = directory / f"{variant.name}-{seconds:g}s.mp4"
        if not path.exists():
            t0 = time.monotonic()
            encode(path, variant, seconds)
            print(f"generated {path.name} in {time.monotonic() - t0:.0f} s")
        paths[variant.name] = path
    return paths


# --- decode cases (one file, one thread) ----------------------------------------------------


def full_decode(path: Path) -> float:
    """Every frame at full quality: what the source would cost without the cheap decode."""
    cpu0 = time.process_time()
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        stream.codec_context.thread_count = 1
        for packet in container.demux(stream):
            stream.codec_context.decode(packet)
    return time.process_time() - cpu0


def analysis_decode(path: Path, motion: bool, fps: float, width: int = 320) -> float:
    """The source's analysis decode, optionally with motion detection on the due frames."""
    detector = MotionDetector(sensitivity=0.5, min_motion_s=0.5)
    cpu0 = time.process_time()
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        tb = stream.time_base
        decoder = AnalysisDecoder(stream.codec_context, fps, threads=1)
        for packet in container.demux(stream):
            t = float(packet.pts * tb) if packet.pts is not None else 0.0
            for ft, frame in decoder.decode(packet, t, tb):
                if motion:
                    detector.update(analysis_gray(frame, width), ft)
    return time.process_time() - cpu0


def demux_only(path: Path) -> float:
    """The main stream in substream mode: demux into the pre-roll ring, no decode."""
    ring = PacketRing(keep_s=4.0)
    cpu0 = time.process_time()
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        tb: Any = stream.time_base
        for packet in container.demux(stream):
            if packet.pts is None:
                continue
            dts = packet.dts if packet.dts is not None else packet.pts
            t = float(packet.pts * tb)
            ring.append(BufferedPacket(packet, packet.pts, dts, tb, t, packet.is_keyframe))
    return time.process_time() - cpu0


def best_of(cases: dict[str, Callable[[], float]], repeat: int) -> dict[str, float]:
    """Best-of-``repeat`` CPU time per case; cases interleaved so drift hits all alike."""
    for fn in cases.values():
        fn()  # warm-up: page cache, decoder tables, numpy
    best: dict[str, float] = {}
    for _ in range(repeat):
        for name, fn in cases.items():
            best[name] = min(best.get(name, float("inf")), fn())
    return best


# --- the whole source over RTSP ----------------------------------------------------------------


async def source_cpu(main: Path, sub: Path | None, speed: float, work_dir: Path) -> tuple[float, int]:
    """Process CPU seconds the rtsp source spends on one playthrough; and clips recorded."""
    clips: list[ClipFile] = []
    health: list[bool] = []

    async def on_clip(clip: ClipFile) -> None:
        clips.append(clip)

    async def on_health(_camera: str, healthy: bool) -> None:
        health.append(healthy)

    servers = [RtspTestServer(main, speed=speed)] + ([RtspTestServer(sub, speed=speed)] if sub else [])
    for server in servers:
        server.start()
    config: dict[str, Any] = {"url": servers[0].url, "read_timeout_s": 2.0,
                              "min_motion_s": 0.5, "pre_roll_s": 2.0, "post_roll_s": 3.0}
    if sub:
        config["analysis_url"] = servers[1].url
    source = RtspSource("bench", config, work_dir)
    cpu0 = time.process_time()
    try:
        await source.start(on_clip, on_health)
        # The servers go silent at the end of the file: the source then reports unhealthy.
        async with asyncio.timeout(600):
            while not (health and health[-1] is False):
                await asyncio.sleep(0.1)
    finally:
        await source.stop()
        cpu = time.process_time() - cpu0
        for server in servers:
            server.stop()
    for clip in clips:
        clip.path.unlink(missing_ok=True)
    return cpu, len(clips)


def best_source_cpu(main: Path, sub: Path | None, speed: float, repeat: int) -> tuple[float, int]:
    best, clips = float("inf"), 0
    with tempfile.TemporaryDirectory() as tmp:
        for _ in range(repeat):
            cpu, clips = asyncio.run(source_cpu(main, sub, speed, Path(tmp)))
            best = min(best, cpu)
    return best, clips


# --- report ----------------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--mbps", type=float, nargs="+", default=[2.0, 4.0],
                        help="main stream bitrates (decode cost grows with bitrate)")
    parser.add_argument("--sub-kbps", type=float, default=512)
    parser.add_argument("--analysis-fps", type=float, default=5.0)
    parser.add_argument("--speed", type=float, default=4.0,
                        help="RTSP playback speed for the whole-source runs")
    parser.add_argument("--cache-dir", type=Path, help="keep generated streams here")
    args = parser.parse_args()
    # A finished playthrough ends in a read timeout: expected here, not worth a warning.
    logging.getLogger("homesec_engine").setLevel(logging.ERROR)

    top = max(args.mbps)
    variants = [Variant(f"1080p{FPS}-{m:g}mbps", MAIN_SIZE, int(m * 1e6)) for m in args.mbps]
    variants.append(Variant(f"1080p{FPS}-{top:g}mbps-ibbp", MAIN_SIZE, int(top * 1e6), b_frames=2))
    variants.append(Variant(f"360p{FPS}-{args.sub_kbps:g}kbps", SUB_SIZE, int(args.sub_kbps * 1e3)))
    with tempfile.TemporaryDirectory() as tmp:
        directory = args.cache_dir or Path(tmp)
        directory.mkdir(parents=True, exist_ok=True)
        paths = prepare(directory, variants, args.seconds)
        report(args, variants, paths)


def report(args: argparse.Namespace, variants: list[Variant], paths: dict[str, Path]) -> None:
    media_s, fps = args.seconds, args.analysis_fps
    rows: list[str] = []
    print(f"\nCPU seconds for {media_s:g} s of video, best of {args.repeat}, one decoder thread; "
          f"motion at analysis_fps={fps:g}\n")
    for variant in variants:
        path = paths[variant.name]
        mbits = path.stat().st_size * 8 / media_s / 1e6
        cpu = best_of(
            {
                "full": lambda: full_decode(path),
                "decode": lambda: analysis_decode(path, False, fps),
                "motion": lambda: analysis_decode(path, True, fps),
                "motion_all": lambda: analysis_decode(path, True, 0.0),
            },
            args.repeat,
        )
        overhead = 100 * (cpu["motion"] - cpu["decode"]) / cpu["decode"]
        label = f"{variant.name} ({mbits:.1f} Mbit/s)"
        print(f"{label}: full decode {cpu['full']:.2f} s | analysis decode {cpu['decode']:.2f} s"
              f" | + motion {cpu['motion']:.2f} s ({overhead:+.1f} %) | + motion on every frame"
              f" {cpu['motion_all']:.2f} s")
        rows.append(
            f"| {label} | {media_s / cpu['full']:.1f}x | {media_s / cpu['decode']:.1f}x | "
            f"{media_s / cpu['motion']:.1f}x | {overhead:+.1f} % | "
            f"{media_s / cpu['motion_all']:.1f}x |"
        )

    main_path = paths[f"1080p{FPS}-{max(args.mbps):g}mbps"]
    sub_path = paths[variants[-1].name]
    parts = best_of(
        {"demux": lambda: demux_only(main_path),
         "sub": lambda: analysis_decode(sub_path, True, fps)},
        args.repeat,
    )
    split = parts["demux"] + parts["sub"]
    print(f"\nsubstream mode from files: demux main {parts['demux']:.2f} s + sub decode+motion "
          f"{parts['sub']:.2f} s = {split:.2f} s -> {media_s / split:.1f}x real time per core")

    single, n1 = best_source_cpu(main_path, None, args.speed, args.repeat)
    dual, n2 = best_source_cpu(main_path, sub_path, args.speed, args.repeat)
    print(f"whole source over RTSP at {args.speed:g}x: single stream {single:.2f} s "
          f"({n1} clips) -> {media_s / single:.1f}x; substream mode {dual:.2f} s ({n2} clips) "
          f"-> {media_s / dual:.1f}x real time per core")

    print("\n| Stream | Full decode | Analysis decode only | Analysis decode + motion "
          "| Motion overhead | Decode + motion on every frame |")
    print("|---|---|---|---|---|---|")
    print("\n".join(rows))
    print("\n(real-time factor per core = seconds of video per CPU second; "
          "target: motion overhead <= 8 %, >= 15x)\n")
    print("| Whole rtsp source (main 1080p15 4 Mbit/s) | CPU s | Real-time factor per core |")
    print("|---|---|---|")
    print(f"| Single stream: main decoded for motion (over RTSP) | {single:.2f} | "
          f"{media_s / single:.1f}x |")
    print(f"| Substream mode: main demuxed + remuxed, 640x360 sub decoded for motion "
          f"(over RTSP) | {dual:.2f} | {media_s / dual:.1f}x |")
    print(f"| Substream mode, files only (demux main + decode/motion sub) | {split:.2f} | "
          f"{media_s / split:.1f}x |")


if __name__ == "__main__":
    main()
