"""HomeSec switch: a camera's `enabled` flag (PUT /cameras/{name})."""

from __future__ import annotations

from typing import Any

from homeassistant.components.switch import SwitchEntity
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .coordinator import HomeSecConfigEntry, HomeSecCoordinator
from .entity import HomeSecEntity, async_add_homesec_entities, async_set_camera_enabled
from .generated.entity_descriptions import (
    SWITCH_DESCRIPTIONS,
    HomeSecSwitchEntityDescription,
)

PARALLEL_UPDATES = 1  # one config change at a time: the engine versions its config


async def async_setup_entry(
    hass: HomeAssistant,
    entry: HomeSecConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Set up HomeSec switches."""
    async_add_homesec_entities(entry, async_add_entities, SWITCH_DESCRIPTIONS, HomeSecSwitch)


class HomeSecSwitch(HomeSecEntity, SwitchEntity):
    """Turns a camera on or off in the engine's configuration."""

    entity_description: HomeSecSwitchEntityDescription

    def __init__(
        self,
        coordinator: HomeSecCoordinator,
        description: HomeSecSwitchEntityDescription,
        camera: str | None,
    ) -> None:
        super().__init__(coordinator, description, camera)
        self.entity_description = description

    @property
    def is_on(self) -> bool | None:
        value = self.raw_value
        return None if value is None else bool(value)

    async def async_turn_on(self, **kwargs: Any) -> None:
        await self._set_enabled(True)

    async def async_turn_off(self, **kwargs: Any) -> None:
        await self._set_enabled(False)

    async def _set_enabled(self, enabled: bool) -> None:
        await async_set_camera_enabled(self.coordinator, self.camera_name or "", enabled)
