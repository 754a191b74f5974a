"""Live view benchmark: the camera's CPU with 0, 1 and 4 restream viewers, snapshot latency,
and how fast a viewer opening the restream as Home Assistant's stream worker does gets a frame.

A real engine (run_sources=True) records one RTSP camera served by tests/videotools.py on
loopback (``--size`` H.264 at ``--fps`` and ``--mbps``, 2 s GOP, a still noisy scene so no
clips are recorded and only the live path costs). The engine runs in this process; the RTSP
server and every viewer run in child processes, so this process's CPU time is the engine's:

* camera CPU: process CPU time / wall time over ``--seconds``, with 0, 1 and 4 viewers reading
  the restream (``GET /api/v1/cameras/{name}/stream``) as fast as it comes;
* snapshot latency: ``--snapshots`` sequential ``GET /snapshot`` requests (full size and
  width=640), p50/p99;
* open to first frame: PyAV opening the restream URL (as HA's stream worker: ``av.open`` of an
  HTTP source) until the first decoded frame, p50/max over ``--opens``;
* open to first HLS segment: the same, until the packet at which HA's stream worker closes its
  first segment (HA's rule: the first keyframe at least ``min_segment_duration`` after the
  segment's opening keyframe, HA's own constants), p50/max over ``--opens``.

Prints figures and a Markdown table; asserts nothing.

    python bench/live.py [--seconds 10] [--size 1920x1080] [--mbps 4]
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import aiohttp
import av
from homeassistant.components.stream.const import (
    SEGMENT_DURATION_ADJUSTER,
    TARGET_SEGMENT_DURATION_NON_LL_HLS,
)

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.engine_harness import RunningEngine, running_engine  # noqa: E402
from tests.videotools import RtspTestServer, scripted_frames, write_h264  # noqa: E402

API_KEY = "bench-live-key"
# A viewer: reads the restream as fast as it comes and throws it away (own process, own CPU).
VIEWER = """
import sys, urllib.request
req = urllib.request.Request(sys.argv[1], headers={"Authorization": "Bearer " + sys.argv[2]})
with urllib.request.urlopen(req) as resp:
    while resp.read(65536):
        pass
"""


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


async def camera_cpu(engine: RunningEngine, viewers: int, seconds: float) -> tuple[float, int]:
    """(CPU % of one core, restream chunks sent) with ``viewers`` reading the restream."""
    url = f"{engine.api}/cameras/cam/stream"
    procs = [subprocess.Popen([sys.executable, "-c", VIEWER, url, API_KEY]) for _ in range(viewers)]
    hub = engine.runtime.sources["cam"].restream
    try:
        async with asyncio.timeout(20):
            while hub.viewers < viewers:
                await asyncio.sleep(0.05)
        await asyncio.sleep(2.0)  # viewers joined at a keyframe and are streaming
        chunks0, cpu0, wall0 = hub.chunks_sent, time.process_time(), time.monotonic()
        await asyncio.sleep(seconds)
        cpu, wall = time.process_time() - cpu0, time.monotonic() - wall0
        assert hub.viewers == viewers, "a viewer was dropped during the measurement"
        return 100 * cpu / wall, hub.chunks_sent - chunks0
    finally:
        for proc in procs:
            proc.kill()
            proc.wait()


async def snapshot_latency(engine: RunningEngine, count: int,
                           width: int | None) -> list[float]:
    params = {"width": str(width)} if width else {}
    times = []
    async with aiohttp.ClientSession(headers=engine.headers) as http:
        for _ in range(count):
            started = time.perf_counter()
            async with http.get(f"{engine.api}/cameras/cam/snapshot", params=params) as resp:
                await resp.read()
                assert resp.status == 200
            times.append((time.perf_counter() - started) * 1000)
    return times


def open_to_first_frame(url: str) -> float:
    started = time.perf_counter()
    with av.open(url, options={"headers": f"Authorization: Bearer {API_KEY}\r\n"},
                 timeout=(10, 10)) as container:
        for _frame in container.decode(video=0):
            return (time.perf_counter() - started) * 1000
    raise RuntimeError("no frame")


def open_to_first_segment(url: str) -> float:
    """Until HA's stream worker would have its first complete HLS segment."""
    min_segment = TARGET_SEGMENT_DURATION_NON_LL_HLS - SEGMENT_DURATION_ADJUSTER
    started = time.perf_counter()
    with av.open(url, options={"headers": f"Authorization: Bearer {API_KEY}\r\n"},
                 timeout=(10, 10)) as container:
        stream = container.streams.video[0]
        first: float | None = None
        for packet in container.demux(stream):
            if packet.dts is None or not packet.is_keyframe:
                continue
            t = float(packet.dts * stream.time_base)
            if first is None:
                first = t
            elif t - first >= min_segment:
                return (time.perf_counter() - started) * 1000
    raise RuntimeError("no segment")


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--size", default="1920x1080")
    parser.add_argument("--fps", type=int, default=15)
    parser.add_argument("--mbps", type=float, default=4.0)
    parser.add_argument("--snapshots", type=int, default=200)
    parser.add_argument("--opens", type=int, default=5)
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    width, height = (int(v) for v in args.size.split("x"))
    with tempfile.TemporaryDirectory() as tmp_dir:
        tmp = Path(tmp_dir)
        print(f"encoding 20 s of {width}x{height}@{args.fps} at {args.mbps} Mbit/s ...")
        frames = scripted_frames(width, height, args.fps, 20.0, [], noise=3.0)
        video = write_h264(tmp / "camera.mp4", frames, fps=args.fps, gop=2 * args.fps,
                           preset="ultrafast", bit_rate=int(args.mbps * 1e6))
        with RtspTestServer(video, loop=True) as server:
            cameras = [{"name": "cam", "source_backend": "rtsp",
                        "source_config": {"url": server.url}}]
            async with running_engine(tmp, cameras=cameras, api_key=API_KEY,
                                      run_sources=True) as engine:
                source = engine.runtime.sources["cam"]
                async with asyncio.timeout(20):
                    while source.live_frame() is None:
                        await asyncio.sleep(0.05)
                await asyncio.sleep(2.0)
                cpu = {}
                for viewers in (0, 1, 4):
                    cpu[viewers], chunks = await camera_cpu(engine, viewers, args.seconds)
                    print(f"{viewers} viewers: camera CPU {cpu[viewers]:.1f} % of a core "
                          f"({chunks} restream chunks)")
                full = await snapshot_latency(engine, args.snapshots, None)
                small = await snapshot_latency(engine, args.snapshots, 640)
                url = f"{engine.api}/cameras/cam/stream"
                opens = [await asyncio.to_thread(open_to_first_frame, url)
                         for _ in range(args.opens)]
                segments = []
                for _ in range(args.opens):
                    # Open at a random point of the GOP, as a person opening the view does.
                    await asyncio.sleep(random.uniform(0, 2.0))
                    segments.append(await asyncio.to_thread(open_to_first_segment, url))
    per_viewer_1 = cpu[1] - cpu[0]
    per_viewer_4 = (cpu[4] - cpu[0]) / 4
    print()
    print(f"| camera {width}x{height}@{args.fps}, {args.mbps:g} Mbit/s | figure |")
    print("|---|---|")
    print(f"| camera CPU, 0 viewers | {cpu[0]:.1f} % of a core |")
    print(f"| camera CPU, 1 viewer | {cpu[1]:.1f} % (+{per_viewer_1:.2f} points) |")
    print(f"| camera CPU, 4 viewers | {cpu[4]:.1f} % (+{per_viewer_4:.2f} points per viewer) |")
    print(f"| snapshot, full size, p50 / p99 | {statistics.median(full):.1f} / "
          f"{pct(full, 0.99):.1f} ms |")
    print(f"| snapshot, width=640, p50 / p99 | {statistics.median(small):.1f} / "
          f"{pct(small, 0.99):.1f} ms |")
    print(f"| restream open -> first decoded frame (PyAV), p50 / max | "
          f"{statistics.median(opens):.0f} / {max(opens):.0f} ms |")
    print(f"| restream opened -> HA's first HLS segment complete, p50 / max | "
          f"{statistics.median(segments):.0f} / {max(segments):.0f} ms |")


if __name__ == "__main__":
    asyncio.run(main())
