"""Class sensors follow tracked objects, end to end: a real RTSP stream of real footage (the
plaza with its van and car parked all along; people walk across it; a real motorcycle drives
in and parks), the real engine tracking on live frames, and real HA core with the integration.
The vehicle sensor stays off for the parked van and car, comes on for the motorcycle that
arrives, and goes quiet once it has parked, while the people keep the event going.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from homeassistant.const import STATE_OFF, STATE_ON
from homeassistant.core import HomeAssistant, State
from pytest_homeassistant_custom_component.common import MockConfigEntry, async_capture_events

from tests.e2e.ha_harness import engine_for_ha, homesec_entry, wait_for, wait_ws_connected
from tests.engine_harness import RunningEngine
from tests.livestream import PersonStream, arrival_stream
from tests.videotools import RtspTestServer


@pytest.fixture(scope="module")
def plaza(tmp_path_factory: pytest.TempPathFactory) -> PersonStream:
    return arrival_stream(tmp_path_factory.mktemp("arrival"))


@pytest.fixture
async def engine(tmp_path: Path, plaza: PersonStream) -> AsyncIterator[RunningEngine]:
    server = RtspTestServer(plaza.path)
    server.start()
    cameras = [{"name": "plaza", "enabled": True, "source_backend": "rtsp",
                "source_config": {"url": server.url, "pre_roll_s": 1, "post_roll_s": 2,
                                  "min_motion_s": 0.3, "live_fps": 5}}]
    try:
        # A vehicle that stood still 4 s is parked (the default is 10 s; the clip is short).
        async with engine_for_ha(tmp_path, cameras=cameras, run_sources=True,
                                 config={"tracking": {"stationary_s": 4.0}}) as eng:
            yield eng
    finally:
        server.stop()


@pytest.fixture
async def entry(hass: HomeAssistant, engine: RunningEngine) -> AsyncIterator[MockConfigEntry]:
    async with homesec_entry(hass, engine, options={"motion_reset_s": 30}) as loaded:
        await wait_ws_connected(hass, loaded)
        yield loaded


def _state(hass: HomeAssistant, entity_id: str) -> str | None:
    state = hass.states.get(entity_id)
    return None if state is None else state.state


async def test_vehicle_sensor_ignores_parked_cars_and_goes_quiet_once_an_arrival_parks(
    hass: HomeAssistant, entry: MockConfigEntry, engine: RunningEngine
) -> None:
    # Given the plaza with its van and car parked, and HA recording every state change
    changes = async_capture_events(hass, "state_changed")
    # When people walk in (the parked van and car in view all along)
    await wait_for(hass, lambda: _state(hass, "binary_sensor.plaza_person") == STATE_ON,
                   timeout=60)
    # Then the person sensor is on and the vehicle sensor is not
    assert _state(hass, "binary_sensor.plaza_vehicle") == STATE_OFF
    # When a motorcycle drives in a few seconds later
    # Then the vehicle sensor comes on
    await wait_for(hass, lambda: _state(hass, "binary_sensor.plaza_vehicle") == STATE_ON,
                   timeout=60)
    # And once it has stood still, it goes off again while people still walk (event on)
    await wait_for(hass, lambda: _state(hass, "binary_sensor.plaza_vehicle") == STATE_OFF,
                   timeout=60)
    assert _state(hass, "binary_sensor.plaza_person") == STATE_ON
    # And the camera's diagnostics count the standing vehicles (van, car, the motorcycle)
    tracks = engine.runtime.components()["camera:plaza"]["tracks"]
    assert tracks["stationary"] >= 3 and tracks["dropped_detections"] == 0
    # And the vehicle sensor went on exactly once (the parked van and car never raised it)
    vehicle = [c.data["new_state"] for c in changes
               if c.data["entity_id"] == "binary_sensor.plaza_vehicle"]
    assert [s.state for s in vehicle if isinstance(s, State)].count(STATE_ON) == 1
