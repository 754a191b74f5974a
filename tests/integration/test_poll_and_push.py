"""Poll and push together: pushed messages apply at once and never postpone the poll, so the
figures only the poll carries (clips today, repairs) stay at most one scan interval old under
continuous activity; an engine restart is followed by a poll at once."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from pathlib import Path
from typing import Any

from pytest_homeassistant_custom_component.common import MockConfigEntry

from homesec_engine.records import ClipRecord, utcnow
from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers import issue_registry as ir
from homeassistant.helpers.dispatcher import async_dispatcher_connect
from tests.engine_harness import RunningEngine, running_engine

from .conftest import (
    API_KEY,
    CONF_SCAN_INTERVAL,
    DOMAIN,
    ENTRY_ID,
    alert_event,
    engine_port,
    entry_data,
    wait_for,
)


PEOPLE = {"class": "person", "count": 2, "confidence": 0.9,
          "boxes": [[0.1, 0.1, 0.1, 0.3], [0.5, 0.1, 0.1, 0.3]]}


def _state(hass: HomeAssistant, entity_id: str) -> str:
    return hass.states.get(entity_id).state


def _health_signals(hass: HomeAssistant, entry: MockConfigEntry) -> list[str]:
    received: list[str] = []

    @callback
    def _on_health(camera: str) -> None:
        received.append(camera)

    entry.async_on_unload(async_dispatcher_connect(
        hass, entry.runtime_data.coordinator.signal_camera_health, _on_health))
    return received


async def test_pushes_more_often_than_the_poll_do_not_freeze_the_polled_counters(
    hass: HomeAssistant, engine: RunningEngine, loaded_entry: MockConfigEntry,
) -> None:
    # Given HA shows no clips today, polling every second (30 s in use: the ratio matters)
    coordinator = loaded_entry.runtime_data.coordinator
    coordinator.update_interval = timedelta(seconds=1)
    await coordinator.async_refresh()
    assert _state(hass, "sensor.homesec_clips_today") == "0"
    received = _health_signals(hass, loaded_entry)
    # When the engine stores two clips and pushes camera health every 0.25 s, four times
    # the scan interval long
    for clip_id in ("clip-a", "clip-b"):
        await engine.runtime.repository.upsert_clip(
            ClipRecord(id=clip_id, camera="front_door", created_at=utcnow()))
    for beat in range(16):
        engine.runtime.events.publish("camera_health", {
            "camera": "front_door", "healthy": True, "last_heartbeat": utcnow().isoformat()})
        await wait_for(lambda n=beat: len(received) > n)
        await asyncio.sleep(0.25)
        if _state(hass, "sensor.homesec_clips_today") == "2":
            break
    # Then the poll ran anyway, within the pushes: clips today shows the engine's two clips
    assert _state(hass, "sensor.homesec_clips_today") == "2"


async def test_a_poll_in_flight_does_not_undo_a_pushed_alert(
    hass: HomeAssistant, engine: RunningEngine, loaded_entry: MockConfigEntry,
) -> None:
    # Given a poll that was answered before the alert happened
    coordinator = loaded_entry.runtime_data.coordinator
    client = coordinator.client
    answered = await client.get_status(attempts=1)

    async def _stale_status(**_: Any) -> Any:
        # The engine's answer left before the alert below was pushed
        coordinator.async_handle_message({"type": "alert", "data": alert_event(  # type: ignore[typeddict-item]
            activity_type="delivery", objects=[PEOPLE])})
        return answered

    client.get_status = _stale_status  # type: ignore[method-assign]
    # When the alert is pushed while that poll is in flight
    await coordinator.async_refresh()
    await hass.async_block_till_done()
    # Then the pushed alert stays shown: its two people are still counted
    assert _state(hass, "sensor.front_door_person_count") == "2"


async def test_the_restart_repair_clears_as_soon_as_the_engine_is_back(
    hass: HomeAssistant, tmp_path: Path, database_url: str, cameras: list[dict[str, Any]],
) -> None:
    issue_id = f"restart_required_{ENTRY_ID}"
    async with running_engine(tmp_path / "first", cameras=cameras, api_key=API_KEY,
                              database_url=database_url) as first:
        # Given the engine waits for a restart and HA shows the repair
        first.leave_a_restart_pending()
        port = engine_port(first)
        entry = MockConfigEntry(domain=DOMAIN, title="HomeSec", entry_id=ENTRY_ID,
                                data=entry_data(first), options={CONF_SCAN_INTERVAL: 30})
        entry.add_to_hass(hass)
        assert await hass.config_entries.async_setup(entry.entry_id)
        await hass.async_block_till_done()
        coordinator = entry.runtime_data.coordinator
        assert ir.async_get(hass).async_get_issue(DOMAIN, issue_id) is not None
        await wait_for(lambda: coordinator.ws_connected)
    # When the engine restarts: it stops (the event stream drops) and starts again on its port
    await wait_for(lambda: not coordinator.ws_connected)
    async with running_engine(tmp_path / "second", cameras=cameras, api_key=API_KEY,
                              database_url=database_url, port=port):
        try:
            # Then, well within one 30 s scan interval, the stream is back and a poll clears it
            await wait_for(
                lambda: ir.async_get(hass).async_get_issue(DOMAIN, issue_id) is None, 20.0)
            assert coordinator.ws_connected
        finally:
            await hass.config_entries.async_unload(entry.entry_id)
            await hass.async_block_till_done()
