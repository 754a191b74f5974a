"""Device triggers for camera alerts, run by real automations, fed by the real engine."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import numpy as np
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
from homesec_engine.live.watch import Found
from homesec_engine.records import Detection
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


async def test_activity_triggers_filter_by_tier(
    hass: HomeAssistant, engine: RunningEngine, entry: MockConfigEntry
) -> None:
    # Given two automations on front_door's "activity started": one for alerts, one for
    # detections (recorded, not notified), and the tier offered by the automation editor
    device_id = _device_id(hass, entry, f"{entry.entry_id}_front_door")
    started = {"trigger": "device", "domain": DOMAIN, "device_id": device_id,
               "type": "event_started"}
    caps = await async_get_device_automation_capabilities(
        hass, DeviceAutomationType.TRIGGER, started)
    tier_field = next(f for f in caps["extra_fields"] if f["name"] == "tier")
    assert [tuple(o) for o in tier_field["options"]] == [("alert", "alert"),
                                                          ("detection", "detection")]
    assert await async_setup_component(hass, "automation", {"automation": [
        {"alias": f"homesec {tier}", "triggers": [{**started, "tier": tier}],
         "actions": [{"event": RAN, "event_data": {
             "automation": tier, "clip_id": "{{ trigger.clip_id }}",
             "tier": "{{ trigger.tier }}",
             "classes": "{{ trigger.detected_objects | join(',') }}"}}]}
        for tier in ("alert", "detection")]})
    await hass.async_block_till_done()
    ran = async_capture_events(hass, RAN)
    changes = async_capture_events(hass, "state_changed")
    # When the engine's event owner confirms a fox on one recording and a person on another
    # (the default policy: a person alerts, an animal is a detection)
    frame = np.zeros((120, 160, 3), dtype=np.uint8)
    events = engine.runtime.live
    assert events is not None
    for clip_id, label in (("fox-clip", "animal"), ("person-clip", "person")):
        events.found("front_door", Found(
            clip_id=clip_id, classes=[label], active=[label], zones=[],
            objects=[{"class": label, "count": 1, "confidence": 0.9, "boxes": []}],
            detections=[Detection(label, 0.9, 0, (0.4, 0.3, 0.2, 0.5))], rgb=frame))
    await wait_for(hass, lambda: len(ran) >= 2, timeout=20)
    await hass.async_block_till_done()
    # Then each automation ran once, for the event of its tier, with the tier and classes
    got = sorted((e.data["automation"], e.data["clip_id"], e.data["tier"], e.data["classes"])
                 for e in ran)
    assert got == [("alert", "person-clip", "alert", "person"),
                   ("detection", "fox-clip", "detection", "animal")]
    # And the camera's event entity showed each start with its tier
    shown = [(c.data["new_state"].attributes.get("clip_id"),
              c.data["new_state"].attributes.get("tier")) for c in changes
             if c.data["entity_id"] == "event.front_door_alert"
             and c.data["new_state"] is not None
             and c.data["new_state"].attributes.get("event_type") == "started"]
    assert sorted(shown) == [("fox-clip", "detection"), ("person-clip", "alert")]
