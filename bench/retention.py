"""Retention over 100 000 clips in PostgreSQL: passes until nothing is due.

    .venvs/newest/bin/python bench/retention.py [--clips 100000] [--batch 500]

Creates a scratch database on the development server (HOMESEC_BENCH_PG_URL, default
postgresql://postgres@127.0.0.1:5432/test names the server; the database is dropped at the
end), migrates it, bulk-loads the clips with COPY (60 days, 20 % alerted, 1-5 MB each,
offsite copies done), VACUUM ANALYZEs, then runs retention passes (keep 30 days, alerted
45 days, a disk budget of `--budget-gb`) until a pass deletes nothing. The clip files are not
created (each delete is a missing-file unlink), so the figures are the database side and the
engine's own work. Prints the time, rows deleted per second, pass p50/p99, and the database's
load: statements committed, rows read/written (pg_stat_database) and the CPU seconds of the
database backends serving the engine. Figures are printed, never asserted.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import statistics
import sys
import tempfile
import time
import uuid
from datetime import timedelta
from pathlib import Path

import asyncpg

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

PG_URL = os.environ.get("HOMESEC_BENCH_PG_URL", "postgresql://postgres@127.0.0.1:5432/test")
CAMERAS = [f"cam_{i:02d}" for i in range(16)]


async def load(db_url: str, count: int) -> float:
    from homesec_engine.records import utcnow

    rng = random.Random(13)
    now = utcnow()
    records = []
    for i in range(count):
        created = now - timedelta(days=60 * i / count, seconds=rng.random())
        records.append((
            f"{created:%Y%m%dT%H%M%S}-{i:012x}", rng.choice(CAMERAS), "done", created, created,
            None, None, None, json.dumps([]), f"local://clip-{i}.mp4", rng.random() < 0.2,
            8.0, rng.randint(1_000_000, 5_000_000), "done", f"s3://b/clip-{i}.mp4", None))
    columns = ["id", "camera", "status", "created_at", "updated_at", "activity_type",
               "risk_level", "summary", "detected_objects", "storage_uri", "alerted",
               "duration_s", "size_bytes", "offsite_state", "offsite_uri", "deleted_reason"]
    conn = await asyncpg.connect(db_url)
    try:
        await conn.set_type_codec(
            "jsonb", schema="pg_catalog", format="binary",
            encoder=lambda text: b"\x01" + text.encode(), decoder=lambda data: data[1:].decode())
        started = time.perf_counter()
        for offset in range(0, count, 1000):
            async with conn.transaction():
                await conn.copy_records_to_table(
                    "clips", records=records[offset:offset + 1000], columns=columns)
        seconds = time.perf_counter() - started
        await conn.execute("VACUUM ANALYZE clips")
        await conn.execute("VACUUM ANALYZE clip_tallies")
    finally:
        await conn.close()
    return seconds


async def db_counters(admin: asyncpg.Connection, name: str) -> dict[str, int]:
    row = await admin.fetchrow(
        "SELECT xact_commit, tup_fetched, tup_returned, tup_updated, tup_inserted, blks_read, "
        "blks_hit FROM pg_stat_database WHERE datname = $1", name)
    return dict(row)


async def backend_cpu(admin: asyncpg.Connection, name: str) -> float:
    """CPU seconds used so far by the backends connected to the bench database."""
    pids = [r["pid"] for r in await admin.fetch(
        "SELECT pid FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()",
        name)]
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0.0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += (int(fields[11]) + int(fields[12])) / ticks
    return total


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--clips", type=int, default=100_000)
    parser.add_argument("--batch", type=int, default=500)
    parser.add_argument("--budget-gb", type=float, default=100.0)
    args = parser.parse_args()

    from homesec_engine.retention import Retention
    from homesec_engine.schema.validate import validate
    from homesec_engine.state import ClipRepository
    from homesec_engine.storage import LocalStorage

    name = f"homesec_bench_retention_{uuid.uuid4().hex[:8]}"
    server = PG_URL.rsplit("/", 1)[0]
    admin = await asyncpg.connect(PG_URL)
    await admin.execute(f'CREATE DATABASE "{name}"')
    db_url = f"{server}/{name}"
    try:
        with tempfile.TemporaryDirectory() as tmp:
            repo = ClipRepository(db_url.replace("postgresql://", "postgresql+asyncpg://"),
                                  Path(tmp) / "outbox")
            await repo.start()
            seconds = await load(db_url, args.clips)
            print(f"loaded {args.clips} clips with COPY in {seconds:.1f} s; "
                  f"load average {os.getloadavg()[0]:.2f}")
            storage = LocalStorage({"path": Path(tmp) / "clips"})
            config = validate("RetentionConfig", {"keep_days": 30, "alerted_keep_days": 45,
                                                  "max_gb": args.budget_gb,
                                                  "batch": args.batch})
            retention = Retention(config, repository=repo, storage=storage,
                                  storage_root=storage.root)
            await retention.measure()  # connections up: their backends are counted
            before, cpu_before = await db_counters(admin, name), await backend_cpu(admin, name)
            passes: list[float] = []
            deleted = {"age": 0, "disk_budget": 0}
            started, engine_cpu = time.perf_counter(), time.process_time()
            while True:
                t0 = time.perf_counter()
                result = await retention.run_pass()
                passes.append(time.perf_counter() - t0)
                for reason, ids in result.deleted.items():
                    deleted[reason] += len(ids)
                if not result.deleted:
                    break
            wall = time.perf_counter() - started
            engine_cpu = time.process_time() - engine_cpu
            after, cpu_after = await db_counters(admin, name), await backend_cpu(admin, name)
            await repo.close()
        total = sum(deleted.values())
        ms = sorted(p * 1000 for p in passes)
        p99 = ms[min(len(ms) - 1, int(len(ms) * 0.99))]
        print(f"deleted {total} clips ({deleted['age']} by age, {deleted['disk_budget']} by "
              f"the {args.budget_gb:g} GB budget) in {len(passes)} passes of at most "
              f"{args.batch}: {wall:.1f} s, {total / wall:,.0f} rows/s")
        print(f"pass p50 {statistics.median(ms):.0f} ms, p99 {p99:.0f} ms; engine CPU "
              f"{engine_cpu:.1f} s ({engine_cpu * 1e6 / max(total, 1):.0f} µs per clip)")
        delta = {k: after[k] - before[k] for k in before}
        print(f"database: {delta['xact_commit']} transactions, {delta['tup_returned']:,} rows "
              f"scanned, {delta['tup_fetched']:,} fetched, {delta['tup_updated']:,} updated, "
              f"{delta['tup_inserted']:,} inserted; blocks read {delta['blks_read']:,}, hit "
              f"{delta['blks_hit']:,}; backend CPU {cpu_after - cpu_before:.1f} s "
              f"({(cpu_after - cpu_before) * 1e6 / max(total, 1):.0f} µs per clip)")
    finally:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()


if __name__ == "__main__":
    asyncio.run(main())
