"""The integration's API client: error mapping, retries, circuit breaker, degraded database.

Most tests use the real engine. Failure modes a healthy engine does not produce on demand
(a 502 from a proxy, a database outage answered with 503 DB_UNAVAILABLE) come from a small
real aiohttp server on loopback that answers with the engine's documented error bodies.
"""

from __future__ import annotations

import copy
from collections.abc import AsyncIterator, Callable
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.homesec.api import (
    CircuitBreaker,
    HomeSecAuthenticationError,
    HomeSecCircuitOpenError,
    HomeSecClient,
    HomeSecConflictError,
    HomeSecConnectionError,
    HomeSecDataValidationError,
    HomeSecNotFoundError,
    HomeSecUnavailableError,
)
from custom_components.homesec.const import DOMAIN
from homeassistant.config_entries import ConfigEntryState
from homeassistant.core import HomeAssistant
from tests.engine_harness import RunningEngine

from .conftest import API_KEY, engine_port


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as s:
        yield s


def _client(session: aiohttp.ClientSession, port: int, key: str = API_KEY, **kw: Any) -> HomeSecClient:
    return HomeSecClient(session, "127.0.0.1", port, key, backoff=0.0, **kw)


async def test_error_mapping_against_the_engine(
    session: aiohttp.ClientSession, engine: RunningEngine
) -> None:
    client = _client(session, engine_port(engine))
    # Then each engine error arrives as its own exception type
    with pytest.raises(HomeSecAuthenticationError):
        await _client(session, engine_port(engine), key="wrong").get_status()
    with pytest.raises(HomeSecNotFoundError):
        await client.get_camera("nope")
    with pytest.raises(HomeSecDataValidationError) as invalid:
        await client.create_camera(
            {"name": "Bad Name", "source_backend": "demo", "source_config": {}}
        )
    assert any(e["path"] == "name" for e in invalid.value.errors)
    with pytest.raises(HomeSecConflictError) as conflict:
        await client.update_camera("garage", {"enabled": True, "config_version": 99})
    assert conflict.value.current_version == 1
    assert conflict.value.error_code == "CONFIG_VERSION_CONFLICT"
    # And the typed calls return the engine's data
    status = await client.get_status()
    assert [c["name"] for c in status["cameras"]] == ["front_door", "garage"]
    assert (await client.get_health())["status"] == "healthy"
    assert (await client.list_clips({"page": 1, "alerted": True}))["total"] == 0
    assert (await client.list_cameras())["cameras"][0]["name"] == "front_door"
    assert (await client.get_alert_policy())["config_version"] == 1
    result = await client.update_camera("garage", {"enabled": True})
    assert result["config_version"] == 2


class FlakyServer:
    """Answers /api/v1/* with scripted (status, body) replies, counting requests."""

    def __init__(self, replies: list[tuple[int, Any]], default: tuple[int, Any]) -> None:
        self.replies = replies
        self.default = default
        self.requests: list[str] = []

    async def handle(self, request: web.Request) -> web.Response:
        self.requests.append(f"{request.method} {request.path}")
        status, body = self.replies.pop(0) if self.replies else self.default
        return web.json_response(body, status=status)


@pytest.fixture
async def flaky() -> AsyncIterator[Callable[..., Any]]:
    runners: list[web.AppRunner] = []

    async def start(replies: list[tuple[int, Any]], default: tuple[int, Any]) -> tuple[FlakyServer, int]:
        server = FlakyServer(replies, default)
        app = web.Application()
        app.router.add_route("*", "/api/v1/{tail:.*}", server.handle)
        runner = web.AppRunner(app)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        runners.append(runner)
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        return server, port

    yield start
    for runner in runners:
        await runner.cleanup()


BAD_GATEWAY = (502, {"detail": "bad gateway", "error_code": "INTERNAL_ERROR"})
DB_DOWN = (503, {"detail": "database unavailable", "error_code": "DB_UNAVAILABLE"})
CHANGE = (200, {"restart_required": True, "config_version": 3})


async def test_idempotent_calls_retry_with_backoff(
    session: aiohttp.ClientSession, flaky: Callable[..., Any]
) -> None:
    # Given an engine behind a proxy that fails twice, then answers
    server, port = await flaky([BAD_GATEWAY, BAD_GATEWAY], CHANGE)
    # When a PUT is made Then it succeeds on the third try
    result = await _client(session, port).update_camera("x", {"enabled": False})
    assert result["config_version"] == 3
    assert server.requests == ["PUT /api/v1/cameras/x"] * 3


async def test_post_is_never_retried(
    session: aiohttp.ClientSession, flaky: Callable[..., Any]
) -> None:
    # Given a failing engine, When a restart (POST) is asked for
    server, port = await flaky([], BAD_GATEWAY)
    with pytest.raises(HomeSecConnectionError):
        await _client(session, port).restart()
    # Then it was sent exactly once
    assert server.requests == ["POST /api/v1/system/restart"]


async def test_database_down_is_its_own_error_and_not_retried(
    session: aiohttp.ClientSession, flaky: Callable[..., Any]
) -> None:
    server, port = await flaky([], DB_DOWN)
    with pytest.raises(HomeSecUnavailableError):
        await _client(session, port).get_status()
    assert len(server.requests) == 1


async def test_circuit_breaker_stops_hammering_a_dead_engine(
    session: aiohttp.ClientSession, flaky: Callable[..., Any]
) -> None:
    now = [0.0]
    breaker = CircuitBreaker(threshold=3, cooldown=30.0, clock=lambda: now[0])
    server, port = await flaky([], BAD_GATEWAY)
    client = _client(session, port, attempts=1, breaker=breaker)
    # Given three failures in a row
    for _ in range(3):
        with pytest.raises(HomeSecConnectionError):
            await client.get_status()
    assert breaker.state == "open"
    # When more calls come during the cool-down Then they fail fast, nothing is sent
    with pytest.raises(HomeSecCircuitOpenError):
        await client.get_status()
    assert len(server.requests) == 3
    # When the cool-down is over Then exactly one probe goes through; it fails: open again
    now[0] = 31.0
    with pytest.raises(HomeSecConnectionError):
        await client.get_status()
    assert len(server.requests) == 4
    with pytest.raises(HomeSecCircuitOpenError):
        await client.get_status()
    # When the engine is back and the next probe succeeds Then the breaker closes
    server.default = CHANGE
    now[0] = 62.0
    await client.update_camera("x", {"enabled": True})
    assert breaker.state == "closed"
    await client.update_camera("x", {"enabled": True})
    assert len(server.requests) == 6


def _status() -> dict[str, Any]:
    return {
        "health": {"status": "healthy", "pipeline": "running", "database": "up",
                   "cameras_online": 1, "version": "0.1.0"},
        "cameras": [{"name": "front_door", "enabled": True, "source_backend": "demo",
                     "healthy": True, "last_heartbeat": None,
                     "last_alert": {"clip_id": "c1", "activity_type": "person",
                                    "risk_level": "high", "summary": None,
                                    "detected_objects": ["person"],
                                    "timestamp": "2026-01-02T03:04:05+00:00"}}],
        "stats": {"clips_today": 3, "alerts_today": 2, "cameras_total": 1,
                  "cameras_online": 1, "uptime_seconds": 5.0},
        "config_version": 1,
        "restart_required": False,
    }


async def test_database_outage_keeps_entities_and_shows_degraded(
    hass: HomeAssistant, flaky: Callable[..., Any]
) -> None:
    # Given a loaded entry on an engine that answers normally
    server, port = await flaky([], (200, _status()))
    entry = MockConfigEntry(
        domain=DOMAIN,
        title="HomeSec",
        data={"host": "127.0.0.1", "port": port, "api_key": API_KEY, "ssl": False,
              "verify_ssl": True},
        unique_id="x",
    )
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    assert hass.states.get("sensor.homesec_system_health").state == "healthy"
    # When its database goes down (every /status answers 503 DB_UNAVAILABLE)
    server.default = DB_DOWN
    await entry.runtime_data.coordinator.async_refresh()
    await hass.async_block_till_done()
    # Then the entities keep their values and the hub shows the problem
    assert hass.states.get("sensor.homesec_system_health").state == "degraded"
    assert hass.states.get("sensor.front_door_risk_level").state == "high"
    assert hass.states.get("sensor.homesec_alerts_today").state == "2"
    assert entry.runtime_data.coordinator.database_available is False
    # When the database is back Then health is healthy again
    server.default = (200, _status())
    await entry.runtime_data.coordinator.async_refresh()
    await hass.async_block_till_done()
    assert hass.states.get("sensor.homesec_system_health").state == "healthy"
    await hass.config_entries.async_unload(entry.entry_id)


async def test_database_down_at_startup_sets_up_from_health(
    hass: HomeAssistant, flaky: Callable[..., Any]
) -> None:
    # Given an engine whose database is down when HA starts (/health still answers)
    health = copy.deepcopy(_status()["health"]) | {"status": "degraded", "database": "down"}

    server, port = await flaky([DB_DOWN, (200, health)], DB_DOWN)
    entry = MockConfigEntry(
        domain=DOMAIN,
        title="HomeSec",
        data={"host": "127.0.0.1", "port": port, "api_key": API_KEY, "ssl": False,
              "verify_ssl": True},
        unique_id="x",
    )
    entry.add_to_hass(hass)
    # When the entry is set up
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    # Then it loads, shows the degraded engine, and counters are unknown rather than 0
    assert entry.state is ConfigEntryState.LOADED
    assert hass.states.get("sensor.homesec_system_health").state == "degraded"
    assert hass.states.get("sensor.homesec_alerts_today").state == "unknown"
    # When the database is back Then the cameras appear
    server.default = (200, _status())
    await entry.runtime_data.coordinator.async_refresh()
    await hass.async_block_till_done()
    assert hass.states.get("sensor.front_door_risk_level").state == "high"
    assert hass.states.get("sensor.homesec_alerts_today").state == "2"
    await hass.config_entries.async_unload(entry.entry_id)
