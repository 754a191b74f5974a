"""The /api/v1/events WebSocket: live messages, heartbeats, slow clients, auth."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from pathlib import Path

import aiohttp
import pytest

from homesec_engine.api.context import ApiSettings
from homesec_engine.records import AlertEvent
from homesec_engine.schema import validate
from tests.engine_harness import running_engine

from .conftest import API_KEY, Api, assert_error

# An alert as the engine builds it (with the camera's last-alert summary it makes).
ALERT = AlertEvent(
    camera="front_door", clip_id="20250101T000000-abc", activity_type="person",
    risk_level="high", summary="Someone at the door", view_url=None, storage_uri=None,
    timestamp=datetime(2025, 1, 1, tzinfo=UTC), detected_objects=["person"]).payload()


async def _next_non_heartbeat(ws: aiohttp.ClientWebSocketResponse) -> dict:
    while True:
        message = await asyncio.wait_for(ws.receive_json(), 5)
        if message["type"] != "heartbeat":
            return message


async def test_alerts_and_camera_health_are_pushed(
    tmp_path: Path, http: aiohttp.ClientSession
) -> None:
    async with running_engine(tmp_path, api_key=API_KEY) as engine:
        async with http.ws_connect(f"{engine.api}/events", headers=engine.headers) as ws:
            await asyncio.sleep(0.05)  # the subscription is made once the upgrade is done
            # When the engine publishes an alert and a health change
            engine.runtime.events.publish("alert", ALERT)
            engine.runtime.events.publish("camera_health", {
                "camera": "front_door", "healthy": True, "last_heartbeat": None})
            # Then the client receives both, in order, in the documented shape
            first = await _next_non_heartbeat(ws)
            second = await _next_non_heartbeat(ws)
        validate("WsMessage", first)
        validate("AlertEvent", first["data"])
        # And each carries the engine's figures after it (nothing stored: no alerts today;
        # the health change made front_door the one camera online)
        assert first == {"type": "alert", "data": ALERT,
                         "stats": {"alerts_today": 0, "cameras_online": 0}}
        assert second["type"] == "camera_health"
        validate("CameraHealthEvent", second["data"])
        validate("PushedStats", second["stats"])


async def test_heartbeats_keep_coming(tmp_path: Path, http: aiohttp.ClientSession) -> None:
    settings = ApiSettings(heartbeat_s=0.05, stats_cache_s=0)
    async with running_engine(tmp_path, api_settings=settings) as engine:
        async with http.ws_connect(f"{engine.api}/events") as ws:
            beats = [await asyncio.wait_for(ws.receive_json(), 5) for _ in range(3)]
    assert beats == [{"type": "heartbeat", "data": {}}] * 3


async def test_a_slow_client_loses_its_oldest_messages_and_diagnostics_count_them(
    tmp_path: Path, http: aiohttp.ClientSession
) -> None:
    settings = ApiSettings(heartbeat_s=60, ws_queue_size=5, stats_cache_s=0)
    async with running_engine(tmp_path, api_settings=settings) as engine:
        async with http.ws_connect(f"{engine.api}/events") as ws:
            await asyncio.sleep(0.05)
            ctx_sockets = list(engine.app.values())  # noqa: F841 - keep the app alive
            # Given a client whose sender cannot run while the pipeline publishes a burst
            for i in range(50):
                engine.runtime.events.publish("alert", {**ALERT, "clip_id": f"clip-{i}"})
            # Then publishing never blocked, the client gets the newest ones
            received = [await _next_non_heartbeat(ws) for _ in range(5)]
            assert received[-1]["data"]["clip_id"] == "clip-49"
            # And diagnostics show the dropped messages
            _, diag, _ = await Api(http, engine).call("GET", "/diagnostics")
            assert diag["components"]["events"]["dropped"] == 45
            assert diag["components"]["events"]["websocket_clients"] == 1
        # And the count stays after the client is gone
        await asyncio.sleep(0.1)
        _, diag, _ = await Api(http, engine).call("GET", "/diagnostics")
        assert diag["components"]["events"]["dropped"] == 45
        assert diag["components"]["events"]["websocket_clients"] == 0


async def test_the_websocket_needs_the_key(tmp_path: Path, http: aiohttp.ClientSession) -> None:
    async with running_engine(tmp_path, api_key=API_KEY) as engine:
        with pytest.raises(aiohttp.WSServerHandshakeError) as info:
            await http.ws_connect(f"{engine.api}/events")
        assert info.value.status == 401
        # And a plain GET (no upgrade) is a 400, not a crash
        status, body, _ = await Api(http, engine).call("GET", "/events")
        assert_error(status, body, 400, "VALIDATION_ERROR")
