"""Set up the HomeSec integration in a real Home Assistant core against a real engine.

Shared by helper B's integration tests, the end-to-end test and bench/ha_latency.py:

    async with running_engine(tmp_path, api_key="k") as engine:
        async with homesec_entry(hass, engine) as entry:
            ...

The entry is unloaded on exit (its WebSocket task and timers stop) before the engine stops.
"""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from homeassistant.core import HomeAssistant
from pytest_homeassistant_custom_component.common import MockConfigEntry

from homesec_engine.alerts.summary import alert_summary

from tests.engine_harness import RunningEngine, running_engine
from tests.services import PG_URL

DOMAIN = "homesec"


def entry_data(engine: RunningEngine) -> dict[str, Any]:
    parts = urlsplit(engine.url)
    return {
        "host": parts.hostname,
        "port": parts.port,
        "api_key": engine.api_key or "",
        "ssl": False,
        "verify_ssl": True,
    }


@asynccontextmanager
async def homesec_entry(
    hass: HomeAssistant, engine: RunningEngine, options: dict[str, Any] | None = None
) -> AsyncIterator[MockConfigEntry]:
    """A loaded HomeSec config entry talking to `engine`; unloaded on exit."""
    data = entry_data(engine)
    entry = MockConfigEntry(
        domain=DOMAIN,
        title="HomeSec",
        data=data,
        options=options or {},
        unique_id=f"{data['host']}:{data['port']}",
    )
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    try:
        yield entry
    finally:
        await hass.config_entries.async_unload(entry.entry_id)
        await hass.async_block_till_done()


def alert_payload(camera: str, clip_id: str, **fields: Any) -> dict[str, Any]:
    """An AlertEvent payload as the engine publishes it."""
    payload: dict[str, Any] = {
        "camera": camera,
        "clip_id": clip_id,
        "activity_type": "person",
        "risk_level": "high",
        "summary": "Someone at the door",
        "view_url": f"/api/v1/clips/{clip_id}/media",
        "storage_uri": None,
        "timestamp": datetime.now(UTC).isoformat().replace("+00:00", "Z"),
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


async def wait_for(
    hass: HomeAssistant, predicate: Callable[[], bool], timeout: float = 5.0
) -> None:
    """Let HA and the engine run until `predicate()` holds (fails after `timeout`)."""
    async with asyncio.timeout(timeout):
        while not predicate():
            await asyncio.sleep(0.01)
            await hass.async_block_till_done()


async def wait_ws_connected(hass: HomeAssistant, entry: MockConfigEntry) -> None:
    """Wait until the coordinator's event WebSocket is connected."""
    coordinator = entry.runtime_data.coordinator
    await wait_for(hass, lambda: coordinator.ws_connected)




@asynccontextmanager
async def scratch_postgres_db() -> AsyncIterator[str]:
    """A new, empty database on the shared PostgreSQL server (dropped on exit); its URL."""
    import asyncpg  # noqa: PLC0415 - only the tests that ask for PostgreSQL need it

    name = f"homesec_ha_{uuid.uuid4().hex[:12]}"
    admin = await asyncpg.connect(PG_URL, timeout=5)
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
        yield PG_URL.rsplit("/", 1)[0] + f"/{name}"
    finally:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()


@asynccontextmanager
async def engine_for_ha(tmp_path: Path, **kwargs: Any) -> AsyncIterator[RunningEngine]:
    """A running engine for the HA tests; HOMESEC_HA_TEST_DB=postgresql uses PostgreSQL."""
    if os.environ.get("HOMESEC_HA_TEST_DB", "sqlite") == "postgresql":
        async with scratch_postgres_db() as url:
            async with running_engine(tmp_path, database_url=url, **kwargs) as engine:
                yield engine
    else:
        async with running_engine(tmp_path, **kwargs) as engine:
            yield engine
