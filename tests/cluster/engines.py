"""Several `homesec run` processes as one cluster, and what the tests read back.

Each engine has a data dir of its own (outbox, spool, work folders) and the same cameras,
PostgreSQL database and S3 bucket. Demo cameras record back to back (clip_s == interval_s),
so two engines recording one camera at once would show as overlapping clips. A demo clip is
stamped as the second before it was made, which the stop margin (heartbeat_s, 1 s here) covers
when a camera moves because a lease ran out.
"""

from __future__ import annotations

import asyncio
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import asyncpg

from tests.faults.engine_process import EngineProcess, http
from tests.services import PG_URL, pg_url

PG_PORT = urlsplit(PG_URL).port or 5432  # the test server's; a proxy may stand in front

# Short leases so a test sees several lease periods in seconds (the defaults: 15 s / 5 s).
TEST_LEASE_S, TEST_HEARTBEAT_S = 4.0, 1.0
CAMERAS = [f"cam{i}" for i in range(1, 5)]


def demo_camera(name: str) -> dict[str, Any]:
    return {"name": name, "source_backend": "demo",
            "source_config": {"interval_s": 1, "clip_s": 1, "width": 96, "height": 64,
                              "fps": 4}}


def engine_config(engine_id: str, *, database: str, pg_port: int, s3_endpoint: str,
                  bucket: str, credentials: dict[str, str],
                  cameras: list[str] = CAMERAS, sections: dict[str, Any] | None = None,
                  **cluster: Any) -> dict[str, Any]:
    """One engine's config; `sections` adds or replaces top-level sections (retention...)."""
    return {
        "state": {"url": pg_url(database).replace(f":{PG_PORT}/", f":{pg_port}/"),
                  "outbox_path": "./data/outbox"},
        "storage": {"backend": "local", "path": "./data/clips"},
        "offsite": {"enabled": True, "backend": "s3", "endpoint": s3_endpoint,
                    "bucket": bucket, "root": "homesec", "retry_initial_s": 0.2,
                    "retry_max_s": 1.0, **credentials},
        "filter": {"backend": "builtin"},
        "cluster": {"enabled": True, "engine_id": engine_id, "lease_s": TEST_LEASE_S,
                    "heartbeat_s": TEST_HEARTBEAT_S, **cluster},
        "cameras": [demo_camera(name) for name in cameras],
        **(sections or {}),
    }


REPO = Path(__file__).resolve().parents[2]


class ClusterEngine(EngineProcess):
    """An engine from its config file alone (no embedded default and its demo camera), run
    from this checkout's code (first on PYTHONPATH, whatever the venv installed)."""

    def __init__(self, workdir: Path, *, config: dict[str, Any]) -> None:
        super().__init__(workdir, config=config, env={"PYTHONPATH": str(REPO)})

    def start(self) -> None:
        with open(self.log, "ab") as log:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "homesec_engine", "run", "--config", "fault.yaml"],
                cwd=self.workdir, stdin=subprocess.DEVNULL, stdout=log, stderr=log,
                env=self.env)

    def health(self) -> dict[str, Any]:
        status, body = http("GET", f"{self.url}/health", timeout=5)
        assert isinstance(body, dict), body
        return body

    def held(self) -> set[str]:
        try:
            return set((self.health().get("cluster") or {}).get("cameras_held") or [])
        except OSError:
            return set()

    def tail(self) -> str:
        return self.log.read_text(errors="replace")[-3000:]


@contextmanager
def running_cluster(tmp_path: Path, ids: list[str], *, pg_ports: dict[str, int] | None = None,
                    start_s: float = 90.0, **config: Any) -> Iterator[list[ClusterEngine]]:
    """Engines `ids` started (each in tmp_path/<id>) and answering; stopped on exit.
    `config` goes to engine_config; `pg_ports` reroutes an engine's database connection."""
    engines = []
    for engine_id in ids:
        workdir = tmp_path / engine_id
        workdir.mkdir()
        engines.append(ClusterEngine(workdir, config=engine_config(
            engine_id, pg_port=(pg_ports or {}).get(engine_id, PG_PORT), **config)))
    try:
        for engine in engines:
            engine.start()
        for engine in engines:
            engine.wait_healthy(start_s)
        yield engines
    finally:
        for engine in engines:
            engine.stop()


def three_engines(tmp_path: Path, database: str, s3: Any, credentials: dict[str, str],
                  cameras: list[str], **config: Any) -> Any:
    """running_cluster of e1, e2 and e3 on `database` and `s3`'s bucket (an S3Server)."""
    return running_cluster(tmp_path, ["e1", "e2", "e3"], database=database, cameras=cameras,
                           s3_endpoint=s3.endpoint, bucket=s3.bucket, credentials=credentials,
                           **config)


def held_apart(engines: list[ClusterEngine]) -> dict[str, ClusterEngine] | None:
    """{camera: engine} once each engine holds one camera."""
    held = {e: e.held() for e in engines}
    if all(len(cams) == 1 for cams in held.values()):
        return {next(iter(cams)): engine for engine, cams in held.items()}
    return None


PREFIX = "homesec/"  # the engines' offsite root in the bucket


def bucket_keys(s3: Any) -> set[str]:
    """The bucket's objects, listed with the S3 client (not through the engines)."""
    client, keys, token = s3.client(), set(), None
    while True:
        page = client.list_objects_v2(Bucket=s3.bucket, Prefix=PREFIX,
                                      **({"ContinuationToken": token} if token else {}))
        keys |= {o["Key"].removeprefix(PREFIX) for o in page.get("Contents", [])}
        if not page.get("IsTruncated"):
            return keys
        token = page["NextContinuationToken"]


def sql(database: str, statement: str, *args: object) -> list[asyncpg.Record]:
    """The rows `statement` answers in the cluster's database (or none: an update)."""
    async def run() -> list[asyncpg.Record]:
        conn = await asyncpg.connect(pg_url(database))
        try:
            return list(await conn.fetch(statement, *args))
        finally:
            await conn.close()
    return asyncio.run(run())


def copied_clips(database: str, s3: Any) -> list[str]:
    """Finished clips whose video and snapshot are both in the store, oldest first."""
    keys = bucket_keys(s3)
    rows = sql(database, "SELECT id FROM clips WHERE status = 'done' AND offsite_state = "
                          "'done' ORDER BY created_at, id")
    return [r["id"] for r in rows if {f"{r['id']}.mp4", f"{r['id']}.jpg"} <= keys]


def wait_for(predicate: Any, timeout: float, what: str, step: float = 0.3) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(step)
    raise AssertionError(f"not within {timeout:g} s: {what}")


@dataclass(frozen=True)
class Clip:
    id: str
    camera: str
    status: str
    started: datetime
    ended: datetime
    offsite_state: str | None
    offsite_uri: str | None


def clips(database: str) -> list[Clip]:
    async def read() -> list[Clip]:
        conn = await asyncpg.connect(pg_url(database))
        try:
            rows = await conn.fetch("SELECT id, camera, status, created_at, duration_s, "
                                    "offsite_state, offsite_uri FROM clips")
        finally:
            await conn.close()
        return [Clip(r["id"], r["camera"], r["status"], r["created_at"],
                     r["created_at"] + timedelta(seconds=r["duration_s"] or 0),
                     r["offsite_state"], r["offsite_uri"]) for r in rows]
    return asyncio.run(read())


def overlapping(found: list[Clip], slack_s: float = 0.5) -> list[tuple[str, str]]:
    """Pairs of clips of one camera recorded at the same time (two engines at once)."""
    pairs = []
    by_camera: dict[str, list[Clip]] = {}
    for clip in found:
        by_camera.setdefault(clip.camera, []).append(clip)
    for items in by_camera.values():
        items.sort(key=lambda c: c.started)
        for before, after in zip(items, items[1:]):
            if after.started < before.ended - timedelta(seconds=slack_s):
                pairs.append((before.id, after.id))
    return pairs
