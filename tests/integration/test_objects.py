"""Per-object results and zones in Home Assistant: class binary sensors, object counts, device
triggers by class and zone, and zones set through the camera services. Real HA core, a real
engine on loopback (its real pipeline for the clip of a person)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from custom_components.homesec.compat import vol
from homeassistant.components.device_automation import DeviceAutomationType
from homeassistant.const import STATE_OFF, STATE_ON
from homeassistant.core import HomeAssistant
from homeassistant.setup import async_setup_component
from homeassistant.util import dt as dt_util
from homesec_engine.records import ClipFile
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    async_capture_events,
    async_fire_time_changed,
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
from tests.engine.pipeline.conftest import Scene
from tests.engine_harness import DEFAULT_CAMERAS, RunningEngine
from tests.videotools import write_h264

from .conftest import find_device

RAN = "homesec_test_object_trigger_ran"
PATH = {"name": "path", "points": [[0, 0.6], [1, 0.6], [1, 1], [0, 1]], "classes": []}
DRIVEWAY = {"name": "driveway", "points": [[0, 0], [1, 0], [1, 0.5], [0, 0.5]],
            "classes": ["vehicle"]}
CAMERAS = [{**DEFAULT_CAMERAS[0], "zones": [PATH, DRIVEWAY]}, DEFAULT_CAMERAS[1]]


def cars(count: int) -> dict[str, Any]:
    return {"class": "vehicle", "count": count, "confidence": 0.8,
            "boxes": [[0.1 * i, 0.1, 0.1, 0.2] for i in range(count)]}


@pytest.fixture
async def engine(tmp_path: Path) -> AsyncIterator[RunningEngine]:
    async with engine_for_ha(tmp_path, api_key="objects-key", cameras=CAMERAS) as eng:
        yield eng


@pytest.fixture
async def entry(hass: HomeAssistant, engine: RunningEngine) -> AsyncIterator[MockConfigEntry]:
    async with homesec_entry(hass, engine, options={"motion_reset_s": 30}) as loaded:
        await wait_ws_connected(hass, loaded)
        yield loaded


def state(hass: HomeAssistant, entity_id: str) -> str:
    current = hass.states.get(entity_id)
    assert current is not None, entity_id
    return current.state



def _publish_alert(engine: RunningEngine, payload: dict[str, Any]) -> None:
    """Push an alert as the pipeline does: the camera's last alert first, then the message
    (so a poll that crosses the push reads the same alert)."""
    engine.runtime.last_alerts[payload["camera"]] = {
        key: payload.get(key) for key in ("clip_id", "activity_type", "risk_level", "summary",
                                          "detected_objects", "timestamp", "view_url",
                                          "objects", "zones")}
    engine.runtime.events.publish("alert", payload)


async def test_a_real_clip_of_a_person_turns_on_person_only_and_counts_one(
    hass: HomeAssistant, engine: RunningEngine, entry: MockConfigEntry, tmp_path: Path
) -> None:
    # Given HomeSec connected to an engine whose front door has a "path" zone
    assert state(hass, "binary_sensor.front_door_person") == STATE_OFF
    # When the engine's pipeline processes a clip of a person walking along the path
    video = write_h264(tmp_path / "walk.mp4", Scene(subject=(36, 90)).frames(), fps=10)
    ended = datetime.now(UTC)
    assert engine.runtime.pipeline is not None
    out = await engine.runtime.pipeline.process(
        ClipFile("front_door", video, ended - timedelta(seconds=4), ended))
    assert out.alert is not None and out.alert.zones == ["path"]
    coordinator = entry.runtime_data.coordinator
    await wait_for(hass, lambda: coordinator.alerts_applied >= 1)
    await hass.async_block_till_done()
    # Then the person sensor is on and counts one person; vehicle and animal stay off at 0
    assert state(hass, "binary_sensor.front_door_person") == STATE_ON
    assert state(hass, "sensor.front_door_person_count") == "1"
    assert state(hass, "binary_sensor.front_door_vehicle") == STATE_OFF
    assert state(hass, "binary_sensor.front_door_animal") == STATE_OFF
    assert state(hass, "sensor.front_door_vehicle_count") == "0"


async def test_class_sensors_follow_alerts_and_reset(
    hass: HomeAssistant, engine: RunningEngine, entry: MockConfigEntry
) -> None:
    # Given no alert yet: the counts are unknown
    assert state(hass, "sensor.front_door_vehicle_count") == "unknown"
    # When an alert with two cars and a dog arrives over the engine's WebSocket
    _publish_alert(engine, alert_payload(
        "front_door", "clip-cars", activity_type="vehicle", detected_objects=["vehicle", "animal"],
        objects=[cars(2), {"class": "animal", "count": 1, "confidence": 0.7,
                           "boxes": [[0.5, 0.7, 0.1, 0.1]]}], zones=["driveway"]))
    coordinator = entry.runtime_data.coordinator
    await wait_for(hass, lambda: coordinator.alerts_applied >= 1)
    await hass.async_block_till_done()
    # Then vehicle and animal are on with their counts, person is off with none
    assert state(hass, "binary_sensor.front_door_vehicle") == STATE_ON
    assert state(hass, "binary_sensor.front_door_animal") == STATE_ON
    assert state(hass, "binary_sensor.front_door_person") == STATE_OFF
    assert state(hass, "sensor.front_door_vehicle_count") == "2"
    assert state(hass, "sensor.front_door_animal_count") == "1"
    assert state(hass, "sensor.front_door_person_count") == "0"
    # When the reset time has passed, Then the class sensors go off; counts keep the latest
    async_fire_time_changed(hass, dt_util.utcnow() + timedelta(seconds=31))
    await hass.async_block_till_done()
    assert state(hass, "binary_sensor.front_door_vehicle") == STATE_OFF
    assert state(hass, "binary_sensor.front_door_animal") == STATE_OFF
    assert state(hass, "sensor.front_door_vehicle_count") == "2"
    # When a later alert finds one car, Then the count follows it
    _publish_alert(engine, alert_payload(
        "front_door", "clip-car", activity_type="vehicle", detected_objects=["vehicle"],
        objects=[cars(1)], zones=["driveway"]))
    await wait_for(hass, lambda: coordinator.alerts_applied >= 2)
    await hass.async_block_till_done()
    assert state(hass, "sensor.front_door_vehicle_count") == "1"
    assert state(hass, "sensor.front_door_animal_count") == "0"
    assert state(hass, "binary_sensor.front_door_vehicle") == STATE_ON


async def _automation(hass: HomeAssistant, device_id: str, **filters: str) -> None:
    assert await async_setup_component(hass, "automation", {
        "automation": {
            "alias": "homesec objects",
            "triggers": [{"trigger": "device", "domain": DOMAIN, "device_id": device_id,
                          "type": "alert", **filters}],
            "actions": [{"event": RAN, "event_data": {
                "clip_id": "{{ trigger.clip_id }}",
                "zones": "{{ trigger.zones | join(',') }}",
                "count": "{{ trigger.objects | map(attribute='count') | sum }}",
            }}],
        }
    })
    await hass.async_block_till_done()


async def test_device_trigger_filters_by_class_and_zone(
    hass: HomeAssistant, engine: RunningEngine, entry: MockConfigEntry
) -> None:
    # Given the front door device, whose camera has the zones "path" and "driveway"
    device = find_device(hass, entry.entry_id, f"{entry.entry_id}_front_door")
    assert device is not None
    # When the automation editor asks for the alert trigger's filters
    triggers = await async_get_device_automations(hass, DeviceAutomationType.TRIGGER, device.id)
    ours = next(t for t in triggers if t["domain"] == DOMAIN)
    caps = await async_get_device_automation_capabilities(
        hass, DeviceAutomationType.TRIGGER, ours)
    fields = {f["name"]: f for f in caps["extra_fields"]}
    # Then it offers the detected class and the camera's own zones
    assert {tuple(o)[0] for o in fields["detected_class"]["options"]} >= {
        "person", "vehicle", "animal"}
    assert [tuple(o)[0] for o in fields["zone"]["options"]] == ["path", "driveway"]
    # Given an automation for vehicles in the driveway
    await _automation(hass, device.id, detected_class="vehicle", zone="driveway")
    ran = async_capture_events(hass, RAN)
    # When alerts arrive: a person on the path, a car on the path, a car in the driveway
    publish = engine.runtime.events.publish
    publish("alert", alert_payload("front_door", "person-path", zones=["path"], objects=[
        {"class": "person", "count": 1, "confidence": 0.9, "boxes": [[0.4, 0.5, 0.1, 0.3]]}]))
    publish("alert", alert_payload("front_door", "car-path", activity_type="vehicle",
                                   detected_objects=["vehicle"], zones=["path"],
                                   objects=[cars(1)]))
    publish("alert", alert_payload("front_door", "cars-driveway", activity_type="vehicle",
                                   detected_objects=["vehicle"], zones=["driveway"],
                                   objects=[cars(2)]))
    coordinator = entry.runtime_data.coordinator
    await wait_for(hass, lambda: coordinator.alerts_applied >= 3)
    await hass.async_block_till_done()
    # Then the automation ran once, for the cars in the driveway, and got their details
    assert [e.data["clip_id"] for e in ran] == ["cars-driveway"]
    assert ran[0].data["zones"] == "driveway" and str(ran[0].data["count"]) == "2"


async def _engine_camera(engine: RunningEngine, name: str) -> dict[str, Any]:
    async with aiohttp.ClientSession() as session:
        async with session.get(f"{engine.api}/cameras/{name}", headers=engine.headers) as resp:
            assert resp.status == 200
            body: dict[str, Any] = await resp.json()
            return body


async def test_update_camera_service_sets_zones_and_masks_in_the_engine(
    hass: HomeAssistant, engine: RunningEngine, entry: MockConfigEntry
) -> None:
    # When the user sets the garage's zones and a motion mask through the service
    door = {"name": "door", "points": [[0.3, 0.4], [0.7, 0.4], [0.7, 1], [0.3, 1]],
            "classes": ["person"]}
    tree = {"name": "tree", "points": [[0, 0], [0.3, 0], [0.3, 0.4]]}
    await hass.services.async_call(DOMAIN, "update_camera", {
        "name": "garage", "zones": [door], "motion_masks": [tree]}, blocking=True)
    # Then the engine's camera has them, its other settings unchanged
    camera = await _engine_camera(engine, "garage")
    assert [(z["name"], z["classes"]) for z in camera["zones"]] == [("door", ["person"])]
    assert [m["name"] for m in camera["motion_masks"]] == ["tree"]
    assert camera["source_config"]["subject"] == "vehicle"
    # When only the masks are changed, Then the zones stay
    await hass.services.async_call(DOMAIN, "update_camera", {
        "name": "garage", "motion_masks": []}, blocking=True)
    camera = await _engine_camera(engine, "garage")
    assert camera["motion_masks"] == [] and [z["name"] for z in camera["zones"]] == ["door"]


async def test_camera_services_refuse_a_bad_polygon_naming_the_field(
    hass: HomeAssistant, engine: RunningEngine, entry: MockConfigEntry
) -> None:
    # When a zone with two points, or a mask reaching outside the picture, is passed
    with pytest.raises(vol.Invalid) as two_points:
        await hass.services.async_call(DOMAIN, "update_camera", {
            "name": "garage", "zones": [{"name": "x", "points": [[0, 0], [1, 1]]}]},
            blocking=True)
    with pytest.raises(vol.Invalid) as outside:
        await hass.services.async_call(DOMAIN, "add_camera", {
            "name": "porch", "source_backend": "demo", "source_config": {},
            "motion_masks": [{"name": "m", "points": [[0, 0], [1.2, 0], [0, 1]]}]},
            blocking=True)
    # Then HA refuses before the engine, naming the field and the problem
    assert "zones" in str(two_points.value) and "at least 3 points" in str(two_points.value)
    assert "between 0 and 1" in str(outside.value)
    assert "motion_masks" in str(outside.value)
    # And the engine saw no change
    assert (await _engine_camera(engine, "garage"))["zones"] == []


async def test_parked_vehicles_are_counted_apart_and_raise_no_vehicle_sensor(
    hass: HomeAssistant, engine: RunningEngine, entry: MockConfigEntry
) -> None:
    # Given an alert as the engine judges a plaza clip: three people walked across, two
    # vehicles stood there all along
    _publish_alert(engine, alert_payload(
        "front_door", "clip-plaza", activity_type="person", detected_objects=["person", "vehicle"],
        objects=[{"class": "person", "count": 3, "stationary": 0, "confidence": 0.8,
                  "boxes": [[0.3, 0.4, 0.05, 0.15]]},
                 {**cars(0), "stationary": 2, "boxes": [[0.85, 0.08, 0.1, 0.1]]}]))
    coordinator = entry.runtime_data.coordinator
    # When it reaches Home Assistant
    await wait_for(hass, lambda: coordinator.alerts_applied >= 1)
    await hass.async_block_till_done()
    # Then the person sensor is on with 3 people; the vehicle sensor stays off, its count is 0
    # and says that 2 stood still
    assert state(hass, "binary_sensor.front_door_person") == STATE_ON
    assert state(hass, "sensor.front_door_person_count") == "3"
    assert state(hass, "binary_sensor.front_door_vehicle") == STATE_OFF
    assert state(hass, "sensor.front_door_vehicle_count") == "0"
    vehicles = hass.states.get("sensor.front_door_vehicle_count")
    assert vehicles is not None and vehicles.attributes["stationary"] == 2
