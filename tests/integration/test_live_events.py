"""Alerts while it happens, end to end: a real RTSP stream of real footage (people walk into an
empty plaza), the real engine detecting on live frames, and real HA core with the integration
and automations on the camera's device triggers."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from homeassistant.const import STATE_OFF, STATE_ON
from homeassistant.core import HomeAssistant
from homeassistant.setup import async_setup_component
from pytest_homeassistant_custom_component.common import MockConfigEntry, async_capture_events

from tests.e2e.ha_harness import DOMAIN, engine_for_ha, homesec_entry, wait_for, wait_ws_connected
from tests.engine_harness import RunningEngine
from tests.livestream import PersonStream, person_stream
from tests.videotools import RtspTestServer

from .conftest import find_device

NOTIFIED, ENDED = "homesec_test_notified", "homesec_test_ended"


@pytest.fixture(scope="module")
def plaza(tmp_path_factory: pytest.TempPathFactory) -> PersonStream:
    return person_stream(tmp_path_factory.mktemp("plaza"))


@pytest.fixture
def server(plaza: PersonStream) -> RtspTestServer:
    return RtspTestServer(plaza.path)


@pytest.fixture
async def engine(tmp_path: Path, server: RtspTestServer) -> AsyncIterator[RunningEngine]:
    server.start()
    cameras = [{"name": "plaza", "enabled": True, "source_backend": "rtsp",
                "source_config": {"url": server.url, "pre_roll_s": 1, "post_roll_s": 2,
                                  "min_motion_s": 0.3, "live_fps": 5}}]
    try:
        async with engine_for_ha(tmp_path, cameras=cameras, run_sources=True) as eng:
            yield eng
    finally:
        server.stop()


@pytest.fixture
async def entry(hass: HomeAssistant, engine: RunningEngine) -> AsyncIterator[MockConfigEntry]:
    async with homesec_entry(hass, engine, options={"motion_reset_s": 30}) as loaded:
        await wait_ws_connected(hass, loaded)
        yield loaded


async def _automations(hass: HomeAssistant, device_id: str) -> None:
    """The docs' example: a picture on `event_started`, the clip link on `event_ended`."""
    def trigger(kind: str) -> dict[str, Any]:
        return {"trigger": "device", "domain": DOMAIN, "device_id": device_id, "type": kind}

    assert await async_setup_component(hass, "automation", {"automation": [
        {"alias": "phone picture", "triggers": [trigger("event_started")],
         "actions": [{"event": NOTIFIED, "event_data": {
             "clip_id": "{{ trigger.clip_id }}", "image": "{{ trigger.snapshot_url }}",
             "detected_objects": "{{ trigger.detected_objects | join(',') }}"}}]},
        {"alias": "clip link", "triggers": [trigger("event_ended")],
         "actions": [{"event": ENDED, "event_data": {
             "clip_id": "{{ trigger.clip_id }}", "summary": "{{ trigger.summary }}",
             "clip_url": "{{ trigger.clip_url }}", "end_reason": "{{ trigger.end_reason }}"}}]},
    ]})
    await hass.async_block_till_done()


def _state(hass: HomeAssistant, entity_id: str) -> str | None:
    state = hass.states.get(entity_id)
    return None if state is None else state.state


async def test_person_sensor_follows_the_event_and_one_notification_is_sent(
    hass: HomeAssistant, entry: MockConfigEntry, engine: RunningEngine
) -> None:
    # Given automations on the plaza camera's event triggers, and nobody in the plaza
    device = find_device(hass, entry.entry_id, f"{entry.entry_id}_plaza")
    assert device is not None
    await _automations(hass, device.id)
    notified, ended = async_capture_events(hass, NOTIFIED), async_capture_events(hass, ENDED)
    fired = async_capture_events(hass, "state_changed")
    assert _state(hass, "binary_sensor.plaza_person") == STATE_OFF
    # When people walk into the plaza
    # Then the person sensor turns on while they are there (the bench measures how fast)
    await wait_for(hass, lambda: _state(hass, "binary_sensor.plaza_person") == STATE_ON,
                   timeout=60)
    assert len(notified) == 1 and "person" in notified[0].data["detected_objects"]
    image = notified[0].data["image"]
    assert "/api/homesec/media/" in image and "homesec_sig=" in image  # signed, expiring
    # And it turns off when the clip is closed and judged, well before the 30 s reset time
    await wait_for(hass, lambda: len(ended) == 1, timeout=60)
    assert _state(hass, "binary_sensor.plaza_person") == STATE_OFF
    assert _state(hass, "binary_sensor.plaza_motion") == STATE_OFF
    # And the end carries the clip's summary and link, for the same clip
    end = ended[0].data
    assert end["clip_id"] == notified[0].data["clip_id"]
    assert end["summary"] and end["summary"] != "None"
    assert "homesec_sig=" in end["clip_url"] and end["end_reason"] == "clip_closed"
    # And the camera's last alert in HA is the summary the engine built for the judged clip,
    # pushed with the end (no poll in between), exactly what the engine's /status serves
    coordinator = entry.runtime_data.coordinator
    (plaza,) = [c for c in coordinator.data["cameras"] if c["name"] == "plaza"]
    assert plaza["last_alert"] == engine.runtime.last_alerts["plaza"]
    assert plaza["last_alert"]["clip_id"] == end["clip_id"]
    assert plaza["last_alert"]["summary"] == end["summary"]
    # And the camera's event entity fired `started`, then `ended` with the summary
    kinds = [c.data["new_state"].attributes.get("event_type") for c in fired
             if c.data["entity_id"] == "event.plaza_alert" and c.data["new_state"] is not None]
    assert kinds.index("started") < kinds.index("ended")
    assert hass.states.get("event.plaza_alert").attributes["summary"] == end["summary"]
    # And exactly one alert reached HA for the event (the end sent none)
    alerts = [c for c in fired if c.data["entity_id"] == "event.plaza_alert"
              and c.data["new_state"] is not None
              and c.data["new_state"].attributes.get("event_type") not in ("started", "ended")]
    assert len(alerts) == 1


async def test_a_lost_stream_ends_the_event_in_ha(
    hass: HomeAssistant, entry: MockConfigEntry, server: RtspTestServer
) -> None:
    # Given people in the plaza and the person sensor on
    device = find_device(hass, entry.entry_id, f"{entry.entry_id}_plaza")
    assert device is not None
    await _automations(hass, device.id)
    ended = async_capture_events(hass, ENDED)
    await wait_for(hass, lambda: _state(hass, "binary_sensor.plaza_person") == STATE_ON,
                   timeout=60)
    # When the camera drops off the network
    server.stop()
    # Then the event ends as interrupted and the person sensor goes off
    await wait_for(hass, lambda: len(ended) == 1, timeout=30)
    assert ended[0].data["end_reason"] == "stream_lost"
    assert _state(hass, "binary_sensor.plaza_person") == STATE_OFF
