"""The alert policy and the live settings in a cluster: three engines, one PostgreSQL
database, one S3 server.

A policy set through one engine's API (HA's set_alert_policy talks to one engine) reaches
every engine and is applied by the engine recording the camera it names; settings changed
through another engine's API (HA's update_settings, the options flow) reach every engine; a
restarted engine keeps both and none refuses to hold cameras.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from typing import Any


from tests.engine.lifecycle.conftest import S3Server
from tests.faults.engine_process import http

from .engines import (
    TEST_HEARTBEAT_S,
    TEST_LEASE_S,
    ClusterEngine,
    held_apart,
    sql,
    three_engines,
    wait_for,
)

CAMS = ["front", "back", "yard"]
# A change reaches every engine at its next beat; a restarted engine holds cameras again
# once the others' shares moved (lease_s + heartbeat_s) and its camera started.
FOLLOW_S = 10 * TEST_HEARTBEAT_S
SHARE_S = TEST_LEASE_S + TEST_HEARTBEAT_S + 30
SETTINGS = {"retention": {"keep_days": 9}, "filter": {"min_confidence": 0.55}}


def _get(engine: ClusterEngine, path: str) -> dict[str, Any]:
    status, body = http("GET", f"{engine.url}{path}", timeout=10)
    assert status == 200, body
    assert isinstance(body, dict)
    return body


def _silenced(engine: ClusterEngine, camera: str) -> bool:
    """The engine's alert policy says `camera` does not alert."""
    policy = _get(engine, "/alert-policy")["alert_policy"]
    return (policy.get("cameras") or {}).get(camera, {}).get("enabled") is False


def _settings_applied(engine: ClusterEngine) -> bool:
    config = _get(engine, "/config")["config"]
    return all(config[section][name] == value
               for section, values in SETTINGS.items() for name, value in values.items())


def _judged_since(database: str, camera: str, since: datetime) -> list[bool]:
    """Whether each of `camera`'s clips recorded after `since` and judged alerted."""
    rows = sql(database, "SELECT alerted FROM clips WHERE camera = $1 AND status = 'done' "
                         "AND created_at > $2 ORDER BY created_at", camera, since)
    return [bool(r["alerted"]) for r in rows]


def _db_now(database: str) -> datetime:
    now: datetime = sql(database, "SELECT now() AS now")[0]["now"]
    return now


def _states(engines: list[ClusterEngine]) -> set[str]:
    return {(e.health().get("cluster") or {}).get("state") for e in engines}


def test_policy_and_settings_changed_through_one_engine_apply_on_every_engine(
        tmp_path: Path, cluster_db: str, s3_server: S3Server, s3_env: dict[str, str]) -> None:
    # Given three engines recording three cameras, one each, whose clips alert
    with three_engines(tmp_path, cluster_db, s3_server, s3_env, CAMS) as engines:
        holders = wait_for(lambda: held_apart(engines), 90, "one camera on each engine")
        setter = engines[0]
        camera = next(c for c, e in holders.items() if e is not setter)  # held elsewhere
        holder = holders[camera]
        other = next(c for c in CAMS if c != camera)
        start = _db_now(cluster_db)
        wait_for(lambda: any(_judged_since(cluster_db, camera, start)), 60,
                 f"an alert on {camera}")

        # When a user stops alerts on that camera through one engine's API (as HA's
        # set_alert_policy does, replacing the policy whole)
        policy = _get(setter, "/alert-policy")["alert_policy"]
        policy["cameras"] = {camera: {"enabled": False}}
        status, body = http("PUT", f"{setter.url}/alert-policy", {"alert_policy": policy},
                            timeout=15)
        assert status == 200, body

        # Then within a few beats every engine's API shows the new policy
        wait_for(lambda: all(_silenced(e, camera) for e in engines), FOLLOW_S,
                 "the new policy on every engine")
        # And the engine recording the camera applies it: its clips are still recorded but
        # no longer alert, while another camera's still do
        since = _db_now(cluster_db) + timedelta(seconds=2)
        wait_for(lambda: len(_judged_since(cluster_db, camera, since)) >= 2
                 and any(_judged_since(cluster_db, other, since)), 60,
                 f"new clips of {camera} and {other}")
        assert not any(_judged_since(cluster_db, camera, since)), holder.tail()

        # When a user changes keep times and the detection threshold through another
        # engine's API (as HA's update_settings and the options flow do)
        changer = engines[1]
        status, body = http("PATCH", f"{changer.url}/settings", SETTINGS, timeout=15)
        assert status == 200, body

        # Then every engine's config shows them, and the engines agree on one
        # config_version (each applied each change once)
        wait_for(lambda: all(_settings_applied(e) for e in engines), FOLLOW_S,
                 "the new settings on every engine")
        wait_for(lambda: len({_get(e, "/config")["config_version"] for e in engines}) == 1,
                 FOLLOW_S, "one config_version")
        assert _states(engines) == {"holding"}

        # When the engine recording the camera is restarted (its config files are as
        # before; the changes are in its run-time overrides)
        holder.stop()
        holder.start()
        holder.wait_healthy(90)

        # Then it kept the policy and the settings, and the engines share the cameras
        # again: none refuses to hold any
        assert _silenced(holder, camera)
        assert _settings_applied(holder)

        def shared() -> bool:
            held = [e.held() for e in engines]
            return (_states(engines) == {"holding"} and all(len(h) == 1 for h in held)
                    and sorted(c for h in held for c in h) == sorted(CAMS))
        wait_for(shared, SHARE_S, "one camera on each engine, none refused")
        assert all(_silenced(e, camera) and _settings_applied(e) for e in engines)
