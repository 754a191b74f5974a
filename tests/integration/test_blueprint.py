"""The notification blueprint (blueprints/automation/homesec/notify.yaml), loaded by HA core's
blueprint machinery and run by a real automation on alerts the real engine pushes.

The phone is the one stand-in: a `notify.mobile_app_test_phone` action that records what the
Companion app would receive; its action buttons are pressed by firing the
`mobile_app_notification_action` event the app sends.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest

from homeassistant.core import HomeAssistant, ServiceCall
from homeassistant.exceptions import ServiceValidationError
from homeassistant.helpers import entity_registry as er
from homeassistant.setup import async_setup_component
from pytest_homeassistant_custom_component.common import MockConfigEntry

from tests.e2e.ha_harness import DOMAIN, alert_payload, wait_for, wait_ws_connected
from tests.engine_harness import RunningEngine

BLUEPRINT = Path(__file__).parents[2] / "blueprints" / "automation" / "homesec" / "notify.yaml"
AUTOMATION = "automation.front_door_phone"


@pytest.fixture
async def entry(hass: HomeAssistant, loaded_entry: MockConfigEntry) -> MockConfigEntry:
    """The integration loaded against the real engine, its event stream connected."""
    await wait_ws_connected(hass, loaded_entry)
    return loaded_entry


@pytest.fixture
def phone(hass: HomeAssistant) -> list[dict[str, Any]]:
    """What the phone was sent, one dict per notification."""
    sent: list[dict[str, Any]] = []

    async def _notify(call: ServiceCall) -> None:
        sent.append(dict(call.data))

    hass.services.async_register("notify", "mobile_app_test_phone", _notify)
    return sent


@pytest.fixture
def config_dir(hass: HomeAssistant, tmp_path: Path) -> Path:
    """HA's config folder with the blueprint installed as the README says."""
    hass.config.config_dir = str(tmp_path / "config")
    target = tmp_path / "config" / "blueprints" / "automation" / "homesec" / "notify.yaml"
    target.parent.mkdir(parents=True)
    shutil.copy(BLUEPRINT, target)
    return target


def _event_entity(hass: HomeAssistant, entry: MockConfigEntry, camera: str) -> str:
    entity_id = er.async_get(hass).async_get_entity_id(
        "event", DOMAIN, f"{entry.entry_id}_{camera}_alert"
    )
    assert entity_id is not None
    return entity_id


async def _automation(
    hass: HomeAssistant, entry: MockConfigEntry, **inputs: Any
) -> None:
    cameras = [_event_entity(hass, entry, name) for name in ("front_door", "garage")]
    assert await async_setup_component(hass, "automation", {"automation": {
        "id": "front_door_phone",
        "alias": "Front door phone",
        "use_blueprint": {"path": "homesec/notify.yaml", "input": {
            "cameras": cameras, "notify_action": "notify.mobile_app_test_phone", **inputs,
        }},
    }})
    await hass.async_block_till_done()
    state = hass.states.get(AUTOMATION)
    assert state is not None and state.state == "on"


async def _alert(
    hass: HomeAssistant, engine: RunningEngine, entry: MockConfigEntry, camera: str,
    clip_id: str, **fields: Any,
) -> None:
    """The engine pushes an alert; wait until the integration applied it and HA settled."""
    coordinator = entry.runtime_data.coordinator
    before = coordinator.alerts_applied
    engine.runtime.events.publish("alert", alert_payload(camera, clip_id, **fields))
    await wait_for(hass, lambda: coordinator.alerts_applied > before)
    await hass.async_block_till_done()


async def _press(hass: HomeAssistant, action: str) -> None:
    hass.bus.async_fire("mobile_app_notification_action", {"action": action})
    await hass.async_block_till_done()


@pytest.mark.usefixtures("config_dir")
async def test_an_alert_notifies_the_phone_with_picture_clip_and_silence_buttons(
    hass: HomeAssistant, engine: RunningEngine, entry: MockConfigEntry,
    phone: list[dict[str, Any]],
) -> None:
    # Given the blueprint installed, with its defaults, for front_door and garage
    await _automation(hass, entry)
    # When the engine alerts on a person at the front door
    await _alert(hass, engine, entry, "front_door", "clip-porch-1",
                 summary="A courier leaves a box", zones=["porch"])
    # Then the phone gets one notification, titled by the camera, saying the summary
    assert len(phone) == 1
    note = phone[0]
    assert note["title"] == "Front door: person"
    assert note["message"] == "A courier leaves a box"
    data = note["data"]
    # with the event's picture and the clip behind a signed link that needs no HA login
    assert data["image"].split("?")[0].endswith("/clip-porch-1/snapshot")
    assert "homesec_sig=" in data["image"]
    assert data["clickAction"].split("?")[0].endswith("/clip-porch-1/clip")
    # And it offers "Open clip" and "Silence 30 min" buttons
    assert [b["title"] for b in data["actions"]] == ["Open clip", "Silence 30 min"]
    assert data["actions"][0] == {"action": "URI", "title": "Open clip",
                                  "uri": data["clickAction"]}
    assert data["actions"][1]["action"] == "HOMESEC_SILENCE_front_door"
    assert data["tag"] == "homesec-clip-porch-1"


@pytest.mark.usefixtures("config_dir")
async def test_cooldown_and_silence_button_quiet_one_camera_only(
    hass: HomeAssistant, engine: RunningEngine, entry: MockConfigEntry,
    phone: list[dict[str, Any]],
) -> None:
    # Given the blueprint with a 10-minute cooldown
    await _automation(hass, entry, cooldown=600)
    # When front_door alerts twice in a row, then the garage once
    await _alert(hass, engine, entry, "front_door", "fd-1")
    await _alert(hass, engine, entry, "front_door", "fd-2")
    await _alert(hass, engine, entry, "garage", "g-1", activity_type="vehicle",
                 detected_objects=["vehicle"])
    # Then the second front door alert fell in the cooldown; the garage still notified
    assert [n["data"]["tag"] for n in phone] == ["homesec-fd-1", "homesec-g-1"]
    # When the garage's "Silence" button is pressed on the phone
    await _press(hass, "HOMESEC_SILENCE_garage")
    response = await hass.services.async_call(
        DOMAIN, "silence_camera", {"camera": "garage", "scope": AUTOMATION},
        blocking=True, return_response=True,
    )
    # Then the garage is silenced for 30 minutes for this automation (not for everyone)
    assert response is not None and response["silenced"] is True
    everyone = await hass.services.async_call(
        DOMAIN, "silence_camera", {"camera": "garage"}, blocking=True, return_response=True,
    )
    assert everyone is not None and everyone["silenced"] is False
    # And after the cooldown is ended by hand, front door notifies again, the garage does not
    await hass.services.async_call(
        DOMAIN, "silence_camera",
        {"camera": "front_door", "scope": AUTOMATION, "duration_s": 0}, blocking=True,
    )
    await _alert(hass, engine, entry, "garage", "g-2", activity_type="vehicle",
                 detected_objects=["vehicle"])
    await _alert(hass, engine, entry, "front_door", "fd-3")
    assert [n["data"]["tag"] for n in phone] == ["homesec-fd-1", "homesec-g-1", "homesec-fd-3"]
    # And the engine still alerted on everything: only notifications were quiet
    state = hass.states.get(_event_entity(hass, entry, "garage"))
    assert state is not None and state.attributes["clip_id"] == "g-2"


@pytest.mark.usefixtures("config_dir")
async def test_class_zone_and_tier_filters(
    hass: HomeAssistant, engine: RunningEngine, entry: MockConfigEntry,
    phone: list[dict[str, Any]],
) -> None:
    # Given the blueprint for vehicles in the driveway zone, no cooldown
    await _automation(hass, entry, classes=["vehicle"], zones=["driveway"], cooldown=0)
    # When a person is in the driveway, a vehicle on the street, a vehicle in the driveway
    await _alert(hass, engine, entry, "front_door", "person-drive",
                 zones=["driveway"])
    await _alert(hass, engine, entry, "front_door", "car-street", activity_type="vehicle",
                 detected_objects=["vehicle"], zones=["street"])
    await _alert(hass, engine, entry, "front_door", "car-drive", activity_type="vehicle",
                 detected_objects=["vehicle"], zones=["street", "driveway"])
    # And a detection-tier event of a vehicle in the driveway (the blueprint wants alerts)
    await _alert(hass, engine, entry, "front_door", "car-detection", activity_type="vehicle",
                 detected_objects=["vehicle"], zones=["driveway"], tier="detection")
    # Then only the alert of a vehicle in the driveway reached the phone
    assert [n["data"]["tag"] for n in phone] == ["homesec-car-drive"]


async def test_silencing_an_unknown_camera_is_refused_naming_it(
    hass: HomeAssistant, entry: MockConfigEntry
) -> None:
    # Given the integration loaded with front_door and garage
    # When an automation silences a camera the engine does not have
    # Then the call is refused naming the camera
    with pytest.raises(ServiceValidationError) as err:
        await hass.services.async_call(
            DOMAIN, "silence_camera", {"camera": "backyard", "duration_s": 60},
            blocking=True, return_response=True,
        )
    assert err.value.translation_key == "camera_not_found"
    assert err.value.translation_placeholders == {"name": "backyard"}


def _live_event(camera: str, clip_id: str, phase: str, **fields: Any) -> dict[str, Any]:
    """A LiveEvent as the engine pushes it while a camera records (phase started/ended)."""
    event = {
        "clip_id": clip_id, "camera": camera, "phase": phase,
        "state": "active" if phase == "started" else "ended",
        "started_at": "2026-01-02T03:04:05+00:00",
        "ended_at": None if phase == "started" else "2026-01-02T03:04:15+00:00",
        "duration_s": None if phase == "started" else 10.0,
        "detected_objects": ["person"], "zones": [], "objects": [], "activity_type": None,
        "risk_level": "medium", "summary": None, "alerted": True,
        "snapshot_url": f"/api/v1/clips/{clip_id}/snapshot",
        "view_url": f"/api/v1/clips/{clip_id}/media",
        "end_reason": None if phase == "started" else "clip_closed",
    }
    event.update(fields)
    return event


@pytest.mark.usefixtures("config_dir")
async def test_a_live_event_notifies_at_its_start_not_again_at_its_end(
    hass: HomeAssistant, engine: RunningEngine, entry: MockConfigEntry,
    phone: list[dict[str, Any]],
) -> None:
    # Given the blueprint without a cooldown
    await _automation(hass, entry, cooldown=0)
    event_entity = _event_entity(hass, entry, "front_door")
    # When the engine sees a person at the front door live (the event starts) ...
    engine.runtime.events.publish("event", _live_event("front_door", "live-1", "started"))
    await wait_for(hass, lambda: _event_type(hass, event_entity) == "started")
    # Then the phone gets the picture at once, with the buttons
    assert [n["data"]["tag"] for n in phone] == ["homesec-live-1"]
    assert phone[0]["title"] == "Front door: person"
    assert phone[0]["data"]["image"].split("?")[0].endswith("/live-1/snapshot")
    # When the event ends (summary and clip ready)
    engine.runtime.events.publish("event", _live_event(
        "front_door", "live-1", "ended", summary="A person walks to the door and leaves"))
    await wait_for(hass, lambda: _event_type(hass, event_entity) == "ended")
    # Then no second notification goes out
    assert len(phone) == 1


def _event_type(hass: HomeAssistant, entity_id: str) -> str | None:
    state = hass.states.get(entity_id)
    return None if state is None else state.attributes.get("event_type")


@pytest.mark.usefixtures("config_dir")
async def test_an_entity_coming_back_is_no_new_notification(
    hass: HomeAssistant, engine: RunningEngine, entry: MockConfigEntry,
    phone: list[dict[str, Any]],
) -> None:
    # Given one notification sent for an alert
    await _automation(hass, entry, cooldown=0)
    await _alert(hass, engine, entry, "front_door", "fd-once")
    assert len(phone) == 1
    entity_id = _event_entity(hass, entry, "front_door")
    last = hass.states.get(entity_id)
    assert last is not None
    # When the event entity goes unavailable and comes back with its last event (the engine
    # reconnected, or HA restarted and restored it)
    hass.states.async_set(entity_id, "unavailable", {})
    await hass.async_block_till_done()
    hass.states.async_set(entity_id, last.state, dict(last.attributes))
    await hass.async_block_till_done()
    # Then the phone is not told about the old event again
    assert len(phone) == 1
