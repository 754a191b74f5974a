"""A configured, enabled camera that cannot start makes the engine `degraded`, naming it, and
Home Assistant shows it (issue 22, item 3)."""

from __future__ import annotations

from typing import Any

import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from homeassistant.core import HomeAssistant
from tests.engine_harness import RunningEngine

from .conftest import CAMERAS


@pytest.fixture
def cameras() -> list[dict[str, Any]]:
    # The demo front door, and a porch camera whose stream URL variable nobody set
    return [dict(CAMERAS[0]), {"name": "porch", "enabled": True, "source_backend": "rtsp",
                               "source_config": {"url_env": "HOMESEC_IT_PORCH_URL_UNSET"}}]


async def test_a_camera_that_cannot_start_makes_health_degraded_and_ha_shows_it(
    hass: HomeAssistant, engine: RunningEngine, config_entry: MockConfigEntry,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Given the engine starts its cameras and the porch's URL variable is unset
    monkeypatch.delenv("HOMESEC_IT_PORCH_URL_UNSET", raising=False)
    runtime = engine.runtime
    assert await runtime.start_camera("front_door")
    assert not await runtime.start_camera("porch")
    try:
        # When Home Assistant polls the engine
        config_entry.add_to_hass(hass)
        assert await hass.config_entries.async_setup(config_entry.entry_id)
        await hass.async_block_till_done()
        # Then the engine's health is degraded in Home Assistant
        assert hass.states.get("sensor.homesec_system_health").state == "degraded"
        # And the camera that did not start reads offline, the working one online
        assert hass.states.get("sensor.porch_health").state == "offline"
        assert hass.states.get("sensor.front_door_health").state == "online"
        # And /health names it with the variable to set
        health = await config_entry.runtime_data.coordinator.client.get_health()
        assert health["status"] == "degraded"
        assert list(health["cameras_down"]) == ["porch"]
        assert "HOMESEC_IT_PORCH_URL_UNSET" in health["cameras_down"]["porch"]
        await hass.config_entries.async_unload(config_entry.entry_id)
    finally:
        await runtime.stop_camera("front_door")
