"""Live view latency, WebRTC beside HLS: from the camera's frame reaching the engine to the client.

A real engine (run_sources=True) records one RTSP camera served by tests/videotools.py on
loopback (``--size`` H.264 at ``--fps``, ``--gop`` frames per keyframe). Each frame carries its
number in a row of black and white blocks, so a client's decoded picture says which frame it
is. The engine, the clients and the clock are in this one process:

* camera (glass): when the engine's source hands the frame's packet to its restream fan-out
  (the camera's own encoding and network come before that, the same for every client);
* WebRTC: a real aiortc viewer of ``POST /cameras/{name}/webrtc`` (what HA's frontend gets),
  when it has decoded the frame;
* restream → PyAV: the MPEG-TS restream read by PyAV as HA's stream worker reads it, when PyAV
  has decoded the frame (the floor of anything HLS can do);
* HLS segment: when HA's stream worker could close the HLS segment holding the frame (HA's rule
  and constants, as bench/live.py: the first keyframe at least the minimum segment duration
  after the segment's first one). A player shows it later still (it fetches the playlist and
  segment, and hls.js holds back a few segments); so this is a lower bound for HLS.

Prints p50/p99 in ms per path and a Markdown table; asserts nothing.

    python bench/webrtc.py [--seconds 20] [--size 640x360] [--fps 15] [--gop 30]
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import statistics
import sys
import tempfile
import threading
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

import aiohttp
import av
import numpy as np
from homeassistant.components.stream.const import (
    SEGMENT_DURATION_ADJUSTER,
    TARGET_SEGMENT_DURATION_NON_LL_HLS,
)

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.engine_harness import running_engine  # noqa: E402
from tests.videotools import RtspTestServer, write_h264  # noqa: E402
from tests.webrtc_client import webrtc_viewer  # noqa: E402

API_KEY = "bench-webrtc-key"
BITS = 12  # frame number bits drawn in the picture (the file loops before 4096 frames)
BAND = 24  # height of the band of blocks, px


def draw_frames(width: int, height: int, count: int) -> list[np.ndarray]:
    rng = np.random.default_rng(3)
    scene = rng.integers(60, 190, (height, width, 3), dtype=np.uint8)
    block = width // BITS
    frames = []
    for i in range(count):
        frame = scene.copy()
        frame[BAND:] = np.clip(frame[BAND:].astype(np.int16) + rng.integers(
            -6, 7, (height - BAND, width, 3)), 0, 255).astype(np.uint8)
        for bit in range(BITS):
            frame[:BAND, bit * block:(bit + 1) * block] = 255 if (i >> bit) & 1 else 0
        frames.append(frame)
    return frames


def frame_number(frame: Any) -> int:
    """The number drawn in a decoded frame (read from its luma plane: cheap, no conversion)."""
    plane = frame.planes[0]
    luma = np.frombuffer(plane, np.uint8).reshape(-1, plane.line_size)[:BAND, :frame.width]
    block = frame.width // BITS
    band = luma[4:BAND - 4].mean(axis=0)
    return sum(1 << bit for bit in range(BITS)
               if band[bit * block + 4:(bit + 1) * block - 4].mean() > 128)


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


class Glass:
    """When each frame's packet reached the engine's restream fan-out (decoded afterwards)."""

    def __init__(self, hub: Any) -> None:
        self.hub = hub
        self.packets: list[tuple[float, bytes]] = []
        feed = hub.feed

        def recording_feed(item: Any) -> None:
            self.packets.append((time.monotonic(), hub._raw(item).data))
            feed(item)

        hub.feed = recording_feed

    def times(self) -> dict[int, list[float]]:
        """Frame number -> the times that frame (each loop of the file) reached the engine."""
        codec = av.CodecContext.create("h264", "r")
        seen: dict[int, list[float]] = defaultdict(list)
        for at, data in self.packets:
            try:
                for frame in codec.decode(av.Packet(data)):
                    seen[frame_number(frame)].append(at)
            except av.InvalidDataError:
                continue  # before the first keyframe
        return seen


def latencies(glass: dict[int, list[float]], shown: list[tuple[float, int]]) -> list[float]:
    """Each client frame's time minus the latest engine arrival of that frame before it."""
    out = []
    for at, number in shown:
        before = [t for t in glass.get(number, []) if t <= at]
        if before:
            out.append((at - max(before)) * 1000)
    return out


def read_restream(url: str, stop: threading.Event, decoded: list[tuple[float, int]],
                  segments: list[tuple[float, int]]) -> None:
    """PyAV on the restream, as HA's stream worker: decoded frames and HLS segment closes."""
    min_segment = TARGET_SEGMENT_DURATION_NON_LL_HLS - SEGMENT_DURATION_ADJUSTER
    with av.open(url, options={"headers": f"Authorization: Bearer {API_KEY}\r\n"},
                 timeout=(10, 10)) as container:
        stream = container.streams.video[0]
        opened: float | None = None
        pending: list[int] = []
        for packet in container.demux(stream):
            if stop.is_set():
                return
            if packet.dts is None:
                continue
            arrived = time.monotonic()
            t = float(packet.dts * stream.time_base)
            if packet.is_keyframe and (opened is None or t - opened >= min_segment):
                segments.extend((arrived, number) for number in pending)  # segment closes
                pending, opened = [], t
            for frame in packet.decode():
                number = frame_number(frame)
                decoded.append((time.monotonic(), number))
                if opened is not None:
                    pending.append(number)


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--size", default="640x360")
    parser.add_argument("--fps", type=int, default=15)
    parser.add_argument("--gop", type=int, default=30, help="frames per keyframe (2 s at 15)")
    args = parser.parse_args()
    width, height = (int(v) for v in args.size.split("x"))
    logging.basicConfig(level=logging.WARNING)

    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        count = min(args.fps * 60, 1 << BITS)
        video = write_h264(folder / "numbered.mp4", draw_frames(width, height, count),
                           fps=args.fps, gop=args.gop, bit_rate=2_000_000)
        server = RtspTestServer(video, loop=True)
        server.start()
        cameras = [{"name": "porch", "source_backend": "rtsp",
                    "source_config": {"url": server.url, "restream_max_viewers": 4}}]
        try:
            async with running_engine(folder, cameras=cameras, api_key=API_KEY,
                                      run_sources=True) as engine, aiohttp.ClientSession() as http:
                source = engine.runtime.sources["porch"]
                async with asyncio.timeout(20):
                    while not (source.is_healthy() and source.live_frame() is not None):
                        await asyncio.sleep(0.05)
                glass = Glass(source.restream)

                async def exchange(offer: str) -> str:
                    async with http.post(f"{engine.api}/cameras/porch/webrtc",
                                         json={"type": "offer", "sdp": offer},
                                         headers=engine.headers) as resp:
                        return str((await resp.json())["sdp"])

                stop = threading.Event()
                decoded: list[tuple[float, int]] = []
                segments: list[tuple[float, int]] = []
                reader = asyncio.create_task(asyncio.to_thread(
                    read_restream, f"{engine.api}/cameras/porch/stream", stop, decoded,
                    segments))
                webrtc: list[tuple[float, int]] = []
                async with webrtc_viewer(exchange) as viewer:
                    deadline = time.monotonic() + args.seconds
                    while time.monotonic() < deadline:
                        at, frame = await viewer.next_frame()
                        webrtc.append((at, frame_number(frame)))
                stop.set()
                await asyncio.wait_for(reader, 15)
        finally:
            server.stop()

    seen = glass.times()
    rows = [("WebRTC (aiortc viewer, decoded)", latencies(seen, webrtc)),
            ("restream → PyAV (HA's stream worker input, decoded)", latencies(seen, decoded)),
            ("HLS segment closed (HA's rule; a player adds its hold-back)",
             latencies(seen, segments))]
    print(f"{args.size} H.264 at {args.fps} fps, keyframe every {args.gop} frames, "
          f"{args.seconds:.0f} s, {len(seen)} numbered frames seen by the engine")
    print("| path | frames | p50 | p99 |\n|---|---|---|---|")
    for name, values in rows:
        if values:
            print(f"| {name} | {len(values)} | {statistics.median(values):.0f} ms | "
                  f"{pct(values, 0.99):.0f} ms |")
        else:
            print(f"| {name} | 0 | – | – |")


if __name__ == "__main__":
    asyncio.run(main())
