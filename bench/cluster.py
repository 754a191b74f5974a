"""Cluster mode: failover time, rebalance time and each engine's own overhead.

    .venvs/newest/bin/python bench/cluster.py [--runs 3] [--lease-s 15] [--heartbeat-s 5]

Real parts only: `homesec run` processes (three engines, four demo cameras, separate data
dirs), one fresh PostgreSQL database per run on the test server (HOMESEC_TEST_PG_URL), and
moto's S3 server on loopback. Per run:

- failover: the engine holding two cameras is killed with SIGKILL; the time until the
  survivors hold its cameras, and until each of them has a new clip in the database
  (recording again);
- rebalance: the killed engine starts again; the time from its API answering until the
  cameras are spread 2, 1, 1 again.
- serving from the object store: for a few clips, the time another engine than the one
  recording the camera takes to answer the clip's snapshot and video, first (fetched from
  the store) and again (from its cache).

Overhead: one engine in cluster mode holding no camera (beats and the event relay only)
against the same engine without cluster mode, CPU seconds over the same window (from
/proc/<pid>/stat). Figures are printed, never asserted; on a loaded machine the times carry
the load (the lease-driven part does not: it is set by lease_s and heartbeat_s).
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import statistics
import sys
import tempfile
import time
import urllib.request
import uuid
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import asyncpg  # noqa: E402

from tests.cluster.engines import (  # noqa: E402
    CAMERAS,
    PG_PORT,
    Clip,
    ClusterEngine,
    clips,
    engine_config,
    running_cluster,
    wait_for,
)
from tests.engine.lifecycle.conftest import S3_KEY_ID, S3_SECRET, S3Server, free_port  # noqa: E402
from tests.services import PG_URL  # noqa: E402

CREDENTIALS = {"access_key_id_env": "HOMESEC_BENCH_S3_KEY",
               "secret_access_key_env": "HOMESEC_BENCH_S3_SECRET"}


async def _admin(sql: str) -> None:
    conn = await asyncpg.connect(PG_URL, timeout=5)
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


def _shares(engines: list[ClusterEngine]) -> list[int]:
    return [len(e.held()) for e in engines]


def _cpu_s(engine: ClusterEngine) -> float:
    assert engine.proc is not None
    fields = Path(f"/proc/{engine.proc.pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _timed_get(url: str) -> float:
    """Milliseconds to GET `url` whole (it must answer 200)."""
    started = time.perf_counter()
    with urllib.request.urlopen(url, timeout=30) as resp:
        resp.read()
    return (time.perf_counter() - started) * 1000


def serving(engines: list[ClusterEngine], s3: S3Server, database: str, count: int = 5
            ) -> list[float]:
    """Per clip: ms for another engine to serve its snapshot first and again, its video
    first and again (medians over `count` clips in the store)."""
    holders = {camera: e for e in engines for camera in e.held()}

    def in_store() -> list[Clip]:
        pages = s3.client().get_paginator("list_objects_v2").paginate(Bucket=s3.bucket)
        keys = {o["Key"] for page in pages for o in page.get("Contents", [])}
        return [c for c in clips(database) if c.offsite_state == "done"
                and f"homesec/{c.id}.jpg" in keys][:count]

    found = wait_for(in_store, 60, "clips and snapshots in the store")
    times: list[list[float]] = [[], [], [], []]
    for clip in found:
        other = next(e for e in engines if e is not holders.get(clip.camera))
        for index, what in enumerate(("snapshot", "snapshot", "media", "media")):
            times[index].append(_timed_get(f"{other.url}/clips/{clip.id}/{what}"))
    return [statistics.median(t) for t in times]


def one_run(workdir: Path, s3: S3Server, lease_s: float, heartbeat_s: float
            ) -> tuple[float, ...]:
    database = f"homesec_bench_{uuid.uuid4().hex[:10]}"
    asyncio.run(_admin(f'CREATE DATABASE "{database}"'))
    try:
        with running_cluster(workdir, ["e1", "e2", "e3"], database=database,
                             s3_endpoint=s3.endpoint, bucket=s3.bucket,
                             credentials=CREDENTIALS, lease_s=lease_s,
                             heartbeat_s=heartbeat_s) as engines:
            wait_for(lambda: _shares(engines) == [2, 1, 1], 120, "spread 2, 1, 1")
            served = serving(engines, s3, database)
            victim, survivors = engines[0], engines[1:]
            moved = victim.held()
            victim.kill()
            killed, killed_at = time.monotonic(), datetime.now(UTC)
            wait_for(lambda: set().union(*(e.held() for e in survivors)) == set(CAMERAS),
                     120, "survivors holding every camera", step=0.1)
            held_s = time.monotonic() - killed
            wait_for(lambda: moved <= {c.camera for c in clips(database)
                                       if c.started >= killed_at}, 120,
                     "moved cameras recording", step=0.1)
            recording_s = time.monotonic() - killed
            victim.start()
            victim.wait_healthy(120)
            back = time.monotonic()
            wait_for(lambda: _shares(engines) == [2, 1, 1], 120, "spread again", step=0.1)
            rebalance_s = time.monotonic() - back
    finally:
        asyncio.run(_admin(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)'))
    return held_s, recording_s, rebalance_s, *served


def overhead(workdir: Path, s3: S3Server, lease_s: float, heartbeat_s: float,
             window_s: float) -> tuple[float, float]:
    """CPU seconds per minute of an idle engine with and without cluster mode."""
    database = f"homesec_bench_{uuid.uuid4().hex[:10]}"
    asyncio.run(_admin(f'CREATE DATABASE "{database}"'))
    out = []
    try:
        for cluster in (False, True):
            folder = workdir / ("cluster" if cluster else "single")
            folder.mkdir()
            config = engine_config("idle", database=database, pg_port=PG_PORT,
                                   s3_endpoint=s3.endpoint, bucket=s3.bucket,
                                   credentials=CREDENTIALS, cameras=[], lease_s=lease_s,
                                   heartbeat_s=heartbeat_s, enabled=cluster)
            with ClusterEngine(folder, config=config) as engine:
                engine.wait_healthy(120)
                time.sleep(heartbeat_s * 2)  # past start-up
                before = _cpu_s(engine)
                time.sleep(window_s)
                out.append((_cpu_s(engine) - before) * 60 / window_s)
    finally:
        asyncio.run(_admin(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)'))
    return out[0], out[1]


def main() -> None:
    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # moto's request log
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--lease-s", type=float, default=15.0)
    parser.add_argument("--heartbeat-s", type=float, default=5.0)
    parser.add_argument("--window-s", type=float, default=60.0)
    args = parser.parse_args()
    os.environ["HOMESEC_BENCH_S3_KEY"], os.environ["HOMESEC_BENCH_S3_SECRET"] = \
        S3_KEY_ID, S3_SECRET
    s3 = S3Server(port=free_port(), bucket=f"bench-{uuid.uuid4().hex[:8]}")
    s3.start()
    try:
        with tempfile.TemporaryDirectory() as tmp:
            results = []
            for run in range(args.runs):
                workdir = Path(tmp) / f"run{run}"
                workdir.mkdir()
                results.append(one_run(workdir, s3, args.lease_s, args.heartbeat_s))
                print(f"run {run + 1}: held {results[-1][0]:.1f} s, recording "
                      f"{results[-1][1]:.1f} s, rebalance {results[-1][2]:.1f} s", flush=True)
            idle = Path(tmp) / "idle"
            idle.mkdir()
            single, clustered = overhead(idle, s3, args.lease_s, args.heartbeat_s,
                                         args.window_s)
    finally:
        s3.stop()
    print(f"\nlease_s {args.lease_s:g}, heartbeat_s {args.heartbeat_s:g}, 3 engines, "
          f"4 demo cameras, {args.runs} runs")
    for name, index in (("failover: cameras held by the survivors", 0),
                        ("failover: moved cameras recording again", 1),
                        ("rebalance after the engine came back", 2)):
        values = [r[index] for r in results]
        print(f"{name:42s} median {statistics.median(values):5.1f} s  "
              f"max {max(values):5.1f} s")
    for name, index in (("snapshot by another engine, from the store", 3),
                        ("snapshot by another engine, cached", 4),
                        ("video by another engine, from the store", 5),
                        ("video by another engine, cached", 6)):
        values = [r[index] for r in results]
        print(f"{name:42s} median {statistics.median(values):5.0f} ms "
              f"max {max(values):5.0f} ms")
    print(f"{'idle engine CPU, cluster mode off':42s} {single:.2f} s per minute")
    print(f"{'idle engine CPU, cluster mode on':42s} {clustered:.2f} s per minute "
          f"(+{clustered - single:.2f} s: beats and the event relay)")


if __name__ == "__main__":
    main()
