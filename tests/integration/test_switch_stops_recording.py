"""The camera's Enabled switch acts in the engine at once: off stops the recording (no more
clips are made), on starts it again, and no restart is asked for. A real engine records a
real demo camera (a clip a second)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from homesec_engine.records import ClipQuery
from homeassistant.core import HomeAssistant
from homeassistant.helpers import issue_registry as ir
from tests.engine_harness import RunningEngine, running_engine

from .conftest import API_KEY, DOMAIN, wait_for

FAST_DEMO = {"interval_s": 1, "clip_s": 1, "subject": "person", "width": 160, "height": 120,
             "fps": 5}


@pytest.fixture
async def engine(tmp_path: Path, database_url: str) -> AsyncIterator[RunningEngine]:
    """A real engine whose front door camera records."""
    cameras = [{"name": "front_door", "source_backend": "demo", "source_config": FAST_DEMO}]
    async with running_engine(tmp_path, cameras=cameras, api_key=API_KEY,
                              database_url=database_url, run_sources=True) as running:
        yield running


async def _clip_count(engine: RunningEngine) -> int:
    clips, _ = await engine.runtime.started_repository().list_clips(
        ClipQuery(camera="front_door", limit=500))
    return len(clips)


async def _until_more_clips(engine: RunningEngine, than: int, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while await _clip_count(engine) <= than:
        assert time.monotonic() < deadline, "the camera made no new clip"
        await asyncio.sleep(0.2)


async def _switch(hass: HomeAssistant, service: str) -> None:
    await hass.services.async_call("switch", service, {"entity_id": "switch.front_door_enabled"},
                                   blocking=True)
    await hass.async_block_till_done()


def _state(hass: HomeAssistant, entity_id: str) -> Any:
    return hass.states.get(entity_id).state


async def test_switching_a_camera_off_stops_its_recording_and_on_starts_it(
    hass: HomeAssistant, engine: RunningEngine, loaded_entry: MockConfigEntry,
) -> None:
    # Given the front door recording, shown enabled in HA
    await _until_more_clips(engine, 0)
    assert _state(hass, "switch.front_door_enabled") == "on"
    # When the user turns its Enabled switch off
    await _switch(hass, "turn_off")
    # Then HA shows it disabled, and the engine stops recording: after a clip that was
    # being recorded is stored, no new clip comes over three of its intervals
    assert _state(hass, "switch.front_door_enabled") == "off"
    await wait_for(lambda: _state(hass, "sensor.front_door_health") == "disabled")
    assert "front_door" not in engine.runtime.sources
    await asyncio.sleep(1.5)
    stopped_at = await _clip_count(engine)
    await asyncio.sleep(3.5)
    assert await _clip_count(engine) == stopped_at
    # And no restart is asked for
    assert ir.async_get(hass).async_get_issue(
        DOMAIN, f"restart_required_{loaded_entry.entry_id}") is None
    # When the user turns it on again Then the engine records again
    await _switch(hass, "turn_on")
    assert _state(hass, "switch.front_door_enabled") == "on"
    await _until_more_clips(engine, stopped_at)
