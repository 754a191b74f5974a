"""Database down: routes needing clip state answer 503, config routes keep working, and the
API recovers by itself."""

from __future__ import annotations

import asyncio
from pathlib import Path

import aiohttp

from tests.engine.state.pgcluster import throwaway_postgres
from tests.engine_harness import running_engine

from .conftest import API_KEY, Api, assert_error, assert_valid

DB_ROUTES = [("GET", "/status"), ("GET", "/clips"), ("GET", "/clips/abc"),
             ("DELETE", "/clips/abc"), ("GET", "/clips/abc/media"),
             ("GET", "/clips/abc/snapshot"), ("GET", "/stats")]
NEW_CAMERA = {"name": "porch", "enabled": False, "source_backend": "demo",
              "source_config": {"interval_s": 3600, "subject": "person"}}


async def _wait_for(api: Api, path: str, status: int, timeout: float = 20) -> dict:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        got, body, _ = await api.call("GET", path)
        if got == status or loop.time() > deadline:
            assert got == status, body
            return body
        await asyncio.sleep(0.1)


async def test_api_answers_503_while_the_database_is_down_and_recovers(
    tmp_path: Path, http: aiohttp.ClientSession
) -> None:
    async with throwaway_postgres() as cluster, running_engine(
        tmp_path, api_key=API_KEY, database_url=cluster.url
    ) as engine:
        api = Api(http, engine)
        assert (await api.call("GET", "/status"))[0] == 200
        # Given the database stops
        await cluster.stop()
        # When the API is used
        body = await _wait_for(api, "/status", 503)
        assert_error(503, body, 503, "DB_UNAVAILABLE")
        for method, path in DB_ROUTES:
            status, answer, _ = await api.call(method, path, json_body={}
                                               if method in ("PUT", "POST") else None)
            # Then every route needing state answers 503 DB_UNAVAILABLE (nothing changes)
            assert_error(status, answer, 503, "DB_UNAVAILABLE")
        # And the config routes (no database needed) keep working
        for path in ("/config", "/cameras", "/cameras/front_door", "/alert-policy"):
            status, answer, _ = await api.call("GET", path)
            assert status == 200, (path, answer)
        status, answer, _ = await api.call("POST", "/cameras", json_body=NEW_CAMERA)
        assert status == 201, answer
        status, answer, _ = await api.call("PUT", "/alert-policy",
                                           json_body={"alert_policy": {"min_risk_level": "high"}})
        assert status == 200, answer
        status, answer, _ = await api.call("DELETE", "/cameras/porch")
        assert status == 200, answer
        assert engine.runtime.config_manager.config_version == 4
        assert engine.runtime.policy.min_risk_level == "high"
        # And health stays up but degraded, diagnostics stay public
        status, health, _ = await api.call("GET", "/health")
        assert status == 200 and health["status"] == "degraded" and health["database"] == "down"
        assert_valid("Health", health)
        status, diag, _ = await api.call("GET", "/diagnostics")
        assert status == 200 and diag["components"]["database"]["status"] == "error"
        # When the database comes back, Then the API recovers by itself
        await cluster.start()
        body = await _wait_for(api, "/status", 200)
        assert_valid("Status", body)
        assert body["health"]["database"] == "up"
        assert (await api.call("GET", "/clips"))[0] == 200


async def test_a_database_that_never_answered_is_503_from_the_start(
    tmp_path: Path, http: aiohttp.ClientSession
) -> None:
    # Given an engine whose database URL points at a closed port
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    async with running_engine(tmp_path, database_url=f"postgresql://postgres@127.0.0.1:{port}/x"
                              ) as engine:
        api = Api(http, engine)
        # Then state routes are 503, health is degraded
        status, body, _ = await api.call("GET", "/clips")
        assert_error(status, body, 503, "DB_UNAVAILABLE")
        status, health, _ = await api.call("GET", "/health")
        assert status == 200 and health["status"] == "degraded"
