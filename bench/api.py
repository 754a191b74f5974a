"""REST API latency with 100 000 clips in PostgreSQL: p50/p99 of /status and /clips.

    .venvs/newest/bin/python bench/api.py [--clips 100000] [--requests 2000] [--runs 3]
                                  [--keep-db NAME]

Creates a scratch database on the development server (HOMESEC_BENCH_PG_URL, default
postgresql://postgres@127.0.0.1:5432/test names the server; the database is created next to
it and dropped at the end), starts the engine's API in a separate process (no cameras
running), bulk-loads the clips with COPY (the tally triggers fire as for any insert), runs
VACUUM ANALYZE on clips and clip_tallies, then measures with an aiohttp client at
concurrency 1 and 16, `--runs` times, and prints every run and the per-case median.
`--keep-db NAME` keeps (and on the next run reuses) a loaded database of that name;
`--list-cache on|off|both` measures /clips with its answer cache, without it (every request
reads PostgreSQL and serialises), or both; `--gc-freeze` calls gc.freeze() in the server
after start-up.
Targets: /status p99 < 10 ms, /clips p99 < 25 ms at 16. The load average is printed next to
the figures (the machine is shared). Figures are printed, never asserted.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import aiohttp
import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

PG_URL = os.environ.get("HOMESEC_BENCH_PG_URL", "postgresql://postgres@127.0.0.1:5432/test")
CAMERAS = [f"cam_{i:02d}" for i in range(16)]
ACTIVITIES = ["person", "vehicle", "animal", "package", "delivery", "other"]
RISKS = ["low", "medium", "high", "critical"]
API_KEY = "bench-key"


# -- the server process -------------------------------------------------------------------

async def serve(config_path: Path, list_cache: bool, gc_freeze: bool) -> None:
    from aiohttp import web

    from homesec_engine.api import create_app, routes_clips
    from homesec_engine.config import ConfigManager
    from homesec_engine.runtime import EngineRuntime

    if not list_cache:
        routes_clips.LIST_CACHE_S = 0.0  # every /clips request reads and serialises afresh
    manager = ConfigManager([config_path], config_path.with_name("overrides.yaml"))
    await manager.load()
    runtime = EngineRuntime(manager)
    await runtime.start(run_sources=False)
    server = manager.get_config()["server"]
    if gc_freeze:
        import gc

        # Start-up objects to the permanent generation: full collections then scan only
        # what requests allocate (without it a gen-2 pass stalls the loop ~70 ms every few s).
        gc.freeze()
    runner = web.AppRunner(create_app(runtime), access_log=None)
    await runner.setup()
    await web.TCPSite(runner, server["host"], server["port"]).start()
    stop = asyncio.Event()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
    print("ready", flush=True)
    await stop.wait()
    await runner.cleanup()
    await runtime.stop()


# -- loading clips --------------------------------------------------------------------------

async def load_clips(db_url: str, count: int) -> float:
    import asyncpg

    rng = random.Random(42)
    now = datetime.now(UTC)
    rows = []
    for i in range(count):
        created = now - timedelta(seconds=rng.uniform(0, 30 * 86400))
        analysed = rng.random() < 0.7
        rows.append({
            "id": f"{created:%Y%m%dT%H%M%S}-{i:012x}", "camera": rng.choice(CAMERAS),
            "status": "done" if rng.random() < 0.9 else rng.choice(["error", "deleted",
                                                                    "uploaded"]),
            "created_at": created, "updated_at": created,
            "activity_type": rng.choice(ACTIVITIES) if analysed else None,
            "risk_level": rng.choice(RISKS) if analysed else None,
            "summary": "Someone walks up to the door and leaves" if analysed else None,
            "detected_objects": json.dumps(["person"] if analysed else []),
            "storage_uri": f"local://clip-{i}.mp4", "alerted": rng.random() < 0.2,
            "duration_s": 8.0,
        })
    columns = list(rows[0])
    conn = await asyncpg.connect(db_url)
    try:
        # Binary COPY: jsonb's binary form is a version byte (1) and the JSON text.
        await conn.set_type_codec(
            "jsonb", schema="pg_catalog", format="binary",
            encoder=lambda text: b"\x01" + text.encode(), decoder=lambda data: data[1:].decode())
        started = time.perf_counter()
        # A transaction per 1000 clips (the engine writes one clip per transaction): the
        # tally rows the triggers update are pruned between batches instead of piling up
        # 100 000 row versions in one transaction (a tally table of hundreds of pages).
        records = [tuple(r[c] for c in columns) for r in rows]
        for offset in range(0, count, 1000):
            async with conn.transaction():
                await conn.copy_records_to_table(
                    "clips", records=records[offset:offset + 1000], columns=columns)
        seconds = time.perf_counter() - started
        # Fresh statistics and visibility map: index-only scans and the right plans at once.
        await conn.execute("VACUUM ANALYZE clips")
        await conn.execute("VACUUM ANALYZE clip_tallies")
    finally:
        await conn.close()
    return seconds


# -- measuring --------------------------------------------------------------------------------

async def measure(base: str, path: str, concurrency: int, total: int) -> tuple[float, float]:
    latencies: list[float] = []
    headers = {"Authorization": f"Bearer {API_KEY}"}
    connector = aiohttp.TCPConnector(limit=concurrency)
    async with aiohttp.ClientSession(connector=connector, headers=headers) as session:
        remaining = 0

        async def worker(record: bool) -> None:
            nonlocal remaining
            while remaining > 0:
                remaining -= 1
                started = time.perf_counter()
                async with session.get(base + path) as resp:
                    await resp.read()
                    if resp.status != 200:
                        raise RuntimeError(f"{path}: HTTP {resp.status}")
                if record:
                    latencies.append((time.perf_counter() - started) * 1000)

        # Warm up at the measured concurrency: every pooled database connection opened and
        # its statements prepared, every client connection open (steady state is measured).
        remaining = 10 * concurrency
        await asyncio.gather(*(worker(False) for _ in range(concurrency)))
        remaining = total
        await asyncio.gather(*(worker(True) for _ in range(concurrency)))
    latencies.sort()
    p50 = statistics.median(latencies)
    p99 = latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))]
    return p50, p99


def loadavg() -> str:
    try:
        return " ".join(Path("/proc/loadavg").read_text().split()[:3])
    except OSError:
        return "n/a"


async def main(args: argparse.Namespace) -> None:
    import asyncpg

    db_name = args.keep_db or f"homesec_bench_{uuid.uuid4().hex[:8]}"
    server_url = PG_URL.rsplit("/", 1)[0]
    admin = await asyncpg.connect(PG_URL)
    exists = await admin.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", db_name)
    if not exists:
        await admin.execute(f'CREATE DATABASE "{db_name}"')
    db_url = f"{server_url}/{db_name}"
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    work = Path(tempfile.mkdtemp(prefix="homesec-bench-"))
    env_name = "HOMESEC_BENCH_API_KEY"
    config = {
        "server": {"host": "127.0.0.1", "port": port, "api_key_env": env_name},
        "storage": {"path": str(work / "clips")},
        "state": {"url": db_url, "outbox_path": str(work / "outbox")},
        "cameras": [{"name": c, "source_backend": "demo", "source_config": {}}
                    for c in CAMERAS],
    }
    config_path = work / "homesec.yaml"
    config_path.write_text(yaml.safe_dump(config))

    def start_server(list_cache: bool) -> subprocess.Popen[str]:
        flag = [] if list_cache else ["--no-list-cache"]
        flag += ["--gc-freeze"] if args.gc_freeze else []
        proc = subprocess.Popen(
            [sys.executable, __file__, "--serve", str(config_path), *flag], cwd=ROOT,
            env={**os.environ, env_name: API_KEY}, stdout=subprocess.PIPE, text=True)
        assert proc.stdout is not None
        if proc.stdout.readline().strip() != "ready":
            raise RuntimeError("the API server did not start")
        return proc

    def stop_server(proc: subprocess.Popen[str]) -> None:
        proc.send_signal(signal.SIGTERM)
        proc.wait(30)

    server = await asyncio.to_thread(start_server, True)  # migrates the scratch database
    try:
        check = await asyncpg.connect(db_url)
        loaded = await check.fetchval("SELECT count(*) FROM clips")
        await check.close()
        if loaded != args.clips:
            if loaded:
                raise RuntimeError(f"{db_name} holds {loaded} clips, not {args.clips}")
            seconds = await load_clips(db_url, args.clips)
            print(f"loaded {args.clips} clips into PostgreSQL with COPY in {seconds:.1f} s "
                  f"({args.clips / seconds:,.0f} rows/s), then VACUUM ANALYZE")
        else:
            print(f"reusing {db_name} ({loaded} clips)")
        server_cache = True
        base = f"http://127.0.0.1:{port}/api/v1"
        since = (datetime.now(UTC) - timedelta(days=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
        cases = [
            ("/status", "/status"),
            ("/clips (unfiltered, page 1)", "/clips"),
            ("/clips (camera+alerted)", "/clips?camera=cam_03&alerted=true"),
            ("/clips (risk, page 5)", "/clips?risk_level=high&page=5&page_size=20"),
            ("/clips (since 1 day, status)", "/clips?status=done&since=" + since),
        ]
        modes = {"on": [True], "off": [False], "both": [True, False]}[args.list_cache]
        results: dict[tuple[str, int], list[tuple[float, float]]] = {}
        for run, list_cache in ((r, m) for r in range(1, args.runs + 1) for m in modes):
            if list_cache != server_cache:
                await asyncio.to_thread(stop_server, server)
                server = await asyncio.to_thread(start_server, list_cache)
                server_cache = list_cache
            cache_note = "/clips answer cache on" if list_cache else "/clips answer cache OFF"
            cache_note += ", gc.freeze() after start-up" if args.gc_freeze else ""
            print(f"run {run}/{args.runs}, {cache_note}  (load average before: {loadavg()})")
            print(f"{'endpoint':32} {'conc':>4} {'p50 ms':>8} {'p99 ms':>8}")
            for label, path in cases:
                if not list_cache and not path.startswith("/clips"):
                    continue  # the cache is only in front of /clips
                for concurrency in (1, 16):
                    total = args.requests if concurrency > 1 else args.requests // 4
                    p50, p99 = await measure(base, path, concurrency, total)
                    case = (label if list_cache or label == "/status" else label + " no cache")
                    results.setdefault((case, concurrency), []).append((p50, p99))
                    print(f"{label:32} {concurrency:>4} {p50:>8.2f} {p99:>8.2f}", flush=True)
            print(f"  (load average after: {loadavg()})")
        if results:
            print(f"median of {args.runs} run(s) per case, load average now {loadavg()}")
            print(f"| endpoint | c1 p50 | c1 p99 | c16 p50 | c16 p99 |\n|---|---|---|---|---|")
            labels = sorted({case for case, _ in results}, key=lambda c: (
                [label for label, _ in cases].index(c.removesuffix(" no cache")),
                c.endswith(" no cache")))
            for label in labels:
                cells = []
                for concurrency in (1, 16):
                    runs = results[(label, concurrency)]
                    cells += [statistics.median(r[0] for r in runs),
                              statistics.median(r[1] for r in runs)]
                print(f"| {label} | " + " | ".join(f"{c:.2f}" for c in cells) + " |")
    finally:
        await asyncio.to_thread(stop_server, server)
        if not args.keep_db:
            await admin.execute(f'DROP DATABASE IF EXISTS "{db_name}" WITH (FORCE)')
        await admin.close()
        await asyncio.to_thread(shutil.rmtree, work, True)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clips", type=int, default=100_000)
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--runs", type=int, default=1)
    parser.add_argument("--keep-db", metavar="NAME", help="keep/reuse a loaded database")
    parser.add_argument("--list-cache", choices=["on", "off", "both"], default="both",
                        help="measure /clips with the answer cache on, off (every request "
                             "reads the database and serialises) or both")
    parser.add_argument("--gc-freeze", action="store_true",
                        help="gc.freeze() in the server after start-up (not done by the "
                             "engine's entry points yet)")
    parser.add_argument("--serve", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--no-list-cache", action="store_true", help=argparse.SUPPRESS)
    arguments = parser.parse_args()
    if arguments.serve:
        asyncio.run(serve(arguments.serve, not arguments.no_list_cache, arguments.gc_freeze))
    else:
        asyncio.run(main(arguments))
