"""Setting up and unloading the HomeSec config entry against a real engine."""

from __future__ import annotations

import asyncio

from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.homesec.const import DOMAIN
from homeassistant.config_entries import SOURCE_REAUTH, ConfigEntryState
from homeassistant.core import HomeAssistant
from homeassistant.helpers import device_registry as dr
from tests.engine_harness import RunningEngine

from .conftest import ENTRY_ID, entry_data, find_device


async def test_setup_creates_hub_and_camera_devices(
    hass: HomeAssistant, loaded_entry: MockConfigEntry, engine: RunningEngine
) -> None:
    # Given an engine with two cameras, When the entry is set up
    # Then it is loaded, with a hub device and one device per camera via the hub
    assert loaded_entry.state is ConfigEntryState.LOADED
    registry = dr.async_get(hass)
    hub = find_device(hass, ENTRY_ID, ENTRY_ID)
    assert hub is not None
    assert hub.sw_version == engine.runtime.version
    assert hub.configuration_url == engine.url
    for camera in ("front_door", "garage"):
        device = find_device(hass, ENTRY_ID, f"{ENTRY_ID}_{camera}")
        assert device is not None
        assert device.via_device_id == hub.id


async def test_unload_stops_everything(
    hass: HomeAssistant, loaded_entry: MockConfigEntry
) -> None:
    # Given a loaded entry with its event stream connected
    coordinator = loaded_entry.runtime_data.coordinator
    for _ in range(100):
        if coordinator.ws_connected:
            break
        await asyncio.sleep(0.02)
    assert coordinator.ws_connected
    stream = [t for t in asyncio.all_tasks() if t.get_name() == f"{DOMAIN} event stream"]
    assert len(stream) == 1
    # When it is unloaded
    assert await hass.config_entries.async_unload(loaded_entry.entry_id)
    await hass.async_block_till_done()
    # Then it is not loaded, the stream is stopped and its entities are unavailable
    assert loaded_entry.state is ConfigEntryState.NOT_LOADED
    assert not coordinator.ws_connected
    assert stream[0].done()
    assert hass.states.get("sensor.homesec_cameras_online").state == "unavailable"


async def test_engine_down_means_not_ready(
    hass: HomeAssistant, engine: RunningEngine
) -> None:
    # Given an entry pointing at a port nobody listens on
    data = entry_data(engine, port=1)
    entry = MockConfigEntry(domain=DOMAIN, data=data, unique_id="127.0.0.1:1")
    entry.add_to_hass(hass)
    # When HA sets it up Then it is retried later (ConfigEntryNotReady)
    await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    assert entry.state is ConfigEntryState.SETUP_RETRY


async def test_wrong_key_starts_reauth(
    hass: HomeAssistant, engine: RunningEngine
) -> None:
    # Given an entry whose API key the engine refuses
    entry = MockConfigEntry(
        domain=DOMAIN, data=entry_data(engine, api_key="wrong"), unique_id="x"
    )
    entry.add_to_hass(hass)
    # When HA sets it up
    await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    # Then setup fails with an auth error and a reauth flow is waiting for the user
    assert entry.state is ConfigEntryState.SETUP_ERROR
    flows = hass.config_entries.flow.async_progress_by_handler(DOMAIN)
    assert [f["context"]["source"] for f in flows] == [SOURCE_REAUTH]
    assert flows[0]["step_id"] == "reauth_confirm"
