"""What an open panel costs the engine: CPU with no panel, the panel visible, the panel hidden.

    .venv/bin/python bench/panel.py [--cameras 2] [--seconds 15] [--size 1280x720]

Starts a real engine in this process with `--cameras` RTSP cameras (each its own loopback
RTSP server, tests/videotools.py, looping an H.264 file of `--size`), then measures three
phases of `--seconds` each: no panel open; the panel open in headless Chromium (its camera grid
asks each camera's snapshot about once a second); the same tab hidden (Page Visibility: the
grid stops asking). It prints, per phase, the engine's CPU (this process's CPU time over wall
time: decode, motion, API, JPEG encoding; Chromium and the RTSP servers are other processes),
the snapshots served per second, and their latency as the browser measured it (p50/p99 of
Resource Timing's duration). Figures are printed, never asserted; the machine is shared, so
the load average is printed beside them.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import tempfile
import time
from contextlib import AsyncExitStack
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.api.panel_rig import chromium, ingress_proxy, open_page  # noqa: E402
from tests.engine_harness import running_engine  # noqa: E402
from tests.videotools import RtspTestServer, Segment, scripted_frames, write_h264  # noqa: E402

HIDE = """() => {
    Object.defineProperty(document, 'hidden', {configurable: true, get: () => true});
    Object.defineProperty(document, 'visibilityState', {configurable: true, get: () => 'hidden'});
    document.dispatchEvent(new Event('visibilitychange'));
}"""
SNAPSHOT_TIMINGS = """() => performance.getEntriesByType('resource')
    .filter(e => e.name.includes('/snapshot')).map(e => e.duration)"""


def _pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


async def _phase(seconds: float, served: list[float]) -> dict[str, float]:
    before, wall, count = time.process_time(), time.monotonic(), len(served)
    await asyncio.sleep(seconds)
    cpu, elapsed = time.process_time() - before, time.monotonic() - wall
    return {"cpu_pct": 100 * cpu / elapsed, "snapshots_per_s": (len(served) - count) / elapsed}


async def main(args: argparse.Namespace) -> None:
    width, height = (int(v) for v in args.size.split("x"))
    with tempfile.TemporaryDirectory() as tmp:
        tmp_path = Path(tmp)
        frames = scripted_frames(width, height, fps=15, duration_s=8, noise=2.0,
                                 segments=[Segment(1, 7)])
        video = write_h264(tmp_path / "cam.mp4", frames, fps=15, gop=15)
        async with AsyncExitStack() as stack:
            servers = [stack.enter_context(RtspTestServer(video, loop=True))
                       for _ in range(args.cameras)]
            cameras = [{"name": f"cam{i}", "enabled": True, "source_backend": "rtsp",
                        "source_config": {"url": s.url}} for i, s in enumerate(servers)]
            engine = await stack.enter_async_context(running_engine(
                tmp_path, cameras=cameras, run_sources=True, trusted_proxies=["127.0.0.1"]))
            panel_url = await stack.enter_async_context(ingress_proxy(engine.url))
            browser = await stack.enter_async_context(chromium())
            await asyncio.sleep(3)  # the cameras connect and decode
            served: list[float] = []
            results: dict[str, dict[str, Any]] = {}
            results["no panel"] = await _phase(args.seconds, served)

            page = await open_page(browser, [])
            page.on("response", lambda r: served.append(time.monotonic())
                    if "/snapshot" in r.url and r.status == 200 else None)
            await page.goto(panel_url)
            await page.wait_for_selector("[data-live=yes]", timeout=20000)
            await page.evaluate("performance.clearResourceTimings()")
            results["panel visible"] = await _phase(args.seconds, served)
            timings = await page.evaluate(SNAPSHOT_TIMINGS)
            results["panel visible"] |= {"p50_ms": _pct(timings, 0.5),
                                         "p99_ms": _pct(timings, 0.99)}

            await page.evaluate(HIDE)
            await asyncio.sleep(1.5)  # requests under way finish
            results["panel hidden"] = await _phase(args.seconds, served)

    load = os.getloadavg()
    print(f"panel cost, {args.cameras} RTSP camera(s) at {args.size}, {args.seconds:.0f} s "
          f"per phase (load average {load[0]:.2f})")
    print(f"{'phase':<15} {'engine CPU':>11} {'snapshots/s':>12} {'p50 ms':>8} {'p99 ms':>8}")
    for phase, r in results.items():
        p50 = f"{r['p50_ms']:.1f}" if "p50_ms" in r else "–"
        p99 = f"{r['p99_ms']:.1f}" if "p99_ms" in r else "–"
        print(f"{phase:<15} {r['cpu_pct']:>10.1f}% {r['snapshots_per_s']:>12.2f} "
              f"{p50:>8} {p99:>8}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cameras", type=int, default=2)
    parser.add_argument("--seconds", type=float, default=15.0)
    parser.add_argument("--size", default="1280x720")
    asyncio.run(main(parser.parse_args()))
