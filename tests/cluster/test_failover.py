"""Three real engines on one machine: one PostgreSQL database, one S3 server, four cameras.

Leases spread the cameras; kill -9 of an engine moves its cameras to the others; an engine
cut off from PostgreSQL stops recording once its leases run out and says so in health; no
clip is lost and no camera is recorded by two engines at once.
"""

from __future__ import annotations

import signal
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from homesec_engine.records import stable_clip_id
from tests.engine.lifecycle.conftest import S3Server

from .engines import (
    CAMERAS,
    PG_PORT,
    ClusterEngine,
    clips,
    overlapping,
    running_cluster,
    wait_for,
)
from .tcpproxy import TcpProxy

# Generous bounds for a loaded 2-core machine; the figures are measured by bench/cluster.py.
START_S, MOVE_S = 90.0, 30.0


@pytest.fixture
def cluster(tmp_path: Path, cluster_db: str, s3_server: S3Server, s3_env: dict[str, str]
            ) -> Iterator[tuple[list[ClusterEngine], TcpProxy]]:
    """e1, e2, e3 started; e3 reaches PostgreSQL through a proxy the test may cut."""
    proxy = TcpProxy(PG_PORT)
    proxy.start()
    try:
        with running_cluster(tmp_path, ["e1", "e2", "e3"], pg_ports={"e3": proxy.port},
                             start_s=START_S, database=cluster_db,
                             s3_endpoint=s3_server.endpoint, bucket=s3_server.bucket,
                             credentials=s3_env) as engines:
            yield engines, proxy
    finally:
        proxy.close()


def _spread(engines: list[ClusterEngine]) -> dict[str, set[str]] | None:
    """{engine: cameras} once every camera is held once and the shares are the stated
    rule's: four cameras on three equal engines are 2, 1, 1, the odd one to the first id."""
    held = {e.workdir.name: e.held() for e in engines}
    every = [c for cams in held.values() for c in cams]
    shares = [len(held[e.workdir.name]) for e in engines]
    return held if sorted(every) == sorted(CAMERAS) and shares == [2, 1, 1] else None


def _recording_since(database: str, since: datetime, cameras: set[str]) -> bool:
    recent = {c.camera for c in clips(database) if c.started >= since}
    return cameras <= recent


def _settled(engines: list[ClusterEngine], database: str) -> datetime:
    """When the cameras were spread 2, 1, 1 (every one of them recording since)."""
    wait_for(lambda: _spread(engines), START_S, "cameras spread 2, 1, 1")
    settled = datetime.now(UTC)
    wait_for(lambda: _recording_since(database, settled, set(CAMERAS)), START_S,
             "every camera recording")
    return settled


def _finished_recordings(engine: ClusterEngine) -> dict[str, str]:
    """{clip id: camera} of the recordings left in a (killed) engine's work folders."""
    out = {}
    for path in (engine.workdir / "data" / "work").glob("*/*.mp4"):
        if not path.name.startswith("."):
            out[stable_clip_id(path.parent.name, path)] = path.parent.name
    return out


def _all_copied(database: str, until: datetime) -> bool:
    """Every clip recorded up to `until` is stored and copied to the object store."""
    found = [c for c in clips(database) if c.started <= until]
    return bool(found) and all(c.status == "done" and c.offsite_state == "done" for c in found)


def _assert_each_clip_once(database: str, s3: S3Server, until: datetime) -> None:
    keys = [key for key in s3.objects() if key.endswith(".mp4")]
    for clip in clips(database):
        if clip.started <= until:  # its copy is in the bucket, once
            assert clip.offsite_uri is not None
            assert [k for k in keys if clip.id in k] == [clip.offsite_uri.split("/", 3)[-1]]


def test_leases_spread_cameras_and_kill_moves_them(
        cluster: tuple[list[ClusterEngine], TcpProxy], cluster_db: str,
        s3_server: S3Server) -> None:
    engines, _proxy = cluster
    # Given three engines sharing four cameras
    # Then the leases spread them by the stated rule: 2, 1, 1 (the odd one to e1)
    held = wait_for(lambda: _spread(engines), START_S, "cameras spread 2, 1, 1")
    settled = datetime.now(UTC)
    wait_for(lambda: _recording_since(cluster_db, settled, set(CAMERAS)), START_S,
             "every camera recording")

    # When the engine holding two cameras is killed with SIGKILL
    victim = engines[0]
    moved = held["e1"]
    victim.kill()
    killed_at = datetime.now(UTC)
    left_behind = _finished_recordings(victim)

    # Then its cameras are held by the survivors within the target and record there
    survivors = engines[1:]
    wait_for(lambda: set().union(*(e.held() for e in survivors)) == set(CAMERAS), MOVE_S,
             f"{sorted(moved)} held by the survivors")
    wait_for(lambda: _recording_since(cluster_db, killed_at, moved), MOVE_S,
             "the moved cameras recording on the survivors")
    for engine in survivors:
        assert engine.health()["cluster"]["state"] == "holding"
    until = datetime.now(UTC)

    # And after the killed engine comes back, every recording it left is stored and copied
    victim.start()
    victim.wait_healthy(START_S)
    wait_for(lambda: _all_copied(cluster_db, until), START_S, "every clip stored and copied")
    done = {c.id for c in clips(cluster_db) if c.status == "done"}
    assert set(left_behind) <= done
    _assert_each_clip_once(cluster_db, s3_server, until)
    # And no camera was recorded by two engines at once (between the spread and the return)
    window = [c for c in clips(cluster_db) if settled <= c.started <= until]
    assert overlapping(window) == []


def test_partitioned_engine_stops_after_its_lease(
        cluster: tuple[list[ClusterEngine], TcpProxy], cluster_db: str,
        s3_server: S3Server) -> None:
    engines, proxy = cluster
    cut_off = engines[2]
    # Given three engines sharing four cameras, e3 holding one
    settled = _settled(engines, cluster_db)

    # When e3's link to PostgreSQL goes dead
    mine = cut_off.held()  # as the cut finds it
    assert mine
    proxy.cut()
    cut_at = datetime.now(UTC)

    # Then once its leases could run out it records nothing and says why in health
    def partitioned() -> dict[str, Any] | None:
        cluster_health = cut_off.health()["cluster"]
        return cluster_health if cluster_health["state"] == "partitioned" else None

    report = wait_for(partitioned, MOVE_S, "e3 reporting the partition")
    assert report["cameras_held"] == []
    assert "cannot reach the database" in report["reason"]
    stopped = report["reason"].rsplit("ran out: ", 1)[-1].split(", ")
    assert sorted(stopped) == sorted(mine), report["reason"]
    assert cut_off.health()["status"] == "degraded"
    # And the others take its cameras and record them
    others = engines[:2]
    wait_for(lambda: set().union(*(e.held() for e in others)) == set(CAMERAS), MOVE_S,
             "e3's cameras held by the others")
    wait_for(lambda: _recording_since(cluster_db, cut_at, mine), MOVE_S,
             "e3's cameras recording elsewhere")
    until = datetime.now(UTC)

    # When the link comes back
    proxy.heal()
    # Then e3 holds cameras again, and the clips it kept while cut off are all stored
    wait_for(lambda: cut_off.health()["cluster"]["state"] == "holding", MOVE_S,
             "e3 holding again")
    wait_for(lambda: _spread(engines), MOVE_S, "the cameras spread over three engines again")
    time.sleep(2)  # the clips it recorded before the cut reach the database from its outbox
    wait_for(lambda: _all_copied(cluster_db, until), START_S, "every clip stored and copied")
    _assert_each_clip_once(cluster_db, s3_server, until)
    # And no camera was recorded twice at once, though e3 never heard it lost its lease
    window = [c for c in clips(cluster_db) if settled <= c.started <= until]
    assert overlapping(window) == []


def test_paused_engine_writes_no_clip_as_holder_when_it_wakes(
        cluster: tuple[list[ClusterEngine], TcpProxy], cluster_db: str) -> None:
    engines, _proxy = cluster
    paused = engines[2]
    # Given three engines sharing four cameras, e3 holding one
    settled = _settled(engines, cluster_db)
    mine = paused.held()
    assert mine

    # When e3 is paused (SIGSTOP) past its leases and the others take its cameras
    assert paused.proc is not None
    paused.proc.send_signal(signal.SIGSTOP)
    paused_at = datetime.now(UTC)
    others = engines[:2]
    try:
        wait_for(lambda: set().union(*(e.held() for e in others)) == set(CAMERAS), MOVE_S,
                 "e3's cameras held by the others")
        wait_for(lambda: _recording_since(cluster_db, paused_at, mine), MOVE_S,
                 "e3's cameras recording elsewhere")
    finally:
        # And e3 wakes up, its recordings and writes going on where they stopped
        paused.proc.send_signal(signal.SIGCONT)
        woke = datetime.now(UTC)

    # Then the cameras spread over three engines again
    wait_for(lambda: _spread(engines), MOVE_S, "the cameras spread over three engines again")
    time.sleep(2)  # what e3 wrote as it woke has reached the database
    # And no camera was recorded twice at once up to the wake (the clip e3 was making when
    # paused, finished as it woke under the token it had lost, was refused by the database:
    # its log names each one). Not after: a demo clip is stamped from the second before it
    # was made, which a quick handover in the rebalance that follows does not cover.
    window = [c for c in clips(cluster_db) if settled <= c.started <= woke]
    assert overlapping(window) == [], paused.tail()
