"""Fixtures for the integration tests: real HA core against a real engine on loopback.

The engine runs through tests/engine_harness.py on a PostgreSQL database of its own (created
per test on the development server and dropped afterwards), so counters never see another
test's clips.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import asyncpg
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.homesec.const import (
    CONF_API_KEY,
    CONF_MOTION_RESET,
    CONF_SCAN_INTERVAL,
    CONF_SSL,
    CONF_VERIFY_SSL,
    DOMAIN,
)
from custom_components.homesec.coordinator import HomeSecCoordinator
from homeassistant.config_entries import ConfigEntryState
from homeassistant.const import CONF_HOST, CONF_PORT
from homeassistant.core import HomeAssistant
from homeassistant.helpers import device_registry as dr
from homesec_engine.alerts.summary import alert_summary
from tests.engine_harness import RunningEngine, running_engine
from tests.services import PG_URL

API_KEY = "it-key-5b1e0d"  # throw-away: tests check it never shows up in diagnostics
ENTRY_ID = "01HOMESECTESTENTRY0000000000"  # fixed, so unique ids are stable in snapshots
ALERT_TIME = "2026-01-02T03:04:05+00:00"

CAMERAS: list[dict[str, Any]] = [
    {"name": "front_door", "enabled": True, "source_backend": "demo",
     "source_config": {"interval_s": 3600, "subject": "person"}},
    {"name": "garage", "enabled": False, "source_backend": "demo",
     "source_config": {"interval_s": 3600, "subject": "vehicle"}},
]


def find_device(
    hass: HomeAssistant, entry_id: str, identifier: str
) -> dr.DeviceEntry | None:
    """The entry's device with identifier (DOMAIN, identifier), on any supported HA release.

    Newer HA scopes identifiers to a config entry (and reports the old global lookup).
    """
    registry = dr.async_get(hass)
    by_identifier = getattr(registry, "async_get_device_by_identifier", None)
    if by_identifier is not None:
        device: dr.DeviceEntry | None = by_identifier((DOMAIN, identifier), entry_id)
        return device
    return registry.async_get_device(identifiers={(DOMAIN, identifier)})


@pytest.fixture(autouse=True)
def auto_enable_custom_integrations(enable_custom_integrations: None) -> Iterator[None]:
    """Load custom_components/homesec from this repository."""
    yield


@pytest.fixture(autouse=True)
def _tcp_sockets(socket_enabled: None) -> None:
    """The engine and HA talk over loopback TCP (the plugin blocks sockets otherwise)."""


@pytest.fixture(autouse=True)
def _fast_reconnect(monkeypatch: pytest.MonkeyPatch) -> None:
    """The event stream reconnects after 50 ms instead of 1 s so tests stay short."""
    monkeypatch.setattr(HomeSecCoordinator, "ws_backoff_initial", 0.05)


@pytest.fixture
async def database_url() -> AsyncIterator[str]:
    """A new, empty PostgreSQL database for this test's engine."""
    name = f"homesec_it_{uuid.uuid4().hex[:12]}"
    admin = await asyncpg.connect(PG_URL, timeout=5)
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
        yield f"postgresql+asyncpg://{PG_URL.split('://', 1)[1].rsplit('/', 1)[0]}/{name}"
    finally:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()


@pytest.fixture
def cameras() -> list[dict[str, Any]]:
    """The engine's cameras (override in a test module to change them)."""
    return [dict(c) for c in CAMERAS]


@pytest.fixture
async def engine(
    tmp_path: Path, database_url: str, cameras: list[dict[str, Any]]
) -> AsyncIterator[RunningEngine]:
    """A real engine with an API key, no sources running."""
    async with running_engine(
        tmp_path, cameras=cameras, api_key=API_KEY, database_url=database_url
    ) as running:
        yield running


async def wait_for(predicate: Callable[[], bool], timeout: float = 5.0) -> None:
    """Let the loop run (real network I/O) until predicate() holds."""
    for _ in range(int(timeout / 0.02)):
        if predicate():
            return
        await asyncio.sleep(0.02)
    assert predicate(), "condition not reached in time"


def stop_polling(entry: MockConfigEntry) -> None:
    """No more polls for a test about pushes that jumps the clock with freezer: a jump fires
    the timeouts of a poll in flight (real time never does), and the entities would go
    unavailable for a reason no user sees."""
    coordinator = entry.runtime_data.coordinator
    coordinator.update_interval = None
    coordinator._async_unsub_refresh()  # noqa: SLF001 - the poll already scheduled


def engine_port(engine: RunningEngine) -> int:
    return int(engine.url.rsplit(":", 1)[1])


def entry_data(engine: RunningEngine, **overrides: Any) -> dict[str, Any]:
    data = {
        CONF_HOST: "127.0.0.1",
        CONF_PORT: engine_port(engine),
        CONF_API_KEY: API_KEY,
        CONF_SSL: False,
        CONF_VERIFY_SSL: True,
    }
    data.update(overrides)
    return data


@pytest.fixture
def config_entry(engine: RunningEngine) -> MockConfigEntry:
    """A config entry pointing at the engine (not yet added to hass)."""
    return MockConfigEntry(
        domain=DOMAIN,
        title="HomeSec",
        entry_id=ENTRY_ID,
        unique_id=f"127.0.0.1:{engine_port(engine)}",
        data=entry_data(engine),
        options={CONF_SCAN_INTERVAL: 30, CONF_MOTION_RESET: 30},
    )


def seed_last_alert(engine: RunningEngine, camera: str = "front_door", **fields: Any) -> dict[str, Any]:
    """Make the engine report a last alert for `camera` (as its pipeline would)."""
    alert = {
        "clip_id": "clip-seeded-1",
        "activity_type": "person",
        "risk_level": "high",
        "summary": "A person at the door",
        "detected_objects": ["person"],
        "timestamp": ALERT_TIME,
    }
    alert.update(fields)
    engine.runtime.last_alerts[camera] = alert
    return alert


def alert_event(camera: str = "front_door", clip_id: str = "clip-live-1", **fields: Any) -> dict[str, Any]:
    """An AlertEvent payload as the engine's notifier and WebSocket send it."""
    payload = {
        "camera": camera,
        "clip_id": clip_id,
        "activity_type": "person",
        "risk_level": "medium",
        "summary": "Someone walks up the path",
        "view_url": None,
        "storage_uri": f"local://{camera}/{clip_id}.mp4",
        "timestamp": datetime.now(UTC).isoformat(),
        "detected_objects": ["person"],
    }
    payload.update(fields)
    # The camera's last-alert summary the alert makes, by the engine's one builder.
    payload.setdefault("last_alert", alert_summary(
        clip_id=payload["clip_id"], activity_type=payload["activity_type"],
        risk_level=payload["risk_level"], summary=payload["summary"],
        detected_objects=payload["detected_objects"], timestamp=payload["timestamp"],
        objects=payload.get("objects") or [], zones=payload.get("zones") or []))
    return payload


@pytest.fixture
async def loaded_entry(
    hass: HomeAssistant, engine: RunningEngine, config_entry: MockConfigEntry
) -> AsyncIterator[MockConfigEntry]:
    """The entry set up against the engine; unloaded again before the engine stops."""
    config_entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(config_entry.entry_id)
    await hass.async_block_till_done()
    yield config_entry
    if config_entry.state is ConfigEntryState.LOADED:
        await hass.config_entries.async_unload(config_entry.entry_id)
        await hass.async_block_till_done()
