"""Edges of the extras: the media browser with a bad link or a stopped engine, the repair
flow after HomeSec was unloaded, a service call with a refused key, and an alert trigger put
on the hub device.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry
from pytest_homeassistant_custom_component.typing import ClientSessionGenerator

from custom_components.homesec.const import DOMAIN
from homeassistant.components import media_source
from homeassistant.components.media_player.errors import BrowseError
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import HomeAssistantError
from homeassistant.helpers import device_registry as dr
from homeassistant.helpers import issue_registry as ir
from homeassistant.setup import async_setup_component
from tests.engine_harness import RunningEngine, running_engine

from .conftest import API_KEY, alert_event, entry_data, find_device
from .scripted_engine import ScriptedEngine, scripted_engine

ROOT = "media-source://homesec"


async def _load(hass: HomeAssistant, entry: MockConfigEntry) -> None:
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()


async def test_media_browser_explains_bad_links_and_a_stopped_engine(
    hass: HomeAssistant, tmp_path: Path, database_url: str
) -> None:
    assert await async_setup_component(hass, "media_source", {})
    async with running_engine(tmp_path, api_key=API_KEY, database_url=database_url) as eng:
        entry = MockConfigEntry(domain=DOMAIN, title="HomeSec", data=entry_data(eng),
                                unique_id="browse")
        await _load(hass, entry)
        # When the browser is sent to a day that does not exist (e.g. an edited link)
        with pytest.raises(BrowseError, match="unknown HomeSec item"):
            await media_source.async_browse_media(
                hass, f"{ROOT}/{entry.entry_id}/front_door/day/2026-13-45/1"
            )
        # Then it is refused as unknown; a real day of the same camera still opens
        day = await media_source.async_browse_media(
            hass, f"{ROOT}/{entry.entry_id}/front_door/day/2026-01-02/1"
        )
        assert day.children == []
    # When the engine has stopped and the user opens the camera's folder
    with pytest.raises(BrowseError, match="did not answer"):
        await media_source.async_browse_media(hass, f"{ROOT}/{entry.entry_id}/front_door")
    # Then the browser says the engine did not answer (not an empty folder)
    await hass.config_entries.async_unload(entry.entry_id)


async def test_repair_submitted_after_homesec_was_unloaded_aborts(
    hass: HomeAssistant, engine: RunningEngine, config_entry: MockConfigEntry,
    hass_client: ClientSessionGenerator,
) -> None:
    # Given the restart issue (a change in the engine needs a restart)
    await _load(hass, config_entry)
    engine.leave_a_restart_pending()
    await config_entry.runtime_data.coordinator.async_refresh()
    await hass.async_block_till_done()
    issue_id = f"restart_required_{config_entry.entry_id}"
    assert ir.async_get(hass).async_get_issue(DOMAIN, issue_id) is not None
    assert await async_setup_component(hass, "repairs", {})
    client = await hass_client()
    flow = await (await client.post(
        "/api/repairs/issues/fix", json={"handler": DOMAIN, "issue_id": issue_id}
    )).json()
    # When HomeSec is unloaded (e.g. disabled) before the user submits the repair
    await hass.config_entries.async_unload(config_entry.entry_id)
    await hass.async_block_till_done()
    result = await (await client.post(f"/api/repairs/issues/fix/{flow['flow_id']}",
                                      json={})).json()
    # Then the repair stops with a reason instead of restarting anything
    assert result["type"] == "abort"
    assert result["reason"] == "not_loaded"
    assert not engine.runtime.restart_requested.is_set()


@pytest.fixture
async def scripted() -> AsyncIterator[ScriptedEngine]:
    async with scripted_engine() as engine:
        yield engine


async def test_service_with_a_refused_key_says_so(
    hass: HomeAssistant, scripted: ScriptedEngine
) -> None:
    # Given HomeSec loaded, and then the engine's API key changed (clips now answer 401)
    entry = MockConfigEntry(
        domain=DOMAIN, title="HomeSec", unique_id="scripted",
        data={"host": scripted.host, "port": scripted.port, "api_key": API_KEY,
              "ssl": False, "verify_ssl": True},
    )
    await _load(hass, entry)
    scripted.answer("GET /api/v1/clips",
                    (401, {"detail": "invalid API key", "error_code": "UNAUTHORIZED"}))
    # When an automation asks for clips
    with pytest.raises(HomeAssistantError) as err:
        await hass.services.async_call(DOMAIN, "get_clips", {}, blocking=True,
                                       return_response=True)
    # Then the error says the key was refused (and the call was not retried)
    assert err.value.translation_key == "invalid_auth"
    assert scripted.requests.count("GET /api/v1/clips") == 1
    await hass.config_entries.async_unload(entry.entry_id)


async def test_an_alert_trigger_on_the_hub_device_is_refused(
    hass: HomeAssistant, engine: RunningEngine, config_entry: MockConfigEntry,
    caplog: pytest.LogCaptureFixture,
) -> None:
    # Given HomeSec loaded with its hub device (which has no camera)
    await _load(hass, config_entry)
    hub = find_device(hass, config_entry.entry_id, config_entry.entry_id)
    assert hub is not None
    # When an automation (e.g. written in YAML) puts a camera's alert trigger on the hub
    caplog.set_level(logging.ERROR)
    assert await async_setup_component(hass, "automation", {
        "automation": {
            "alias": "hub alert", "id": "hub_alert",
            "triggers": [{"trigger": "device", "domain": DOMAIN, "device_id": hub.id,
                          "type": "alert"}],
            "actions": [{"event": "homesec_test_ran"}],
        }
    })
    await hass.async_block_till_done()
    # Then the automation does not set up its trigger, and the log says why
    assert "is not a HomeSec camera" in caplog.text
    # And an alert does not run it
    ran: list[object] = []
    hass.bus.async_listen("homesec_test_ran", ran.append)
    config_entry.runtime_data.coordinator.async_handle_message({  # as the WebSocket does
        "type": "alert", "data": alert_event(clip_id="clip-hub"),
        "stats": {"alerts_today": 1, "cameras_online": 0}})
    await hass.async_block_till_done()
    assert ran == []
    assert hass.states.get("sensor.homesec_alerts_today").state == "1"  # it did arrive
    await hass.config_entries.async_unload(config_entry.entry_id)
