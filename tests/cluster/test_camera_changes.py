"""Adding and changing a camera in a cluster: three engines, one PostgreSQL database, one S3
server.

A camera added through one engine's API reaches every engine's config, is recorded by exactly
one of them, moves to another when its holder is killed, and takes new zones and keep times
sent through yet another engine's API on every engine; the engines still agree on their
config versions, also once one of them is restarted.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from tests.engine.lifecycle.conftest import S3Server
from tests.faults.engine_process import http

from .engines import (
    TEST_HEARTBEAT_S,
    TEST_LEASE_S,
    ClusterEngine,
    clips,
    demo_camera,
    held_apart,
    sql,
    three_engines,
    wait_for,
)

CAMS = ["front", "back", "yard"]
NEW = "porch"
# A change reaches every engine at its next beat; a killed holder's camera moves once its
# lease ran out (lease_s + heartbeat_s), plus the camera's start.
FOLLOW_S = 10 * TEST_HEARTBEAT_S
MOVE_S = TEST_LEASE_S + TEST_HEARTBEAT_S + 20


def _camera(engine: ClusterEngine, name: str) -> dict[str, Any] | None:
    """The camera as the engine's API shows it; None while it answers 404."""
    status, body = http("GET", f"{engine.url}/cameras/{name}", timeout=10)
    if status == 404:
        return None
    assert status == 200, body
    assert isinstance(body, dict)
    return body


def _holders(engines: list[ClusterEngine], name: str) -> list[ClusterEngine]:
    return [e for e in engines if name in e.held()]


def _states(engines: list[ClusterEngine]) -> set[str]:
    """The engines' cluster states (holding, refused, partitioned)."""
    return {(e.health().get("cluster") or {}).get("state") for e in engines}


def _config_version(engine: ClusterEngine) -> int:
    status, body = http("GET", f"{engine.url}/config", timeout=10)
    assert status == 200, body
    return int(body["config_version"])


def test_a_camera_added_through_one_engine_reaches_every_engine_and_can_move(
        tmp_path: Path, cluster_db: str, s3_server: S3Server, s3_env: dict[str, str]) -> None:
    # Given three engines recording three cameras, one each
    with three_engines(tmp_path, cluster_db, s3_server, s3_env, CAMS) as engines:
        wait_for(lambda: held_apart(engines), 90, "one camera on each engine")
        versions = {_config_version(e) for e in engines}
        assert len(versions) == 1, versions
        adder = engines[0]

        # When a user adds a camera through one engine's API (as HA's add_camera does)
        status, body = http("POST", f"{adder.url}/cameras", demo_camera(NEW), timeout=15)
        assert status == 201, body

        # Then within a few beats every engine knows it (no 404 anywhere)
        wait_for(lambda: all(_camera(e, NEW) is not None for e in engines), FOLLOW_S,
                 f"{NEW} on every engine")
        # And exactly one engine holds it and records it
        holder = wait_for(lambda: (h := _holders(engines, NEW)) and h[0], FOLLOW_S + 20,
                          f"{NEW} held")
        wait_for(lambda: any(c.camera == NEW for c in clips(cluster_db)), 60,
                 f"{NEW} recording")
        assert _holders(engines, NEW) == [holder]
        # And what PostgreSQL keeps of it is the camera as the config file has it (where a
        # stream's credentials are only ever an env-var name), nothing more
        rows = sql(cluster_db, "SELECT kind, definition FROM cluster_config_changes "
                               "WHERE subject = $1", f"camera:{NEW}")
        assert [r["kind"] for r in rows] == ["add"], rows
        status, config = http("GET", f"{adder.url}/config", timeout=10)
        configured = next(c for c in config["config"]["cameras"] if c["name"] == NEW)
        assert json.loads(rows[0]["definition"]) == {**configured, "retention": None}

        # When its holder is killed with SIGKILL
        holder.kill()
        survivors = [e for e in engines if e is not holder]

        # Then another engine takes it over and records it
        taker = wait_for(lambda: (h := _holders(survivors, NEW)) and h[0], MOVE_S,
                         f"{NEW} taken over")
        seen = {c.id for c in clips(cluster_db) if c.camera == NEW}
        wait_for(lambda: {c.id for c in clips(cluster_db) if c.camera == NEW} - seen, 60,
                 f"{NEW} recording on {taker.workdir.name}")
        assert _holders(survivors, NEW) == [taker]

        # When a user changes its zones and its own keep times through another engine's API
        # (update_camera)
        changer = next((e for e in survivors if e is not adder), survivors[0])
        zones = [{"name": "steps", "points": [[0, 0.5], [1, 0.5], [1, 1], [0, 1]]}]
        status, body = http("PUT", f"{changer.url}/cameras/{NEW}",
                            {"zones": zones, "retention": {"keep_days": 3}}, timeout=15)
        assert status == 200, body

        # Then every engine shows the new zones and keep times
        def changed_everywhere() -> bool:
            seen = [_camera(e, NEW) or {} for e in survivors]
            return all([z["name"] for z in c.get("zones") or []] == ["steps"]
                       and c.get("retention") == {"keep_days": 3} for c in seen)
        wait_for(changed_everywhere, FOLLOW_S, "the new zones and keep times on every engine")
        # And the engines still agree: each applied both changes once, none refuses cameras
        wait_for(lambda: len({_config_version(e) for e in survivors}) == 1, FOLLOW_S,
                 "one config_version")
        assert {_config_version(e) for e in survivors} == {versions.pop() + 2}
        assert _states(survivors) == {"holding"}

        # When one of them is restarted (its config files are as before; the changes are in
        # its run-time overrides now)
        restarted = survivors[0]
        restarted.stop()
        restarted.start()
        restarted.wait_healthy(90)

        # Then the engines still agree and share the four cameras: none refuses to hold any
        def shared() -> bool:
            held = [e.held() for e in survivors]
            return (_states(survivors) == {"holding"} and all(len(h) == 2 for h in held)
                    and sorted(c for h in held for c in h) == sorted([*CAMS, NEW]))
        wait_for(shared, MOVE_S, "two cameras on each engine, none refused")
        # And the restarted engine kept the camera with its new zones and keep times
        kept = _camera(restarted, NEW) or {}
        assert [z["name"] for z in kept["zones"]] == ["steps"]
        assert kept["retention"] == {"keep_days": 3}
