"""Event stream and polling edges a healthy engine does not produce on demand.

A WebSocket refused while polls work, a stream that comes back after a failed handshake,
junk frames on the stream, odd error bodies from proxies, a /status of the wrong shape and
an engine whose database and /health are both down at start-up. The counterpart is the
scripted engine (tests/integration/scripted_engine.py): a real aiohttp server on loopback
that speaks the engine's protocol.
"""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator
from typing import Any

import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.homesec.const import DOMAIN
from homeassistant.config_entries import SOURCE_REAUTH, ConfigEntryState
from homeassistant.const import STATE_OFF, STATE_ON, STATE_UNAVAILABLE
from homeassistant.core import HomeAssistant

from .conftest import API_KEY, alert_event, wait_for
from .scripted_engine import ScriptedEngine, scripted_engine, status_body

DB_DOWN = (503, {"detail": "database unavailable", "error_code": "DB_UNAVAILABLE"})


@pytest.fixture
async def scripted() -> AsyncIterator[ScriptedEngine]:
    async with scripted_engine() as engine:
        yield engine


def _entry(hass: HomeAssistant, engine: ScriptedEngine) -> MockConfigEntry:
    entry = MockConfigEntry(
        domain=DOMAIN,
        title="HomeSec",
        data={"host": engine.host, "port": engine.port, "api_key": API_KEY, "ssl": False,
              "verify_ssl": True},
        unique_id=f"{engine.host}:{engine.port}",
    )
    entry.add_to_hass(hass)
    return entry


async def _set_up(hass: HomeAssistant, entry: MockConfigEntry) -> None:
    await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()


async def _unload(hass: HomeAssistant, entry: MockConfigEntry) -> None:
    if entry.state is ConfigEntryState.LOADED:
        await hass.config_entries.async_unload(entry.entry_id)
        await hass.async_block_till_done()


def _state(hass: HomeAssistant, entity_id: str) -> str:
    return hass.states.get(entity_id).state


async def test_event_stream_refusing_the_key_asks_for_reauth(
    hass: HomeAssistant, scripted: ScriptedEngine, caplog: pytest.LogCaptureFixture
) -> None:
    # Given an engine whose polls work but whose event stream refuses the key (401)
    scripted.ws_refuse_always = 401
    entry = _entry(hass, scripted)
    # When the entry is set up
    await _set_up(hass, entry)
    await wait_for(lambda: bool(hass.config_entries.flow.async_progress_by_handler(DOMAIN)))
    # Then the entities load, and HA asks the user for a new key (a reauth flow)
    assert entry.state is ConfigEntryState.LOADED
    assert _state(hass, "sensor.homesec_system_health") == "healthy"
    flows = hass.config_entries.flow.async_progress_by_handler(DOMAIN)
    assert [f["context"]["source"] for f in flows] == [SOURCE_REAUTH]
    assert "refused the API key on the event stream" in caplog.text
    # And the stream is not retried with a key known to be wrong
    attempts = scripted.ws_attempts
    await hass.async_block_till_done()
    assert scripted.ws_attempts == attempts == 1
    assert entry.runtime_data.coordinator.ws_connected is False
    await _unload(hass, entry)


async def test_event_stream_comes_back_after_a_failed_handshake(
    hass: HomeAssistant, scripted: ScriptedEngine, caplog: pytest.LogCaptureFixture
) -> None:
    # Given an engine behind a proxy that answers the first WebSocket handshake with 502
    scripted.ws_refusals = [502]
    entry = _entry(hass, scripted)
    caplog.set_level(logging.INFO, logger="custom_components.homesec")
    # When the entry is set up
    await _set_up(hass, entry)
    coordinator = entry.runtime_data.coordinator
    # Then the stream connects on the next try, and both the outage and the recovery are
    # logged once
    await wait_for(lambda: coordinator.ws_connected)
    assert scripted.ws_attempts == 2
    assert "event stream is unavailable" in caplog.text
    assert "event stream is connected again" in caplog.text
    # And the 502 did not count against polls (the engine answered)
    assert entry.runtime_data.client.breaker.state == "closed"
    # And alerts flow over it
    await scripted.send({"type": "alert", "data": alert_event(clip_id="clip-back")})
    await wait_for(lambda: _state(hass, "binary_sensor.front_door_motion") == STATE_ON)
    await _unload(hass, entry)


async def test_junk_on_the_event_stream_is_skipped(
    hass: HomeAssistant, scripted: ScriptedEngine
) -> None:
    # Given a stream that first carries a binary frame, text that is not JSON, a message
    # of an unknown type, an alert without its fields and a camera_health without "healthy"
    scripted.ws_frames = [
        b"\x00\x01binary",
        "not json {",
        json.dumps({"type": "mystery", "data": {}}),
        json.dumps({"type": "alert", "data": {"camera": "front_door"}}),
        json.dumps({"type": "camera_health", "data": {"camera": "front_door"}}),
        json.dumps({"type": "camera_health",
                    "data": {"camera": "no_such_camera", "healthy": False,
                             "last_heartbeat": None}}),
    ]
    entry = _entry(hass, scripted)
    await _set_up(hass, entry)
    coordinator = entry.runtime_data.coordinator
    await wait_for(lambda: coordinator.ws_connected)
    # When a valid alert follows on the same connection, with the engine's figures after it
    await scripted.send({"type": "alert", "data": alert_event(clip_id="clip-after-junk"),
                         "stats": {"alerts_today": 1, "cameras_online": 1}})
    await wait_for(lambda: _state(hass, "binary_sensor.front_door_motion") == STATE_ON)
    # Then it applies; the junk changed nothing and did not drop the connection
    assert scripted.ws_attempts == 1
    assert _state(hass, "binary_sensor.front_door_online") == STATE_ON
    assert _state(hass, "sensor.homesec_alerts_today") == "1"
    assert _state(hass, "sensor.homesec_cameras_online") == "1"
    await _unload(hass, entry)


async def test_an_alert_of_a_newer_engine_shows_as_other(
    hass: HomeAssistant, scripted: ScriptedEngine
) -> None:
    entry = _entry(hass, scripted)
    await _set_up(hass, entry)
    coordinator = entry.runtime_data.coordinator
    await wait_for(lambda: coordinator.ws_connected)
    # When an engine newer than this integration sends an activity type it does not know
    await scripted.send({"type": "alert",
                         "data": alert_event(clip_id="clip-new-type", activity_type="drone")})
    await wait_for(lambda: _state(hass, "binary_sensor.front_door_motion") == STATE_ON)
    # Then the last-activity sensor says "other" instead of failing
    assert _state(hass, "sensor.front_door_last_activity") == "other"
    await _unload(hass, entry)


@pytest.mark.parametrize(
    ("reply", "words"),
    [
        # A proxy's HTML error page, not JSON
        ((502, "<html><body>Bad Gateway</body></html>"), "502"),
        # JSON, but not an object
        ((500, ["unexpected"]), "500"),
    ],
    ids=["html-502", "json-list-500"],
)
async def test_odd_error_bodies_make_entities_unavailable(
    hass: HomeAssistant, scripted: ScriptedEngine, reply: tuple[int, Any], words: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    entry = _entry(hass, scripted)
    await _set_up(hass, entry)
    assert _state(hass, "sensor.homesec_system_health") == "healthy"
    # When a poll gets a server error whose body is not the engine's JSON error
    scripted.answer("GET /api/v1/status", default=reply)
    await entry.runtime_data.coordinator.async_refresh()
    await hass.async_block_till_done()
    # Then the entities go unavailable and the log names the status the engine answered
    assert _state(hass, "sensor.homesec_system_health") == STATE_UNAVAILABLE
    assert f"answered {words}" in caplog.text
    # When the engine answers normally again Then they are back
    scripted.answer("GET /api/v1/status", default=(200, status_body()))
    await entry.runtime_data.coordinator.async_refresh()
    await hass.async_block_till_done()
    assert _state(hass, "sensor.homesec_system_health") == "healthy"
    await _unload(hass, entry)


async def test_an_unexpected_answer_to_a_poll_is_reported(
    hass: HomeAssistant, scripted: ScriptedEngine, caplog: pytest.LogCaptureFixture
) -> None:
    entry = _entry(hass, scripted)
    await _set_up(hass, entry)
    # When a proxy in front of the engine rate-limits a poll (429, an answer the engine
    # itself never gives)
    scripted.answer("GET /api/v1/status",
                    (429, {"detail": "slow down", "error_code": "RATE_LIMITED"}))
    await entry.runtime_data.coordinator.async_refresh()
    await hass.async_block_till_done()
    # Then the entities are unavailable for that poll and the log carries the reason
    assert _state(hass, "switch.front_door_enabled") == STATE_UNAVAILABLE
    assert "answered 429: slow down" in caplog.text
    await _unload(hass, entry)


async def test_a_status_of_the_wrong_shape_does_not_load_the_entry(
    hass: HomeAssistant, scripted: ScriptedEngine
) -> None:
    # Given something on the engine's port whose /status lacks the promised fields
    body = status_body()
    del body["stats"]
    body["cameras"][0]["healthy"] = "yes"
    scripted.answer("GET /api/v1/status", default=(200, body))
    entry = _entry(hass, scripted)
    # When the entry is set up
    await _set_up(hass, entry)
    # Then HA keeps retrying rather than showing made-up values, and says why
    assert entry.state is ConfigEntryState.SETUP_RETRY
    assert "unexpected Status" in str(entry.reason)
    assert hass.states.get("sensor.homesec_system_health") is None


async def test_database_and_health_down_at_startup_retries_setup(
    hass: HomeAssistant, scripted: ScriptedEngine
) -> None:
    # Given an engine whose database is down and whose /health fails as well
    scripted.answer("GET /api/v1/status", default=DB_DOWN)
    scripted.answer("GET /api/v1/health", default=(502, "<html>Bad Gateway</html>"))
    entry = _entry(hass, scripted)
    # When the entry is set up
    await _set_up(hass, entry)
    # Then HA retries later instead of loading an engine it knows nothing about
    assert entry.state is ConfigEntryState.SETUP_RETRY
    assert "GET /api/v1/health" in scripted.requests
    # When the database is back and HA retries
    scripted.answer("GET /api/v1/status", default=(200, status_body()))
    await hass.config_entries.async_reload(entry.entry_id)
    await hass.async_block_till_done()
    # Then it loads with the engine's cameras
    assert entry.state is ConfigEntryState.LOADED
    assert _state(hass, "switch.front_door_enabled") == STATE_ON
    assert _state(hass, "binary_sensor.front_door_motion") == STATE_OFF
    await _unload(hass, entry)
