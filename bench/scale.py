"""N cameras with people in view at once: the engine beside decode-only of the same streams.

    .venvs/newest/bin/python bench/scale.py [--cameras 8,16,32,48] [--seconds 40] [--sub-width 640]

Each camera is a loopback RTSP server (tests/videotools.py's RtspTestServer, looping) of real
footage: Debian opencv-doc's pedestrian video (tests/livestream.py) scaled to 1920x1080 at 15 fps,
4 Mbit/s: the empty plaza, then people walking in at a known time, then the empty plaza again.
All servers start together, so every camera sees people at (about) the same moment: the worst
case for first sight. For each N, two child processes run one after the other against the same
servers, each measured over ``--seconds`` after ``--warmup``:

* decode-only: one thread per camera opening the stream as the rtsp source does and running
  the engine's analysis decode (AnalysisDecoder + grey frame), nothing else: the baseline;
* engine: the real engine (tests/engine_harness.py, default config, SQLite, the shipped
  detector), N rtsp cameras.

Prints per N: CPU (% of one core, and the engine / decode-only ratio), first-sight latency
p50/p99 (the server's wall time of the people's first frame -> the live event's `started`
on the engine's event hub, per camera per appearance), events found vs appearances (an
appearance counts when it falls in the window with 3 s to spare), frames dropped (analysis frames
the source dropped to keep up; live frames replaced before inference), RSS of each child.
Figures are printed, never asserted; on a loaded machine they are inflated: read the ratios.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from homesec_engine.demo.rtsp_server import PLAY_LOG_ENV  # noqa: E402
from tests.videotools import RtspTestServer  # noqa: E402

CACHE = Path(os.environ.get("HOMESEC_CACHE_DIR", Path.home() / ".cache" / "homesec")) / "bench"
TAIL_S = 3.0  # an appearance this close to the end of the window is not counted


def rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def footage(width: int, fps: int, mbps: float) -> tuple[Path, dict[str, float]]:
    """The looping stream file (made once, kept in the cache) and its timing."""
    from tests.livestream import person_stream

    folder = CACHE / f"scale-{width}-{fps}-{mbps:g}"
    meta = folder / "meta.json"
    if not meta.exists():
        folder.mkdir(parents=True, exist_ok=True)
        stream = person_stream(folder, empty_s=5.0, person_s=5.0, after_s=8.0, width=width,
                               fps=fps, bit_rate=int(mbps * 1e6))
        meta.write_text(json.dumps({"person_at_s": stream.person_at_s,
                                    "period_s": stream.period_s}))
    return folder / "plaza.mp4", json.loads(meta.read_text())


# --- child: decode-only -------------------------------------------------------------------------
def decode_only(urls: list[str], warmup: float, seconds: float) -> dict[str, Any]:
    from homesec_engine.sources.analysis import AnalysisDecoder, analysis_gray
    from homesec_engine.sources.rtsp import RtspSource

    stop = threading.Event()
    decoded = [0] * len(urls)  # frames due for analysis that were analysed
    pictures = [0] * len(urls)  # pictures decoded

    def run(i: int, url: str) -> None:
        source = RtspSource(f"cam{i}", {"url": url}, Path(tempfile.gettempdir()))
        with source._open(url) as container:
            stream = container.streams.video[0]
            decoder = AnalysisDecoder(stream.codec_context, source.analysis_fps)
            for packet in container.demux(stream):
                if stop.is_set():
                    return
                if not packet.size or packet.pts is None:
                    continue
                t = float(packet.pts * stream.time_base)
                for _, frame in decoder.decode(packet, t, stream.time_base):
                    analysis_gray(frame, source.analysis_width)
                    decoded[i] += 1
                pictures[i] = decoder.decoded

    threads = [threading.Thread(target=run, args=(i, u), daemon=True) for i, u in enumerate(urls)]
    for t in threads:
        t.start()
    time.sleep(warmup)
    cpu0, wall0, n0, p0 = time.process_time(), time.monotonic(), sum(decoded), sum(pictures)
    time.sleep(seconds)
    cpu, wall = time.process_time() - cpu0, time.monotonic() - wall0
    frames = sum(decoded) - n0
    out = {"cpu": 100 * cpu / wall, "rss_mb": rss_mb(), "analysed": frames,
           "cpu_ms_per_picture": 1000 * cpu / max(1, sum(pictures) - p0),
           "analysis_expected": int(5 * wall * len(urls))}
    stop.set()
    return out


# --- child: engine ------------------------------------------------------------------------------
async def engine(urls: list[str], warmup: float, seconds: float,
                 main_urls: list[str] | None = None) -> dict[str, Any]:
    """With `main_urls`, `urls` are the cameras' analysis substreams (`analysis_url`) and the
    main streams are only recorded, as a camera with a substream is set up."""
    from tests.engine_harness import running_engine

    def source_config(i: int, url: str) -> dict[str, str]:
        return {"url": main_urls[i], "analysis_url": url} if main_urls else {"url": url}

    cameras = [{"name": f"cam{i}", "enabled": True, "source_backend": "rtsp",
                "source_config": source_config(i, url)} for i, url in enumerate(urls)]
    started: list[tuple[float, str]] = []
    with tempfile.TemporaryDirectory(prefix="homesec-scale-") as tmp:
        async with running_engine(Path(tmp), cameras=cameras, run_sources=True) as eng:
            runtime = eng.runtime
            sub = runtime.events.subscribe(maxsize=100_000)

            async def listen() -> None:
                while True:
                    msg = await sub.get()
                    data = msg.get("data") or {}
                    if msg.get("type") == "event" and data.get("phase") == "started":
                        started.append((time.time(), str(data.get("camera"))))

            listener = asyncio.create_task(listen())
            await asyncio.sleep(warmup)
            sources = list(runtime.sources.values())
            cpu0, wall0, time0 = time.process_time(), time.monotonic(), time.time()
            await asyncio.sleep(seconds)
            cpu, wall = time.process_time() - cpu0, time.monotonic() - wall0
            stats = [s.live.stats() for s in sources
                     if s.live is not None and hasattr(s.live, "stats")]
            out = {"cpu": 100 * cpu / wall, "rss_mb": rss_mb(), "window": [time0, time0 + wall],
                   "started": started,
                   "analysis_dropped": statistics.fmean(
                       [s.analysis_dropped() or 0.0 for s in sources]) if sources else 0.0,
                   "live": stats}
            listener.cancel()
            sub.close()
    return out


# --- parent ------------------------------------------------------------------------------------
def child(phase: str, urls: list[str], warmup: float, seconds: float,
          main_urls: list[str] | None = None) -> dict[str, Any]:
    args = [sys.executable, __file__, "--phase", phase, "--urls", ",".join(urls),
            "--warmup", str(warmup), "--seconds", str(seconds),
            *(["--main-urls", ",".join(main_urls)] if main_urls else [])]
    proc = subprocess.run(args, stdout=subprocess.PIPE, text=True, check=True,
                          timeout=warmup + seconds + 180)
    result: dict[str, Any] = json.loads(proc.stdout.strip().splitlines()[-1])
    return result


def plays(log: Path) -> list[float]:
    return [float(line.split()[0]) for line in log.read_text().splitlines() if line.strip()]


def first_sight(result: dict[str, Any], logs: list[Path], timing: dict[str, float]
                ) -> tuple[list[float], int, int]:
    """(latencies, appearances found, appearances) of the engine run."""
    t0, t1 = result["window"]
    period, person_at = timing["period_s"], timing["person_at_s"]
    latencies, found, total = [], 0, 0
    events: dict[str, list[float]] = {}
    for w, camera in result["started"]:
        events.setdefault(camera, []).append(w)
    for i, log in enumerate(logs):
        starts = [p for p in plays(log) if p <= t1]
        if not starts:
            continue
        play = max(p for p in starts)  # the engine's connection (the last one before the end)
        k0 = max(0, int((t0 - play - person_at) // period))
        appearances = [play + k * period + person_at for k in range(k0, k0 + 1000)
                       if t0 <= play + k * period + person_at <= t1 - TAIL_S]
        for a in appearances:
            total += 1
            hits = [w - a for w in events.get(f"cam{i}", []) if 0 <= w - a < period]
            if hits:
                found += 1
                latencies.append(min(hits))
    return latencies, found, total


def run_n(n: int, path: Path, timing: dict[str, float], warmup: float, seconds: float,
          tmp: Path, sub_path: Path | None = None) -> None:
    """With `sub_path`, each camera also serves that footage as its analysis substream: the
    people's timing is read from the substream's plays (what live detection sees), the
    decode-only baseline decodes the substreams, and the engine records the main streams."""
    servers, logs, mains = [], [], []
    for i in range(n):
        log = tmp / f"play-{n}-{i}.log"
        log.touch()
        os.environ[PLAY_LOG_ENV] = str(log)
        server = RtspTestServer(sub_path or path, loop=True)
        server.start()
        servers.append(server)
        logs.append(log)
        os.environ.pop(PLAY_LOG_ENV, None)
        if sub_path is not None:
            main = RtspTestServer(path, loop=True)
            main.start()
            mains.append(main)
    try:
        urls = [s.url for s in servers]
        main_urls = [m.url for m in mains] or None
        base = child("decode", urls, warmup, seconds)
        eng = child("engine", urls, warmup, seconds, main_urls)
    finally:
        for server in servers + mains:
            server.stop()
    lat, found, total = first_sight(eng, logs, timing)
    if os.environ.get("SCALE_LOG"):
        print(json.dumps({"started": eng["started"], "window": eng["window"],
                          "plays": [plays(log) for log in logs]}))
    live = eng["live"]
    offered = sum(s.get("offered", 0) for s in live)
    dropped = sum(s.get("dropped", 0) for s in live)
    lat_s = f"{statistics.median(lat):.2f} / {pct(lat, 0.99):.2f}" if lat else "- / -"
    print(f"{n:3d} cameras | CPU decode-only {base['cpu']:6.1f} %  engine {eng['cpu']:6.1f} %  "
          f"ratio {eng['cpu'] / max(0.1, base['cpu']):4.2f} | first sight p50/p99 {lat_s} s | "
          f"events {found}/{total} | analysis dropped decode-only "
          f"{1 - base['analysed'] / max(1, base['analysis_expected']):.0%} engine "
          f"{eng['analysis_dropped']:.0%} | live frames dropped {dropped}/{offered} | "
          f"RSS decode-only {base['rss_mb']:.0f} MB engine {eng['rss_mb']:.0f} MB", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--cameras", default="8,16,32,48", help="comma-separated camera counts")
    parser.add_argument("--seconds", type=float, default=40.0, help="measured window per phase")
    parser.add_argument("--warmup", type=float, default=8.0)
    parser.add_argument("--width", type=int, default=1920)
    parser.add_argument("--fps", type=int, default=15)
    parser.add_argument("--mbps", type=float, default=4.0)
    parser.add_argument("--sub-width", type=int, default=0,
                        help="give each camera an analysis substream of this width (0: none)")
    parser.add_argument("--phase", choices=["decode", "engine"], help=argparse.SUPPRESS)
    parser.add_argument("--main-urls", help=argparse.SUPPRESS)
    parser.add_argument("--urls", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.phase:
        import logging

        logging.basicConfig(level=getattr(logging, os.environ.get("SCALE_LOG", "ERROR")))
        urls = args.urls.split(",")
        if args.phase == "decode":
            result = decode_only(urls, args.warmup, args.seconds)
        else:
            main_urls = args.main_urls.split(",") if args.main_urls else None
            result = asyncio.run(engine(urls, args.warmup, args.seconds, main_urls))
        print(json.dumps(result))
        return
    path, timing = footage(args.width, args.fps, args.mbps)
    # A camera's substream: the same footage and timing, smaller and at a substream's bitrate.
    sub_path = footage(args.sub_width, args.fps, 0.5)[0] if args.sub_width else None
    print(f"footage: {path.name} {args.width} px {args.fps} fps {args.mbps:g} Mbit/s, people "
          f"at {timing['person_at_s']:g} s of every {timing['period_s']:g} s"
          f"{f'; analysis substream {args.sub_width} px 0.5 Mbit/s' if sub_path else ''}; "
          f"{os.cpu_count()} cores, load {os.getloadavg()[0]:.1f}", flush=True)
    with tempfile.TemporaryDirectory(prefix="homesec-scale-") as tmp:
        for n in (int(x) for x in args.cameras.split(",")):
            run_n(n, path, timing, args.warmup, args.seconds, Path(tmp), sub_path)


if __name__ == "__main__":
    main()
