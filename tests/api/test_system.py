"""Health, diagnostics, status, stats, config, restart and the OpenAPI document."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from openapi_spec_validator import validate as validate_openapi

from homesec_engine.records import utcnow
from tests.engine_harness import RunningEngine

from .conftest import API_KEY, Api, ClipFactory, assert_valid


async def test_health_is_public_and_healthy(api: Api, http, engine: RunningEngine) -> None:
    # Given a running engine, When /health is called without a key
    status, body, _ = await Api(http, engine, authorised=False).call("GET", "/health")
    # Then it answers healthy with the database up
    assert status == 200
    assert_valid("Health", body)
    assert body["status"] == "healthy" and body["database"] == "up"
    assert body["pipeline"] == "running"
    assert body["version"] == engine.runtime.version


async def test_health_is_503_unhealthy_when_the_pipeline_is_stopped(
    http, engine: RunningEngine
) -> None:
    # Given the pipeline has stopped
    engine.runtime.pipeline_running = False
    # When /health is called
    status, body, _ = await Api(http, engine, authorised=False).call("GET", "/health")
    # Then the watchdog sees 503 unhealthy
    assert status == 503
    assert_valid("Health", body)
    assert body["status"] == "unhealthy" and body["pipeline"] == "stopped"


async def test_diagnostics_is_public_and_has_no_secret(http, engine: RunningEngine) -> None:
    # Given an engine with an API key, When diagnostics are read without a key
    status, body, resp = await Api(http, engine, authorised=False).call("GET", "/diagnostics")
    # Then they answer with per-component states and never the key
    assert status == 200
    assert_valid("Diagnostics", body)
    assert body["components"]["database"]["status"] == "ok"
    assert body["components"]["events"]["dropped"] == 0
    assert API_KEY not in (await resp.text())


async def test_status_has_everything_the_integration_polls(
    api: Api, engine: RunningEngine, make_clip: ClipFactory
) -> None:
    # Given two clips today (one alerted) and one from two days ago
    await make_clip("front_door", alerted=True, risk_level="high", activity_type="person")
    await make_clip("front_door")
    await make_clip("front_door", created_at=utcnow() - timedelta(days=2), alerted=True)
    # And a last alert known to the runtime
    engine.runtime.last_alerts["front_door"] = {
        "clip_id": "c1", "activity_type": "person", "risk_level": "high", "summary": "A person",
        "detected_objects": ["person"], "timestamp": utcnow()}
    # When /status is polled
    status, body, _ = await api.call("GET", "/status")
    # Then one response has health, cameras, today's counters and the config version
    assert status == 200, body
    assert_valid("Status", body)
    assert body["health"]["status"] == "healthy"
    assert [c["name"] for c in body["cameras"]] == ["front_door", "garage"]
    front = body["cameras"][0]
    assert front["last_alert"]["clip_id"] == "c1"
    assert body["cameras"][1]["enabled"] is False and body["cameras"][1]["last_alert"] is None
    assert body["stats"]["clips_today"] == 2 and body["stats"]["alerts_today"] == 1
    assert body["stats"]["cameras_total"] == 2
    assert body["config_version"] == 1 and body["restart_required"] is False


async def test_stats_counts_today(api: Api, make_clip: ClipFactory) -> None:
    # Given one alerted clip today
    await make_clip(alerted=True)
    # When /stats is read
    status, body, _ = await api.call("GET", "/stats")
    # Then the counters include it
    assert status == 200
    assert_valid("Stats", body)
    assert (body["clips_today"], body["alerts_today"]) == (1, 1)
    assert body["uptime_seconds"] >= 0


async def test_config_shows_env_var_names_not_secrets(api: Api, engine: RunningEngine) -> None:
    # Given an engine whose API key lives in an environment variable
    # When the config is read
    status, body, resp = await api.call("GET", "/config")
    # Then it names the variable, never its value
    assert status == 200
    assert_valid("ConfigView", body)
    assert body["config"]["server"]["api_key_env"].startswith("HOMESEC_TEST_API_KEY_")
    assert API_KEY not in (await resp.text())
    assert body["config_version"] == 1


async def test_restart_answers_202_then_asks_the_runtime(api: Api, engine: RunningEngine
                                                         ) -> None:
    # Given a running engine, When a restart is requested
    status, body, _ = await api.call("POST", "/system/restart")
    # Then the API accepts it and the runtime is asked to restart
    assert status == 202
    assert_valid("RestartAccepted", body)
    await asyncio.wait_for(engine.runtime.restart_requested.wait(), 5)


async def test_openapi_document_is_public_and_valid(http, engine: RunningEngine) -> None:
    # When the OpenAPI document is fetched without a key
    status, body, _ = await Api(http, engine, authorised=False).call("GET", "/openapi.json")
    # Then it is a valid OpenAPI 3.1 document covering every route
    assert status == 200
    validate_openapi(body)
    assert "/api/v1/clips/{clip_id}/media" in body["paths"]
    assert body["info"]["version"] == engine.runtime.version
