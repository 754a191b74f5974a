"""What one 4K camera costs in memory: the engine's RSS with it, against without it.

    .venvs/newest/bin/python bench/camera_4k.py [--seconds 60] [--width 3840 --height 2160]

A synthetic 4K stream made with PyAV (libx264, 10 fps, GOP 1 s, 8 Mbit/s; a dark textured still
scene with a bright box moving across it half the time, so the camera records clips and runs live
detection) is served over loopback RTSP (tests/videotools.py's RtspTestServer, looping). The real
engine runs as a child process (tests/faults/engine_process.py, the embedded default config and
its detector) twice: with the camera disabled (the baseline), then enabled. Its RSS (VmRSS) is
sampled every second over ``--seconds`` after it is healthy; prints the baseline, the camera's
median and peak RSS and the difference, and the clips recorded. Figures are printed, never
asserted.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import av
import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from tests.faults.engine_process import EngineProcess, http  # noqa: E402
from tests.videotools import RtspTestServer  # noqa: E402

CACHE = Path(os.environ.get("HOMESEC_CACHE_DIR", Path.home() / ".cache" / "homesec")) / "bench"
FPS = 10


def stream_4k(width: int, height: int, seconds: int = 20) -> Path:
    """The synthetic stream (cached): frames made one at a time, never all in memory."""
    path = CACHE / f"synthetic-v2-{width}x{height}-{seconds}s.mp4"
    if path.exists():
        return path
    CACHE.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(4)
    scene = rng.integers(30, 110, (height // 8, width // 8, 3), dtype=np.uint8)
    scene = np.repeat(np.repeat(scene, 8, axis=0), 8, axis=1)
    part = path.with_suffix(".part")
    with av.open(str(part), "w", format="mp4") as out:
        stream: Any = out.add_stream("libx264", rate=FPS)
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        stream.bit_rate = 8_000_000
        stream.options = {"preset": "ultrafast", "x264-params":
                          f"keyint={FPS}:min-keyint={FPS}:scenecut=0"}
        count = seconds * FPS
        for i in range(count):
            frame = scene.copy()
            if i < count // 2:  # a person-sized box walks across, then the scene is still
                x = int((width - width // 10) * i / (count // 2))
                frame[height // 3: height // 3 + height // 3, x: x + width // 10] = (245, 245, 235)
            out.mux(stream.encode(av.VideoFrame.from_ndarray(frame, format="rgb24")))
        out.mux(stream.encode(None))
    part.replace(path)
    return path


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def measure(url: str, enabled: bool, seconds: int) -> tuple[list[float], int]:
    cameras = [{"name": "demo", "enabled": False, "source_backend": "demo", "source_config": {}},
               {"name": "uhd", "enabled": enabled, "source_backend": "rtsp",
                "source_config": {"url": url}}]
    with tempfile.TemporaryDirectory(prefix="homesec-4k-") as tmp:
        with EngineProcess(Path(tmp), config={"cameras": cameras}) as engine:
            engine.wait_healthy(timeout=120)
            assert engine.proc is not None
            time.sleep(5)  # connected, first pictures decoded
            samples = []
            for _ in range(seconds):
                samples.append(rss_mb(engine.proc.pid))
                time.sleep(1)
            _, clips = http("GET", f"{engine.url}/clips?camera=uhd")
            if enabled:
                _, listing = http("GET", f"{engine.url}/cameras")
                uhd = next(c for c in listing["cameras"] if c["name"] == "uhd")
                print("camera:", {k: uhd.get(k) for k in (
                    "healthy", "error", "lag_s", "analysis_dropped_pct")}, flush=True)
            return samples, int(clips["total"])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=int, default=60)
    parser.add_argument("--width", type=int, default=3840)
    parser.add_argument("--height", type=int, default=2160)
    args = parser.parse_args()
    video = stream_4k(args.width, args.height)
    print(f"stream: {video.name}, {video.stat().st_size / 1e6:.1f} MB", flush=True)
    with RtspTestServer(video, loop=True) as server:
        base, _ = measure(server.url, False, args.seconds)
        with_camera, clips = measure(server.url, True, args.seconds)
    base_mb = statistics.median(base)
    median_mb, peak_mb = statistics.median(with_camera), max(with_camera)
    print(f"engine without the camera: {base_mb:.0f} MB RSS (median)")
    print(f"engine with one {args.width}x{args.height} camera: {median_mb:.0f} MB median, "
          f"{peak_mb:.0f} MB peak over {args.seconds} s ({clips} clips)")
    print(f"the camera's share: {median_mb - base_mb:.0f} MB median, {peak_mb - base_mb:.0f} MB "
          f"peak; load average {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
