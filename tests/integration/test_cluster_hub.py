"""One Home Assistant entry over a cluster of engines (real HA core, two real engine
processes sharing one PostgreSQL database and moto's S3 server): the entry shows every
camera of the installation and each engine as a device of its own, and when its engine is
killed it carries on through the other engine's URL (the dead engine's device stays,
unavailable, for the user to remove); an engine that leaves the installation takes its
device with it."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.homesec.const import (
    CONF_API_KEY,
    CONF_SCAN_INTERVAL,
    CONF_SSL,
    CONF_VERIFY_SSL,
    DOMAIN,
)
from custom_components.homesec.coordinator import camera_device_identifier
from homeassistant.config_entries import ConfigEntryState
from homeassistant.const import CONF_HOST, CONF_PORT
from homeassistant.core import HomeAssistant
from homeassistant.helpers import device_registry as dr
from homeassistant.helpers import entity_registry as er
from homeassistant.setup import async_setup_component
from tests.cluster.engines import ClusterEngine, running_cluster, wait_for
from tests.engine.lifecycle.conftest import S3Server, s3_env, s3_port, s3_server  # noqa: F401

from .conftest import ENTRY_ID, find_device

CAMS = ["back", "front"]


@pytest.fixture
def engines(tmp_path: Path, database_url: str, s3_server: S3Server,  # noqa: F811
            s3_env: dict[str, str]) -> Iterator[list[ClusterEngine]]:  # noqa: F811
    """e1 and e2, one camera each."""
    with running_cluster(tmp_path, ["e1", "e2"], database=database_url.rsplit("/", 1)[1],
                         cameras=CAMS, s3_endpoint=s3_server.endpoint,
                         bucket=s3_server.bucket, credentials=s3_env) as running:
        wait_for(lambda: all(len(e.held()) == 1 for e in running), 60, "one camera each")
        yield running


def _held_state(hass: HomeAssistant, engine_id: str) -> str | None:
    """The state of engine `engine_id`'s "Cameras held" sensor."""
    entity_id = er.async_get(hass).async_get_entity_id(
        "sensor", DOMAIN, f"{ENTRY_ID}-engine-{engine_id}_cameras_held")
    state = hass.states.get(entity_id) if entity_id else None
    return state.state if state else None


def _healthy(entry: MockConfigEntry) -> set[str]:
    data = entry.runtime_data.coordinator.current
    return {c["name"] for c in data["cameras"] if c["healthy"]} if data else set()


async def _entry_on(hass: HomeAssistant, engine: ClusterEngine) -> MockConfigEntry:
    """An entry added and set up for `engine`'s URL."""
    entry = MockConfigEntry(domain=DOMAIN, title="HomeSec", entry_id=ENTRY_ID,
                            unique_id=f"127.0.0.1:{engine.port}",
                            data={CONF_HOST: "127.0.0.1", CONF_PORT: engine.port,
                                  CONF_API_KEY: "", CONF_SSL: False, CONF_VERIFY_SSL: True},
                            options={CONF_SCAN_INTERVAL: 30})
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    return entry


async def _device_remover(hass: HomeAssistant, hass_ws_client: Any, entry: MockConfigEntry
                          ) -> Callable[[str], Awaitable[bool]]:
    """Removes a device from the entry as the user does in the UI; whether HA allowed it."""
    assert await async_setup_component(hass, "config", {})
    client = await hass_ws_client(hass)

    async def remove(device_id: str) -> bool:
        await client.send_json_auto_id({"type": "config/device_registry/remove_config_entry",
                                        "config_entry_id": entry.entry_id,
                                        "device_id": device_id})
        return bool((await client.receive_json())["success"])
    return remove


async def test_one_entry_shows_every_camera_and_survives_its_engine(
        hass: HomeAssistant, engines: list[ClusterEngine], hass_ws_client: Any) -> None:
    e1, e2 = engines
    # Given an entry added for engine e1 of a two-engine cluster
    entry = await _entry_on(hass, e1)
    coordinator = entry.runtime_data.coordinator

    # Then it shows both cameras as devices, healthy, though e1 records only one of them
    for camera in CAMS:
        _domain, identifier = camera_device_identifier(entry.entry_id, camera)
        assert find_device(hass, entry.entry_id, identifier) is not None
    for _ in range(100):
        if _healthy(entry) == set(CAMS):
            break
        await coordinator.async_refresh()
        await asyncio.sleep(0.2)
    assert _healthy(entry) == set(CAMS)
    # And each engine is a device of its own, holding one camera
    for engine_id in ("e1", "e2"):
        assert find_device(hass, entry.entry_id, f"{ENTRY_ID}-engine-{engine_id}") is not None
        assert _held_state(hass, engine_id) == "1"

    # When e1 is killed
    await hass.async_add_executor_job(e1.kill)
    await coordinator.async_refresh()

    # Then the entry carries on through e2: the poll succeeds and both cameras stay
    assert coordinator.last_update_success
    assert coordinator.client.base_url == f"http://127.0.0.1:{e2.port}"
    assert {c["name"] for c in coordinator.current["cameras"]} == set(CAMS)
    # And once e1's lease ran out, e2 records both and the entry shows them healthy
    for _ in range(150):
        await coordinator.async_refresh()
        if _healthy(entry) == set(CAMS) and len(e2.held()) == 2:
            break
        await asyncio.sleep(0.2)
    assert _healthy(entry) == set(CAMS)
    await hass.async_block_till_done()
    # And e2's device holds both cameras, while the dead engine's device shows unavailable
    for _ in range(100):
        if (_held_state(hass, "e1"), _held_state(hass, "e2")) == ("unavailable", "2"):
            break
        await coordinator.async_refresh()
        await hass.async_block_till_done()
        await asyncio.sleep(0.2)
    assert (_held_state(hass, "e1"), _held_state(hass, "e2")) == ("unavailable", "2")
    # And the user may remove the dead engine's device by hand, never the live one's
    remove = await _device_remover(hass, hass_ws_client, entry)
    e1_device = find_device(hass, entry.entry_id, f"{ENTRY_ID}-engine-e1")
    e2_device = find_device(hass, entry.entry_id, f"{ENTRY_ID}-engine-e2")
    assert e1_device is not None and e2_device is not None
    assert not await remove(e2_device.id)
    assert await remove(e1_device.id)
    await coordinator.async_refresh()
    await hass.async_block_till_done()
    assert find_device(hass, entry.entry_id, f"{ENTRY_ID}-engine-e1") is None
    assert find_device(hass, entry.entry_id, f"{ENTRY_ID}-engine-e2") is not None
    assert entry.state is ConfigEntryState.LOADED
    await hass.config_entries.async_unload(entry.entry_id)
    await hass.async_block_till_done()


async def test_an_engine_that_leaves_takes_its_device_with_it(
        hass: HomeAssistant, engines: list[ClusterEngine], hass_ws_client: Any) -> None:
    e1, e2 = engines
    # Given an entry added for engine e1 of a two-engine cluster, each engine a device
    entry = await _entry_on(hass, e1)
    coordinator = entry.runtime_data.coordinator
    remove = await _device_remover(hass, hass_ws_client, entry)

    e2_device = find_device(hass, entry.entry_id, f"{ENTRY_ID}-engine-e2")
    assert e2_device is not None
    # Then the user cannot remove a running engine's device
    assert not await remove(e2_device.id)
    assert dr.async_get(hass).async_get(e2_device.id) is not None

    # When e2 leaves the installation (stopped cleanly: its cameras go to e1)
    await hass.async_add_executor_job(e2.stop)
    for _ in range(100):
        await coordinator.async_refresh()
        await hass.async_block_till_done()
        if find_device(hass, entry.entry_id, f"{ENTRY_ID}-engine-e2") is None:
            break
        await asyncio.sleep(0.2)

    # Then e2's device and its entities are gone from HA, e1's and both cameras' stay
    assert find_device(hass, entry.entry_id, f"{ENTRY_ID}-engine-e2") is None
    assert _held_state(hass, "e2") is None
    assert er.async_get(hass).async_get_entity_id(
        "sensor", DOMAIN, f"{ENTRY_ID}-engine-e2_cameras_held") is None
    assert find_device(hass, entry.entry_id, f"{ENTRY_ID}-engine-e1") is not None
    for camera in CAMS:
        _domain, identifier = camera_device_identifier(entry.entry_id, camera)
        assert find_device(hass, entry.entry_id, identifier) is not None
    await hass.config_entries.async_unload(entry.entry_id)
    await hass.async_block_till_done()
