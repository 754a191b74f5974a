"""Live alerts and camera health: the engine's WebSocket is the one push path (the HA bus
event is for automations, not read back); pushed and polled alerts are deduped; the figures are
the engine's own."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from freezegun.api import FrozenDateTimeFactory
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    async_capture_events,
    async_fire_time_changed,
)

from custom_components.homesec.const import EVENT_ALERT
from homesec_engine.records import ClipRecord, utcnow
from homeassistant.const import EVENT_STATE_CHANGED, STATE_OFF, STATE_ON
from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers.dispatcher import async_dispatcher_connect
from tests.engine_harness import RunningEngine

from .conftest import alert_event, seed_last_alert, stop_polling, wait_for


def _state(hass: HomeAssistant, entity_id: str) -> str:
    return hass.states.get(entity_id).state


def _push(entry: MockConfigEntry, data: dict[str, Any], kind: str = "alert",
          stats: dict[str, Any] | None = None) -> None:
    """A WebSocket message as the engine sends it, applied by the coordinator."""
    message: dict[str, Any] = {"type": kind, "data": data}
    if stats is not None:
        message["stats"] = stats
    entry.runtime_data.coordinator.async_handle_message(message)  # type: ignore[arg-type]


def _alert_signals(hass: HomeAssistant, entry: MockConfigEntry) -> list[tuple[str, dict[str, Any]]]:
    received: list[tuple[str, dict[str, Any]]] = []

    @callback
    def _on_alert(camera: str, alert: dict[str, Any]) -> None:
        received.append((camera, alert))

    entry.async_on_unload(
        async_dispatcher_connect(hass, entry.runtime_data.coordinator.signal_alert, _on_alert)
    )
    return received


async def test_pushed_alert_turns_motion_on_then_off(
    hass: HomeAssistant, loaded_entry: MockConfigEntry, freezer: FrozenDateTimeFactory
) -> None:
    # Given no motion at the front door
    stop_polling(loaded_entry)
    assert _state(hass, "binary_sensor.front_door_motion") == STATE_OFF
    # When the engine pushes an alert, with its alert count after it
    _push(loaded_entry, alert_event(activity_type="delivery", risk_level="low"),
          stats={"alerts_today": 1, "cameras_online": 0})
    await hass.async_block_till_done()
    # Then motion and person are on at once, and the camera's sensors and event show it
    assert _state(hass, "binary_sensor.front_door_motion") == STATE_ON
    assert _state(hass, "binary_sensor.front_door_person") == STATE_ON
    assert _state(hass, "binary_sensor.garage_motion") == STATE_OFF
    assert _state(hass, "sensor.front_door_last_activity") == "delivery"
    assert _state(hass, "sensor.front_door_risk_level") == "low"
    assert _state(hass, "sensor.homesec_alerts_today") == "1"
    event = hass.states.get("event.front_door_alert")
    assert event.attributes["event_type"] == "delivery"
    assert event.attributes["clip_id"] == "clip-live-1"
    assert event.attributes["risk_level"] == "low"
    assert "snapshot_url" in event.attributes and "clip_url" in event.attributes
    # When less than the reset time (30 s) passes Then motion is still on
    freezer.tick(timedelta(seconds=20))
    async_fire_time_changed(hass)
    await hass.async_block_till_done()
    assert _state(hass, "binary_sensor.front_door_motion") == STATE_ON
    # When the reset time has passed Then motion and person are off again
    freezer.tick(timedelta(seconds=11))
    async_fire_time_changed(hass)
    await hass.async_block_till_done()
    assert _state(hass, "binary_sensor.front_door_motion") == STATE_OFF
    assert _state(hass, "binary_sensor.front_door_person") == STATE_OFF


async def test_alert_without_person_leaves_person_off(
    hass: HomeAssistant, loaded_entry: MockConfigEntry
) -> None:
    # When a vehicle alert arrives
    _push(loaded_entry, alert_event(activity_type="vehicle", detected_objects=["vehicle"]))
    await hass.async_block_till_done()
    # Then motion is on but person is not
    assert _state(hass, "binary_sensor.front_door_motion") == STATE_ON
    assert _state(hass, "binary_sensor.front_door_person") == STATE_OFF


async def test_websocket_alert_applies_without_a_poll(
    hass: HomeAssistant, loaded_entry: MockConfigEntry, engine: RunningEngine
) -> None:
    coordinator = loaded_entry.runtime_data.coordinator
    client = loaded_entry.runtime_data.client
    await wait_for(lambda: coordinator.ws_connected)
    requests_before = client.request_count
    # When the engine publishes an alert on its WebSocket
    engine.runtime.events.publish("alert", alert_event(activity_type="animal"))
    await wait_for(lambda: _state(hass, "binary_sensor.front_door_motion") == STATE_ON)
    # Then the entities show it without HA asking the engine for anything
    assert _state(hass, "sensor.front_door_last_activity") == "animal"
    assert hass.states.get("event.front_door_alert").attributes["event_type"] == "animal"
    assert client.request_count == requests_before


async def test_same_alert_pushed_and_polled_is_applied_once(
    hass: HomeAssistant, loaded_entry: MockConfigEntry, engine: RunningEngine
) -> None:
    coordinator = loaded_entry.runtime_data.coordinator
    await wait_for(lambda: coordinator.ws_connected)
    signals = _alert_signals(hass, loaded_entry)
    event_changes = async_capture_events(hass, EVENT_STATE_CHANGED)
    payload = alert_event(clip_id="clip-twice")
    # When the clip arrives on the WebSocket and the next poll shows it too
    engine.runtime.events.publish("alert", payload)
    await wait_for(lambda: len(signals) == 1)
    seed_last_alert(engine, clip_id="clip-twice")
    await coordinator.async_refresh()
    await hass.async_block_till_done()
    # And a different clip right after
    engine.runtime.events.publish("alert", alert_event(clip_id="clip-other"))
    await wait_for(lambda: len(signals) == 2)
    # Then each clip counted once: two events fired, two signals
    assert [camera for camera, _ in signals] == ["front_door", "front_door"]
    fired = [
        e for e in event_changes
        if e.data["entity_id"] == "event.front_door_alert"
        and e.data["new_state"].attributes.get("clip_id") is not None
    ]
    assert [e.data["new_state"].attributes["clip_id"] for e in fired] == [
        "clip-twice",
        "clip-other",
    ]


async def test_malformed_alert_is_ignored(
    hass: HomeAssistant, loaded_entry: MockConfigEntry
) -> None:
    # When the engine's stream carries an alert without the required fields
    _push(loaded_entry, {"camera": "front_door"})
    await hass.async_block_till_done()
    # Then nothing changes
    assert _state(hass, "binary_sensor.front_door_motion") == STATE_OFF
    assert _state(hass, "sensor.homesec_alerts_today") == "0"


async def test_alert_first_seen_by_a_poll_still_fires(
    hass: HomeAssistant, loaded_entry: MockConfigEntry, engine: RunningEngine
) -> None:
    signals = _alert_signals(hass, loaded_entry)
    # Given an alert that reached neither push path (only the engine's data has it)
    seed_last_alert(engine, clip_id="clip-polled", activity_type="loitering")
    # When the next poll runs
    await loaded_entry.runtime_data.coordinator.async_refresh()
    await hass.async_block_till_done()
    # Then it is announced once, like a pushed alert
    assert [alert["clip_id"] for _, alert in signals] == ["clip-polled"]
    assert hass.states.get("event.front_door_alert").attributes["event_type"] == "loitering"
    assert _state(hass, "binary_sensor.front_door_motion") == STATE_ON
    # When it arrives late on the WebSocket too Then it is not announced again
    _push(loaded_entry, alert_event(clip_id="clip-polled"))
    await loaded_entry.runtime_data.coordinator.async_refresh()
    await hass.async_block_till_done()
    assert len(signals) == 1


async def test_camera_health_is_live(
    hass: HomeAssistant, loaded_entry: MockConfigEntry, engine: RunningEngine
) -> None:
    coordinator = loaded_entry.runtime_data.coordinator
    await wait_for(lambda: coordinator.ws_connected)
    assert _state(hass, "binary_sensor.front_door_online") == STATE_OFF
    # When the camera's source reports it streams
    await engine.runtime._on_health("front_door", True)
    await wait_for(lambda: _state(hass, "binary_sensor.front_door_online") == STATE_ON)
    # Then its health and the hub's camera count follow at once
    assert _state(hass, "sensor.front_door_health") == "online"
    assert _state(hass, "sensor.homesec_cameras_online") == "1"
    # When it loses the stream Then it is offline again
    await engine.runtime._on_health("front_door", False)
    await wait_for(lambda: _state(hass, "sensor.front_door_health") == "offline")
    assert _state(hass, "binary_sensor.front_door_online") == STATE_OFF


async def test_alert_for_a_new_camera_fetches_it(
    hass: HomeAssistant, loaded_entry: MockConfigEntry, engine: RunningEngine
) -> None:
    # Given a camera added in the engine after the last poll
    await engine.runtime.config_manager.add_camera(
        {"name": "yard", "source_backend": "demo",
         "source_config": {"interval_s": 3600, "subject": "animal"}}
    )
    # When an alert for it arrives
    engine.runtime.events.publish("alert", alert_event(camera="yard", clip_id="clip-yard"))
    # Then HA fetches the engine's status at once and the camera's entities appear
    await wait_for(lambda: hass.states.get("switch.yard_enabled") is not None)


async def test_event_stream_reconnects_after_the_engine_drops_it(
    hass: HomeAssistant, loaded_entry: MockConfigEntry, engine: RunningEngine
) -> None:
    from homesec_engine.api.context import CONTEXT_KEY

    coordinator = loaded_entry.runtime_data.coordinator
    sockets = engine.app[CONTEXT_KEY].sockets
    await wait_for(lambda: coordinator.ws_connected and len(sockets) == 1)
    first = next(iter(sockets))
    # When the engine closes the WebSocket (e.g. it restarts its API)
    await first.close()
    # Then the integration connects again on its own
    await wait_for(lambda: len(sockets) == 1 and first not in sockets)
    await wait_for(lambda: coordinator.ws_connected)
    # And alerts flow over the new connection
    engine.runtime.events.publish("alert", alert_event(clip_id="clip-after-reconnect"))
    await wait_for(lambda: _state(hass, "binary_sensor.front_door_motion") == STATE_ON)


async def test_the_bus_event_is_for_automations_and_not_read_back(
    hass: HomeAssistant, loaded_entry: MockConfigEntry
) -> None:
    # When a homesec_alert event appears on HA's bus (the engine's notifier posts it)
    hass.bus.async_fire(EVENT_ALERT, alert_event(clip_id="clip-bus"))
    await hass.async_block_till_done()
    # Then the integration does not apply it: only the engine's WebSocket drives entities
    assert _state(hass, "binary_sensor.front_door_motion") == STATE_OFF
    assert _state(hass, "sensor.homesec_alerts_today") == "0"


async def test_the_engine_figures_come_with_the_pushed_alert(
    hass: HomeAssistant, loaded_entry: MockConfigEntry, engine: RunningEngine
) -> None:
    coordinator = loaded_entry.runtime_data.coordinator
    await wait_for(lambda: coordinator.ws_connected)
    # Given one alerted clip in the engine's database today
    await engine.runtime.repository.upsert_clip(ClipRecord(
        id="clip-counted", camera="front_door", created_at=utcnow(), alerted=True))
    # When the engine pushes its alert
    engine.runtime.events.publish("alert", alert_event(clip_id="clip-counted"))
    await wait_for(lambda: _state(hass, "sensor.homesec_alerts_today") == "1")
    # And pushes another alert that its database does not count (no clip stored)
    engine.runtime.events.publish("alert", alert_event(clip_id="clip-uncounted"))
    await wait_for(lambda: _state(hass, "event.front_door_alert") != "unknown"
                   and hass.states.get("event.front_door_alert").attributes["clip_id"]
                   == "clip-uncounted")
    # Then HA shows the engine's count, not one it added up itself
    assert _state(hass, "sensor.homesec_alerts_today") == "1"
