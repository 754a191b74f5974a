"""HomeSec entities against a real engine: states, availability, switch, devices, restore."""

from __future__ import annotations

import logging
from pathlib import Path
from collections.abc import Mapping
from typing import Any

import aiohttp
import pytest
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    mock_restore_cache_with_extra_data,
)
from pytest_homeassistant_custom_component.components.diagnostics import (
    get_diagnostics_for_config_entry,
)
from pytest_homeassistant_custom_component.typing import ClientSessionGenerator
from syrupy.assertion import SnapshotAssertion
from syrupy.filters import props

from custom_components.homesec.const import DOMAIN
from homeassistant.components.switch import SERVICE_TURN_OFF, SERVICE_TURN_ON
from homeassistant.const import ATTR_ENTITY_ID, STATE_OFF, STATE_ON, STATE_UNAVAILABLE
from homeassistant.core import HomeAssistant, State
from homeassistant.exceptions import HomeAssistantError
from homeassistant.helpers import device_registry as dr
from homeassistant.helpers import entity_registry as er
from homeassistant.setup import async_setup_component
from tests.engine_harness import RunningEngine, running_engine

from .conftest import API_KEY, ENTRY_ID, entry_data, find_device, seed_last_alert, wait_for


async def _engine_json(engine: RunningEngine, method: str, path: str, **kw: Any) -> Any:
    async with aiohttp.ClientSession() as session:
        async with session.request(method, engine.api + path, headers=engine.headers, **kw) as r:
            assert r.status < 300, await r.text()
            return await r.json()


# What a user sees of a registry entry; the rest (timestamps, aliases, the registry's own
# bookkeeping) changes between Home Assistant releases and would tie the snapshot to one.
ENTRY_FIELDS = ("entity_id", "unique_id", "platform", "translation_key", "has_entity_name",
                "original_name", "original_device_class", "device_class", "entity_category",
                "disabled_by", "hidden_by", "unit_of_measurement", "capabilities",
                "supported_features", "original_icon")


def _text_keys(value: Any) -> Any:
    """Mappings with their keys as text (newer HA keys attributes by StrEnum members)."""
    if isinstance(value, Mapping):
        return {str(k): _text_keys(v) for k, v in value.items()}
    return value


def entry_view(entry: er.RegistryEntry) -> dict[str, Any]:
    """The user-visible fields of an entity's registry entry."""
    return {name: _text_keys(getattr(entry, name)) for name in ENTRY_FIELDS}


def state_view(state: State | None) -> dict[str, Any] | None:
    """An entity's state and attributes as a user reads them (attribute names as text)."""
    if state is None:
        return None
    hidden = {"access_token", "entity_picture"}  # change with every run
    return {"state": state.state,
            "attributes": {k: v for k, v in _text_keys(state.attributes).items() if k not in hidden}}


async def test_entities_snapshot(
    hass: HomeAssistant,
    engine: RunningEngine,
    config_entry: MockConfigEntry,
    entity_registry: er.EntityRegistry,
    snapshot: SnapshotAssertion,
) -> None:
    # Given an engine whose front door camera streams and had a high-risk person alert
    seed_last_alert(engine)
    await engine.runtime._on_health("front_door", True)  # what a running source reports
    # When the entry is set up
    config_entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(config_entry.entry_id)
    await hass.async_block_till_done()
    # Then every entity's registry entry and state are as recorded
    entries = sorted(
        er.async_entries_for_config_entry(entity_registry, config_entry.entry_id),
        key=lambda e: e.entity_id,
    )
    # hub (no offsite backlog: offsite copies are off) + per camera (camera entity last;
    # detection rate and delay the last two added)
    assert len(entries) == 8 + 2 * (9 + 5 + 1 + 1 + 1 + 1 + 2)
    for entry in entries:
        assert entry_view(entry) == snapshot(name=f"{entry.entity_id}-entry")
        state = state_view(hass.states.get(entry.entity_id))
        if entry.entity_id == "sensor.homesec_disk_free":
            state["state"] = "<free space of the test machine's disk>"  # varies run to run
        assert state == snapshot(name=f"{entry.entity_id}-state")
    await hass.config_entries.async_unload(config_entry.entry_id)


async def test_readable_states(
    hass: HomeAssistant, engine: RunningEngine, config_entry: MockConfigEntry
) -> None:
    # Given the same engine state as the snapshot
    seed_last_alert(engine)
    await engine.runtime._on_health("front_door", True)
    config_entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(config_entry.entry_id)
    await hass.async_block_till_done()
    # Then the values a user reads are the engine's
    expect = {
        "sensor.homesec_cameras_online": "1",
        "sensor.homesec_system_health": "healthy",
        "sensor.front_door_last_activity": "person",
        "sensor.front_door_risk_level": "high",
        "sensor.front_door_health": "online",
        "sensor.garage_health": "disabled",
        "sensor.garage_last_activity": "unknown",
        "binary_sensor.front_door_online": STATE_ON,
        "binary_sensor.front_door_motion": STATE_OFF,  # the alert is old
        "switch.front_door_enabled": STATE_ON,
        "switch.garage_enabled": STATE_OFF,
        "image.front_door_last_alert_snapshot": "2026-01-02T03:04:05+00:00",
    }
    assert {k: hass.states.get(k).state for k in expect} == expect
    assert hass.states.get("image.front_door_last_alert_snapshot").attributes["clip_id"] == (
        "clip-seeded-1"
    )
    await hass.config_entries.async_unload(config_entry.entry_id)


async def test_engine_unreachable(
    hass: HomeAssistant, tmp_path: Path, database_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    # Given a loaded entry whose engine then stops
    async with running_engine(
        tmp_path, api_key=API_KEY, database_url=database_url
    ) as eng:
        await eng.runtime._on_health("front_door", True)
        entry = MockConfigEntry(
            domain=DOMAIN, title="HomeSec", data=entry_data(eng), unique_id="u"
        )
        entry.add_to_hass(hass)
        assert await hass.config_entries.async_setup(entry.entry_id)
        await hass.async_block_till_done()
        assert hass.states.get("binary_sensor.front_door_online").state == STATE_ON
    coordinator = entry.runtime_data.coordinator
    caplog.clear()
    # When two polls fail
    with caplog.at_level(logging.ERROR, logger="custom_components.homesec"):
        await coordinator.async_refresh()
        await coordinator.async_refresh()
    await hass.async_block_till_done()
    # Then camera and hub entities are unavailable, "online" stays available and says off,
    # and the outage is logged once, not once per poll
    assert hass.states.get("sensor.front_door_risk_level").state == STATE_UNAVAILABLE
    assert hass.states.get("sensor.homesec_alerts_today").state == STATE_UNAVAILABLE
    assert hass.states.get("switch.front_door_enabled").state == STATE_UNAVAILABLE
    assert hass.states.get("binary_sensor.front_door_online").state == STATE_OFF
    errors = [r for r in caplog.records if "Error fetching homesec data" in r.getMessage()]
    assert len(errors) == 1
    await hass.config_entries.async_unload(entry.entry_id)


async def test_switch_turns_camera_off_and_on(
    hass: HomeAssistant, loaded_entry: MockConfigEntry, engine: RunningEngine
) -> None:
    # Given the front door camera enabled
    assert hass.states.get("switch.front_door_enabled").state == STATE_ON
    # When the user turns its switch off
    await hass.services.async_call(
        "switch", SERVICE_TURN_OFF, {ATTR_ENTITY_ID: "switch.front_door_enabled"}, blocking=True
    )
    # Then the engine's camera is disabled and the switch and health sensor show it
    camera = await _engine_json(engine, "GET", "/cameras/front_door")
    assert camera["enabled"] is False
    assert hass.states.get("switch.front_door_enabled").state == STATE_OFF
    assert hass.states.get("sensor.front_door_health").state == "disabled"
    # When turned on again right away (carrying the version of its own change)
    await hass.services.async_call(
        "switch", SERVICE_TURN_ON, {ATTR_ENTITY_ID: "switch.front_door_enabled"}, blocking=True
    )
    # Then it is on in the engine too
    camera = await _engine_json(engine, "GET", "/cameras/front_door")
    assert camera["enabled"] is True


async def test_switch_conflict_shows_clear_error(
    hass: HomeAssistant, loaded_entry: MockConfigEntry, engine: RunningEngine
) -> None:
    # Given someone changed the engine's config elsewhere since HA's last poll
    await _engine_json(engine, "PUT", "/cameras/garage", json={"enabled": True})
    # When the user turns the front door camera off from HA
    with pytest.raises(HomeAssistantError) as err:
        await hass.services.async_call(
            "switch",
            SERVICE_TURN_OFF,
            {ATTR_ENTITY_ID: "switch.front_door_enabled"},
            blocking=True,
        )
    # Then HA explains the config changed elsewhere and nothing was changed
    assert err.value.translation_key == "config_version_conflict"
    assert err.value.translation_domain == DOMAIN
    camera = await _engine_json(engine, "GET", "/cameras/front_door")
    assert camera["enabled"] is True
    # And HA now shows the other change (it refreshed)
    await hass.async_block_till_done()
    assert hass.states.get("switch.garage_enabled").state == STATE_ON


async def test_cameras_come_and_go_without_reload(
    hass: HomeAssistant,
    loaded_entry: MockConfigEntry,
    engine: RunningEngine,
    device_registry: dr.DeviceRegistry,
) -> None:
    coordinator = loaded_entry.runtime_data.coordinator
    # Given a camera added in the engine
    await _engine_json(
        engine,
        "POST",
        "/cameras",
        json={"name": "yard", "source_backend": "demo",
              "source_config": {"interval_s": 3600, "subject": "animal"}},
    )
    # When the next poll runs
    await coordinator.async_refresh()
    await hass.async_block_till_done()
    # Then its device and entities exist, no reload needed
    yard = find_device(hass, ENTRY_ID, f"{ENTRY_ID}_yard")
    assert yard is not None
    assert hass.states.get("switch.yard_enabled").state == STATE_ON
    # Given the garage camera removed in the engine
    await _engine_json(engine, "DELETE", "/cameras/garage")
    # When the next poll runs
    await coordinator.async_refresh()
    await hass.async_block_till_done()
    # Then its device and entities are gone
    assert find_device(hass, ENTRY_ID, f"{ENTRY_ID}_garage") is None
    assert hass.states.get("switch.garage_enabled") is None
    assert er.async_get(hass).async_get("switch.garage_enabled") is None
    assert hass.states.get("switch.front_door_enabled").state == STATE_ON


async def test_manual_removal_of_stale_device_only(
    hass: HomeAssistant,
    loaded_entry: MockConfigEntry,
    device_registry: dr.DeviceRegistry,
    hass_ws_client: Any,
) -> None:
    assert await async_setup_component(hass, "config", {})
    client = await hass_ws_client(hass)
    hub = find_device(hass, ENTRY_ID, ENTRY_ID)
    front = find_device(hass, ENTRY_ID, f"{ENTRY_ID}_front_door")
    # Given a device left from a camera the engine no longer has
    stale = device_registry.async_get_or_create(
        config_entry_id=loaded_entry.entry_id, identifiers={(DOMAIN, f"{ENTRY_ID}_old_cam")}
    )

    async def remove(device_id: str) -> bool:
        await client.send_json_auto_id(
            {
                "type": "config/device_registry/remove_config_entry",
                "config_entry_id": loaded_entry.entry_id,
                "device_id": device_id,
            }
        )
        return bool((await client.receive_json())["success"])

    # When the user removes devices Then only the stale one may go
    assert await remove(stale.id)
    assert device_registry.async_get(stale.id) is None
    assert not await remove(front.id)
    assert not await remove(hub.id)
    assert device_registry.async_get(front.id) is not None


async def test_restored_state_after_restart(
    hass: HomeAssistant, engine: RunningEngine, config_entry: MockConfigEntry
) -> None:
    # Given HA restarts after an alert the engine has since forgotten (no last alert now)
    # (sensors keep their native value as extra restore data, as HA stores it)
    mock_restore_cache_with_extra_data(
        hass,
        [
            (
                State("sensor.front_door_last_activity", "vehicle"),
                {"native_value": "vehicle", "native_unit_of_measurement": None},
            ),
            (
                State("sensor.front_door_risk_level", "critical"),
                {"native_value": "critical", "native_unit_of_measurement": None},
            ),
            (
                State(
                    "image.front_door_last_alert_snapshot",
                    "2026-01-01T10:00:00+00:00",
                    {"clip_id": "clip-before-restart"},
                ),
                {},
            ),
        ],
    )
    # When the entry is set up
    config_entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(config_entry.entry_id)
    await hass.async_block_till_done()
    # Then the last activity, risk level and last alert are the restored ones
    assert hass.states.get("sensor.front_door_last_activity").state == "vehicle"
    assert hass.states.get("sensor.front_door_risk_level").state == "critical"
    image = hass.states.get("image.front_door_last_alert_snapshot")
    assert image.state == "2026-01-01T10:00:00+00:00"
    assert image.attributes["clip_id"] == "clip-before-restart"
    # When the engine reports a newer alert Then the engine's data wins
    seed_last_alert(engine, activity_type="animal", risk_level="low", clip_id="clip-new")
    await config_entry.runtime_data.coordinator.async_refresh()
    await hass.async_block_till_done()
    assert hass.states.get("sensor.front_door_last_activity").state == "animal"
    assert hass.states.get("sensor.front_door_risk_level").state == "low"
    assert hass.states.get("image.front_door_last_alert_snapshot").attributes["clip_id"] == (
        "clip-new"
    )
    await hass.config_entries.async_unload(config_entry.entry_id)


async def test_diagnostics_are_redacted(
    hass: HomeAssistant,
    loaded_entry: MockConfigEntry,
    hass_client: ClientSessionGenerator,
    snapshot: SnapshotAssertion,
) -> None:
    # When a user downloads the diagnostics (with the event stream up)
    coordinator = loaded_entry.runtime_data.coordinator
    await wait_for(lambda: coordinator.ws_connected)
    diagnostics = await get_diagnostics_for_config_entry(hass, hass_client, loaded_entry)
    # Then the API key appears nowhere, and the rest is as recorded
    assert API_KEY not in repr(diagnostics)
    assert diagnostics["entry"]["data"]["api_key"] == "**REDACTED**"
    assert diagnostics == snapshot(
        exclude=props("base_url", "port", "uptime_seconds", "requests_sent", "version",
                      "disk_free_bytes", "disk_total_bytes")
    )
