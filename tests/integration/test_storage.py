"""Storage in Home Assistant: disk, clip and offsite sensors from a real engine, offsite
health in the diagnostics, and the disk-critical and offsite-failing repair issues."""

from __future__ import annotations

import socket
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry
from pytest_homeassistant_custom_component.components.diagnostics import (
    get_diagnostics_for_config_entry,
)
from pytest_homeassistant_custom_component.typing import ClientSessionGenerator

from custom_components.homesec.const import DOMAIN
from homeassistant.core import HomeAssistant
from homeassistant.helpers import issue_registry as ir
from homeassistant.setup import async_setup_component
from homesec_engine.records import ClipRecord
from tests.engine_harness import RunningEngine, running_engine

from .conftest import API_KEY, entry_data
from .scripted_engine import ScriptedEngine, scripted_engine, status_body

DAV_PASSWORD = "dav-pass-93c1"  # must never reach HA


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
async def engine(tmp_path: Path, database_url: str,
                 monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[RunningEngine]:
    """A real engine whose offsite WebDAV server does not answer."""
    monkeypatch.setenv("HOMESEC_IT_DAV_USER", "homesec")
    monkeypatch.setenv("HOMESEC_IT_DAV_PASSWORD", DAV_PASSWORD)
    offsite = {"enabled": True, "backend": "webdav",
               "endpoint": f"http://127.0.0.1:{_closed_port()}",
               "username_env": "HOMESEC_IT_DAV_USER", "password_env": "HOMESEC_IT_DAV_PASSWORD",
               "retry_initial_s": 0.05, "retry_max_s": 0.2}
    async with running_engine(tmp_path, api_key=API_KEY, database_url=database_url,
                              config={"offsite": offsite}) as running:
        yield running


async def _store_clips(engine: RunningEngine, tmp_path: Path, sizes: list[int]) -> datetime:
    """Clips recorded and stored as the pipeline does; each queued for its offsite copy."""
    runtime = engine.runtime
    oldest = datetime(2026, 11, 1, 8, 30, tzinfo=UTC)
    for n, size in enumerate(sizes):
        src = tmp_path / f"clip{n}.mp4"
        src.write_bytes(b"\0" * size)
        uri = await runtime.storage.put(src, f"clip{n}.mp4")
        await runtime.repository.upsert_clip(ClipRecord(
            id=f"clip{n}", camera="front_door", status="done", storage_uri=uri,
            created_at=oldest + timedelta(hours=n), size_bytes=size, offsite_state="pending"))
        await runtime.offsite.enqueue(f"clip{n}", uri, f"clip{n}.mp4")
    await runtime.retention.run_pass()
    return oldest


async def test_storage_sensors_show_the_engine_figures(
    hass: HomeAssistant, engine: RunningEngine, tmp_path: Path,
    hass_client: ClientSessionGenerator,
) -> None:
    # Given an engine keeping three clips (3.5 MB) whose offsite copies wait
    oldest = await _store_clips(engine, tmp_path, [1_500_000, 1_000_000, 1_000_000])
    # When the integration is set up
    assert await async_setup_component(hass, "diagnostics", {})
    entry = MockConfigEntry(domain=DOMAIN, title="HomeSec", unique_id="storage",
                            data=entry_data(engine))
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    # Then the hub device shows clips stored, disk used (in GB), the oldest clip and the
    # offsite backlog as the engine counts them, and the disk's free space
    assert hass.states.get("sensor.homesec_clips_stored").state == "3"
    used = hass.states.get("sensor.homesec_disk_used_by_clips")
    assert used.attributes["unit_of_measurement"] == "GB"
    assert float(used.state) == pytest.approx(0.0035)
    free = hass.states.get("sensor.homesec_disk_free")
    assert float(free.state) > 0 and free.attributes["unit_of_measurement"] == "GB"
    assert hass.states.get("sensor.homesec_oldest_clip").state == oldest.isoformat()
    assert hass.states.get("sensor.homesec_offsite_backlog").state == "3"
    # And the diagnostics carry the offsite health: the error, never the password
    diagnostics = await get_diagnostics_for_config_entry(hass, hass_client, entry)
    offsite = diagnostics["offsite"]
    assert offsite["offsite_enabled"] is True and offsite["offsite_backlog"] == 3
    assert "Connection refused" in offsite["offsite_error"]
    assert DAV_PASSWORD not in repr(diagnostics) and API_KEY not in repr(diagnostics)
    await hass.config_entries.async_unload(entry.entry_id)


@pytest.fixture
async def scripted() -> AsyncIterator[ScriptedEngine]:
    async with scripted_engine() as engine:
        yield engine


def _status(**storage: Any) -> dict[str, Any]:
    body = status_body()
    body["storage"] = {
        "disk_used_bytes": 10**9, "disk_free_bytes": 40 * 10**9, "disk_total_bytes": 100 * 10**9,
        "disk_critical": False, "clips_stored": 10, "oldest_clip": None,
        "offsite_enabled": True, "offsite_backlog": 0, "offsite_error": None,
        "offsite_failing_since": None, **storage}
    return body


def _issues(hass: HomeAssistant, entry: MockConfigEntry) -> dict[str, ir.IssueEntry]:
    registry = ir.async_get(hass)
    found = {}
    for name in ("disk_critical", "offsite_failing"):
        issue = registry.async_get_issue(DOMAIN, f"{name}_{entry.entry_id}")
        if issue is not None:
            found[name] = issue
    return found


async def test_repair_issues_for_a_full_disk_and_failing_offsite_copies(
    hass: HomeAssistant, scripted: ScriptedEngine
) -> None:
    # Given an engine with room on its disk and offsite copies that work
    scripted.answer("GET /api/v1/status", default=(200, _status()))
    entry = MockConfigEntry(domain=DOMAIN, title="HomeSec", unique_id="scripted",
                            data={"host": scripted.host, "port": scripted.port,
                                  "api_key": API_KEY, "ssl": False, "verify_ssl": True})
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    coordinator = entry.runtime_data.coordinator
    assert _issues(hass, entry) == {}

    # When the disk runs critically low and uploads fail for ten minutes
    now = datetime.now(UTC)
    scripted.answer("GET /api/v1/status", default=(200, _status(
        disk_free_bytes=3 * 10**9, disk_critical=True, offsite_backlog=12,
        offsite_error="Unexpected: send http request; HTTP 503",
        offsite_failing_since=(now - timedelta(minutes=10)).isoformat())))
    await coordinator.async_refresh()
    await hass.async_block_till_done()
    # Then a critical disk issue names the free space; ten minutes of failures are no issue
    issues = _issues(hass, entry)
    assert set(issues) == {"disk_critical"}
    assert issues["disk_critical"].severity is ir.IssueSeverity.CRITICAL
    assert issues["disk_critical"].translation_placeholders["free_percent"] == "3.0"

    # When the uploads have failed for over an hour
    scripted.answer("GET /api/v1/status", default=(200, _status(
        offsite_backlog=40, offsite_error="Unexpected: send http request; HTTP 503",
        offsite_failing_since=(now - timedelta(hours=1, minutes=5)).isoformat())))
    await coordinator.async_refresh()
    await hass.async_block_till_done()
    # Then the offsite issue says since when, how many wait and why; the disk issue is gone
    issues = _issues(hass, entry)
    assert set(issues) == {"offsite_failing"}
    placeholders = issues["offsite_failing"].translation_placeholders
    assert placeholders["backlog"] == "40" and "HTTP 503" in placeholders["error"]

    # When uploads work again
    scripted.answer("GET /api/v1/status", default=(200, _status()))
    await coordinator.async_refresh()
    await hass.async_block_till_done()
    # Then no issue is left
    assert _issues(hass, entry) == {}
    await hass.config_entries.async_unload(entry.entry_id)


async def test_without_offsite_copies_there_is_no_offsite_backlog_sensor(
    hass: HomeAssistant, tmp_path: Path, database_url: str,
) -> None:
    # Given an engine that copies nothing offsite
    async with running_engine(tmp_path, api_key=API_KEY, database_url=database_url) as engine:
        # When the integration is set up
        entry = MockConfigEntry(domain=DOMAIN, title="HomeSec", unique_id="no-offsite",
                                data=entry_data(engine))
        entry.add_to_hass(hass)
        assert await hass.config_entries.async_setup(entry.entry_id)
        await hass.async_block_till_done()
        # Then the disk sensors are there, but no offsite backlog reading Unknown
        assert hass.states.get("sensor.homesec_clips_stored") is not None
        assert hass.states.get("sensor.homesec_offsite_backlog") is None
        await hass.config_entries.async_unload(entry.entry_id)
