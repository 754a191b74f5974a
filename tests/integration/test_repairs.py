"""The restart_required repair issue and its fix flow, against the real engine."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest

from homeassistant.core import HomeAssistant
from homeassistant.helpers import issue_registry as ir
from homeassistant.setup import async_setup_component
from pytest_homeassistant_custom_component.common import MockConfigEntry
from pytest_homeassistant_custom_component.typing import ClientSessionGenerator

from tests.e2e.ha_harness import DOMAIN, engine_for_ha, homesec_entry
from tests.engine_harness import RunningEngine


@pytest.fixture
async def engine(tmp_path: Path) -> AsyncIterator[RunningEngine]:
    async with engine_for_ha(tmp_path, api_key="repair-key") as eng:
        yield eng


@pytest.fixture
async def entry(hass: HomeAssistant, engine: RunningEngine) -> AsyncIterator[MockConfigEntry]:
    async with homesec_entry(hass, engine) as loaded:
        yield loaded


def _issue(hass: HomeAssistant, entry: MockConfigEntry) -> ir.IssueEntry | None:
    return ir.async_get(hass).async_get_issue(DOMAIN, f"restart_required_{entry.entry_id}")


async def _change_camera_in_engine(engine: RunningEngine) -> None:
    """A change the engine cannot apply live waits for a restart."""
    engine.leave_a_restart_pending()


async def test_a_camera_change_applied_live_raises_no_issue(
    hass: HomeAssistant, engine: RunningEngine, entry: MockConfigEntry
) -> None:
    # When a camera is enabled in the engine (panel, API) and HA polls
    async with aiohttp.ClientSession() as session:
        async with session.put(
            f"{engine.api}/cameras/garage", headers=engine.headers, json={"enabled": True}
        ) as resp:
            assert resp.status == 200
            assert (await resp.json())["restart_required"] is False
    await entry.runtime_data.coordinator.async_refresh()
    await hass.async_block_till_done()
    # Then there is nothing to repair: the engine applied it
    assert _issue(hass, entry) is None


async def test_issue_appears_when_the_engine_reports_a_pending_restart(
    hass: HomeAssistant, engine: RunningEngine, entry: MockConfigEntry
) -> None:
    # Given no pending restart
    assert _issue(hass, entry) is None
    # When a change made outside HA needs a restart and HA polls the engine
    await _change_camera_in_engine(engine)
    await entry.runtime_data.coordinator.async_refresh()
    await hass.async_block_till_done()
    # Then a fixable warning issue offers the restart
    issue = _issue(hass, entry)
    assert issue is not None
    assert issue.is_fixable
    assert issue.severity is ir.IssueSeverity.WARNING
    assert issue.translation_key == "restart_required"


async def test_fix_flow_restarts_the_engine_and_clears_the_issue(
    hass: HomeAssistant,
    engine: RunningEngine,
    entry: MockConfigEntry,
    hass_client: ClientSessionGenerator,
) -> None:
    # Given the restart issue
    await _change_camera_in_engine(engine)
    await entry.runtime_data.coordinator.async_refresh()
    await hass.async_block_till_done()
    issue = _issue(hass, entry)
    assert issue is not None
    assert await async_setup_component(hass, "repairs", {})
    client = await hass_client()
    # When the user opens the repair (the frontend's HTTP API)
    resp = await client.post(
        "/api/repairs/issues/fix", json={"handler": DOMAIN, "issue_id": issue.issue_id}
    )
    assert resp.status == 200
    flow = await resp.json()
    # Then a confirmation step is shown, and nothing restarted yet
    assert flow["type"] == "form" and flow["step_id"] == "confirm"
    assert not engine.runtime.restart_requested.is_set()
    # When the user submits it
    resp = await client.post(f"/api/repairs/issues/fix/{flow['flow_id']}", json={})
    assert resp.status == 200
    result = await resp.json()
    # Then the engine is asked to restart and the issue is gone
    assert result["type"] == "create_entry"
    assert engine.runtime.restart_requested.is_set()
    assert _issue(hass, entry) is None


async def test_fix_flow_reports_an_unreachable_engine(
    hass: HomeAssistant, tmp_path: Path, hass_client: ClientSessionGenerator
) -> None:
    # Given the restart issue, and then the engine goes away
    async with engine_for_ha(tmp_path, api_key="repair-key") as engine:
        async with homesec_entry(hass, engine) as entry:
            pass
        assert await hass.config_entries.async_setup(entry.entry_id)
        await _change_camera_in_engine(engine)
        await entry.runtime_data.coordinator.async_refresh()
        await hass.async_block_till_done()
    try:
        issue = _issue(hass, entry)
        assert issue is not None
        assert await async_setup_component(hass, "repairs", {})
        client = await hass_client()
        flow = await (await client.post(
            "/api/repairs/issues/fix", json={"handler": DOMAIN, "issue_id": issue.issue_id}
        )).json()
        # When the user submits the repair
        result = await (await client.post(
            f"/api/repairs/issues/fix/{flow['flow_id']}", json={}
        )).json()
        # Then the form says the engine cannot be reached, and the issue stays
        assert result["type"] == "form"
        assert result["errors"] == {"base": "cannot_connect"}
        assert _issue(hass, entry) is not None
    finally:
        await hass.config_entries.async_unload(entry.entry_id)
        await hass.async_block_till_done()
