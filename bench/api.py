"""REST API latency with 100 000 clips in PostgreSQL: p50/p99 of /status and /clips.

    .venv/bin/python bench/api.py [--clips 100000] [--requests 2000]

Creates a scratch database on the development server (HOMESEC_BENCH_PG_URL, default
postgresql://postgres@127.0.0.1:5432/test names the server; the database is created next to
it and dropped at the end), starts the engine's API in a separate process (no cameras
running), bulk-loads the clips through SQLAlchemy core, then measures with an aiohttp
client at concurrency 1 and 16. Targets: /status p99 < 10 ms, /clips p99 < 25 ms at 16.
Figures are printed, never asserted.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
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

async def serve(config_path: Path) -> None:
    from aiohttp import web

    from homesec_engine.api import create_app
    from homesec_engine.config import ConfigManager
    from homesec_engine.runtime import EngineRuntime

    manager = ConfigManager([config_path], config_path.with_name("overrides.yaml"))
    await manager.load()
    runtime = EngineRuntime(manager)
    await runtime.start(run_sources=False)
    server = manager.get_config()["server"]
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
    from sqlalchemy.ext.asyncio import create_async_engine

    from homesec_engine.state.tables import clips

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
            "detected_objects": ["person"] if analysed else [],
            "storage_uri": f"local://clip-{i}.mp4", "alerted": rng.random() < 0.2,
            "duration_s": 8.0,
        })
    engine = create_async_engine(db_url.replace("postgresql://", "postgresql+asyncpg://"))
    started = time.perf_counter()
    async with engine.begin() as conn:
        # Multi-row VALUES statements: one round trip per 1000 rows (12 000 parameters).
        for offset in range(0, count, 1000):
            await conn.execute(clips.insert().values(rows[offset:offset + 1000]))
    async with engine.begin() as conn:
        await conn.exec_driver_sql("ANALYZE clips")
    await engine.dispose()
    return time.perf_counter() - started


# -- measuring --------------------------------------------------------------------------------

async def measure(base: str, path: str, concurrency: int, total: int) -> tuple[float, float]:
    latencies: list[float] = []
    headers = {"Authorization": f"Bearer {API_KEY}"}
    connector = aiohttp.TCPConnector(limit=concurrency)
    async with aiohttp.ClientSession(connector=connector, headers=headers) as session:
        for _ in range(20):  # warm up connections and caches
            async with session.get(base + path) as resp:
                await resp.read()
        remaining = total

        async def worker() -> None:
            nonlocal remaining
            while remaining > 0:
                remaining -= 1
                started = time.perf_counter()
                async with session.get(base + path) as resp:
                    await resp.read()
                    if resp.status != 200:
                        raise RuntimeError(f"{path}: HTTP {resp.status}")
                latencies.append((time.perf_counter() - started) * 1000)

        await asyncio.gather(*(worker() for _ in range(concurrency)))
    latencies.sort()
    p50 = statistics.median(latencies)
    p99 = latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))]
    return p50, p99


async def main(args: argparse.Namespace) -> None:
    import asyncpg

    db_name = f"homesec_bench_{uuid.uuid4().hex[:8]}"
    server_url = PG_URL.rsplit("/", 1)[0]
    admin = await asyncpg.connect(PG_URL)
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
    server = subprocess.Popen(
        [sys.executable, __file__, "--serve", str(config_path)], cwd=ROOT,
        env={**os.environ, env_name: API_KEY}, stdout=subprocess.PIPE, text=True)
    try:
        assert server.stdout is not None
        line = await asyncio.to_thread(server.stdout.readline)
        if line.strip() != "ready":
            raise RuntimeError("the API server did not start")
        seconds = await load_clips(db_url, args.clips)
        print(f"loaded {args.clips} clips into PostgreSQL in {seconds:.1f} s "
              f"({args.clips / seconds:,.0f} rows/s)")
        base = f"http://127.0.0.1:{port}/api/v1"
        cases = [
            ("/status", "/status"),
            ("/clips (unfiltered, page 1)", "/clips"),
            ("/clips (camera+alerted)", "/clips?camera=cam_03&alerted=true"),
            ("/clips (risk, page 5)", "/clips?risk_level=high&page=5&page_size=20"),
            ("/clips (since 1 day, status)", "/clips?status=done&since="
             + (datetime.now(UTC) - timedelta(days=1)).strftime("%Y-%m-%dT%H:%M:%SZ")),
        ]
        print(f"{'endpoint':32} {'conc':>4} {'p50 ms':>8} {'p99 ms':>8}")
        for label, path in cases:
            for concurrency in (1, 16):
                total = args.requests if concurrency > 1 else args.requests // 4
                p50, p99 = await measure(base, path, concurrency, total)
                print(f"{label:32} {concurrency:>4} {p50:>8.2f} {p99:>8.2f}", flush=True)
    finally:
        server.send_signal(signal.SIGTERM)
        await asyncio.to_thread(server.wait, 30)
        await admin.execute(f'DROP DATABASE IF EXISTS "{db_name}" WITH (FORCE)')
        await admin.close()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clips", type=int, default=100_000)
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--serve", type=Path, help=argparse.SUPPRESS)
    arguments = parser.parse_args()
    if arguments.serve:
        asyncio.run(serve(arguments.serve))
    else:
        asyncio.run(main(arguments))
