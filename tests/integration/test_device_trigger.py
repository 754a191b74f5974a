"""Device triggers for camera alerts, run by real automations, fed by the real engine."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from homeassistant.components.device_automation import DeviceAutomationType
from homeassistant.core import HomeAssistant
from homeassistant.helpers import device_registry as dr
from homeassistant.setup import async_setup_component
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    async_capture_events,
    async_get_device_automation_capabilities,
    async_get_device_automations,
)

from tests.e2e.ha_harness import (
    DOMAIN,
    alert_payload,
    engine_for_ha,
    homesec_entry,
    wait_for,
    wait_ws_connected,
)
from tests.engine_harness import RunningEngine

from .conftest import find_device

RAN = "homesec_test_automation_ran"


@pytest.fixture
async def engine(tmp_path: Path) -> AsyncIterator[RunningEngine]:
    async with engine_for_ha(tmp_path, api_key="trigger-key") as eng:
        yield eng


@pytest.fixture
async def entry(hass: HomeAssistant, engine: RunningEngine) -> AsyncIterator[MockConfigEntry]:
    async with homesec_entry(hass, engine) as loaded:
        await wait_ws_connected(hass, loaded)
        yield loaded


def _device_id(hass: HomeAssistant, entry: MockConfigEntry, identifier: str) -> str:
    device = find_device(hass, entry.entry_id, identifier)
    assert device is not None
    return device.id


async def _automation(hass: HomeAssistant, device_id: str, **filters: str) -> None:
    assert await async_setup_component(hass, "automation", {
        "automation": {
            "alias": "homesec alert",
            "triggers": [{
                "trigger": "device", "domain": DOMAIN, "device_id": device_id,
                "type": "alert", **filters,
            }],
            "actions": [{
                "event": RAN,
                "event_data": {
                    "camera": "{{ trigger.camera }}",
                    "clip_id": "{{ trigger.clip_id }}",
                    "activity_type": "{{ trigger.activity_type }}",
                    "snapshot_url": "{{ trigger.snapshot_url }}",
                    "clip_url": "{{ trigger.clip_url }}",
                },
            }],
        }
    })
    await hass.async_block_till_done()


async def test_camera_devices_offer_the_alert_trigger_with_filters(
    hass: HomeAssistant, entry: MockConfigEntry
) -> None:
    # Given the front_door camera device and the hub device
    camera = _device_id(hass, entry, f"{entry.entry_id}_front_door")
    hub = _device_id(hass, entry, entry.entry_id)
    # When the automation editor lists their triggers
    camera_triggers = await async_get_device_automations(
        hass, DeviceAutomationType.TRIGGER, camera
    )
    hub_triggers = await async_get_device_automations(hass, DeviceAutomationType.TRIGGER, hub)
    # Then the camera offers "alert" and the live event's start and end, the hub no HomeSec trigger
    ours = [t for t in camera_triggers if t["domain"] == DOMAIN]
    assert [t["type"] for t in ours] == ["alert", "event_started", "event_ended"]
    assert not [t for t in hub_triggers if t["domain"] == DOMAIN]
    # And the trigger offers activity type, minimum risk level and detected class as optional
    # filters (no zone: this camera has none)
    caps = await async_get_device_automation_capabilities(
        hass, DeviceAutomationType.TRIGGER, ours[0]
    )
    names = {field["name"]: field for field in caps["extra_fields"]}
    assert set(names) == {"activity_type", "min_risk_level", "detected_class"}
    assert [tuple(o) for o in names["min_risk_level"]["options"]][0] == ("low", "low")
    assert all(field["optional"] for field in names.values())


async def test_alert_runs_the_automation_once_filtered_by_activity_and_risk(
    hass: HomeAssistant, engine: RunningEngine, entry: MockConfigEntry
) -> None:
    # Given an automation on front_door alerts of people at risk high or above
    device_id = _device_id(hass, entry, f"{entry.entry_id}_front_door")
    await _automation(hass, device_id, activity_type="person", min_risk_level="high")
    ran = async_capture_events(hass, RAN)
    # When the engine publishes alerts that do not match the filters...
    publish = engine.runtime.events.publish
    publish("alert", alert_payload("front_door", "clip-animal", activity_type="animal"))
    publish("alert", alert_payload("front_door", "clip-low", risk_level="low"))
    publish("alert", alert_payload("garage", "clip-garage", risk_level="critical"))
    # ...and one that does, delivered twice over the WebSocket and once as the bus event
    # (which the integration does not read back)
    match = alert_payload("front_door", "clip-match", risk_level="critical")
    publish("alert", match)
    publish("alert", match)
    coordinator = entry.runtime_data.coordinator
    await wait_for(hass, lambda: coordinator.alerts_applied >= 4)
    hass.bus.async_fire("homesec_alert", match)
    await hass.async_block_till_done()
    # Then the automation ran exactly once, for the matching alert
    assert [e.data["clip_id"] for e in ran] == ["clip-match"]
    assert ran[0].data["camera"] == "front_door"
    assert ran[0].data["activity_type"] == "person"
    # And the trigger handed over signed links to the snapshot and the clip
    assert "/api/homesec/media/" in ran[0].data["snapshot_url"]
    assert ran[0].data["snapshot_url"].split("?")[0].endswith("/clip-match/snapshot")
    assert ran[0].data["clip_url"].split("?")[0].endswith("/clip-match/clip")
    assert "homesec_sig=" in ran[0].data["clip_url"]


async def test_an_unfiltered_trigger_runs_for_every_alert_of_its_camera(
    hass: HomeAssistant, engine: RunningEngine, entry: MockConfigEntry
) -> None:
    # Given an automation on garage alerts without filters
    await _automation(hass, _device_id(hass, entry, f"{entry.entry_id}_garage"))
    ran = async_capture_events(hass, RAN)
    # When alerts of any kind arrive
    engine.runtime.events.publish(
        "alert", alert_payload("garage", "g-1", activity_type=None, risk_level=None)
    )
    engine.runtime.events.publish("alert", alert_payload("front_door", "f-1"))
    engine.runtime.events.publish("alert", alert_payload("garage", "g-2", activity_type="other"))
    coordinator = entry.runtime_data.coordinator
    await wait_for(hass, lambda: coordinator.alerts_applied >= 3)
    # Then it ran for each garage alert, and only for those
    assert [e.data["clip_id"] for e in ran] == ["g-1", "g-2"]
