"""Removing a camera from a cluster: three engines, one PostgreSQL database, one S3 server.

A camera removed through the API of an engine that does not record it stops on the engine
that does, its lease is given up, every engine drops it from its config, and no engine takes
it up again.
"""

from __future__ import annotations

import asyncio
import time
from datetime import datetime, timedelta
from pathlib import Path

import asyncpg

from tests.engine.lifecycle.conftest import S3Server
from tests.faults.engine_process import http
from tests.services import pg_url

from .engines import (
    TEST_HEARTBEAT_S,
    TEST_LEASE_S,
    ClusterEngine,
    clips,
    held_apart,
    three_engines,
    wait_for,
)

CAMS = ["front", "back", "yard"]


def _lease(database: str, camera: str) -> tuple[str, bool, datetime] | None:
    """(holder, live, the database's now) of the camera's lease; None when it has none."""
    async def read() -> tuple[str, bool, datetime] | None:
        conn = await asyncpg.connect(pg_url(database))
        try:
            row = await conn.fetchrow("SELECT engine_id, expires_at > now() AS live, now() AS now "
                                      "FROM cluster_leases WHERE camera = $1", camera)
        finally:
            await conn.close()
        return None if row is None else (row["engine_id"], row["live"], row["now"])
    return asyncio.run(read())


def _configured(engine: ClusterEngine) -> set[str]:
    status, body = http("GET", f"{engine.url}/cameras", timeout=10)
    assert status == 200, body
    return {c["name"] for c in body["cameras"]}


def test_a_camera_removed_through_another_engine_stops_and_stays_unheld(
        tmp_path: Path, cluster_db: str, s3_server: S3Server, s3_env: dict[str, str]) -> None:
    # Given three engines recording three cameras, one each
    with three_engines(tmp_path, cluster_db, s3_server, s3_env, CAMS) as engines:
        holders = wait_for(lambda: held_apart(engines), 90, "one camera on each engine")
        camera = "yard"
        holder = holders[camera]
        other = next(e for e in engines if e is not holder)
        wait_for(lambda: any(c.camera == camera for c in clips(cluster_db)), 60,
                 f"{camera} recording")

        # When a user removes the camera through an engine that does not record it
        status, body = http("DELETE", f"{other.url}/cameras/{camera}", timeout=15)
        assert status == 200, body
        removed_at = _lease(cluster_db, camera)[2]  # type: ignore[index]

        # Then its holder stops it and gives its lease up
        wait_for(lambda: camera not in holder.held(), 30, f"{camera} stopped on its holder")
        wait_for(lambda: not (_lease(cluster_db, camera) or ("", True))[1], 30,
                 f"{camera}'s lease given up")
        # And every engine drops it from its config (Home Assistant's hub loses the device)
        wait_for(lambda: all(camera not in _configured(e) for e in engines), 30,
                 f"{camera} gone from every engine's cameras")

        # When several lease periods go by
        time.sleep(3 * TEST_LEASE_S)
        # Then no engine took it up again: no lease, nobody holds it, nothing recorded since
        # its holder stopped (a heartbeat after the removal, and the clip it was finishing)
        lease = _lease(cluster_db, camera)
        assert lease is None or not lease[1], lease
        assert all(camera not in e.held() for e in engines)
        cutoff = removed_at + timedelta(seconds=TEST_HEARTBEAT_S + 2)
        late = [c.id for c in clips(cluster_db) if c.camera == camera and c.started > cutoff]
        assert late == [], late
        # And the other two cameras are still recorded, by different engines
        held = [e.held() for e in engines]
        assert sorted(c for cams in held for c in cams) == ["back", "front"]
        assert all(len(cams) <= 1 for cams in held)
