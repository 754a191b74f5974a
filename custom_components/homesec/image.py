"""HomeSec image entity: the snapshot of a camera's last alert."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from homeassistant.components.image import ImageEntity
from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback
from homeassistant.helpers.restore_state import RestoreEntity
from homeassistant.util import dt as dt_util

from .api import HomeSecError
from .const import LOGGER
from .coordinator import HomeSecConfigEntry, HomeSecCoordinator
from .entity import HomeSecEntity, async_add_homesec_entities
from .generated.entity_descriptions import (
    IMAGE_DESCRIPTIONS,
    HomeSecImageEntityDescription,
)

PARALLEL_UPDATES = 1  # snapshots are fetched from the engine one at a time

ATTR_CLIP_ID = "clip_id"


async def async_setup_entry(
    hass: HomeAssistant,
    entry: HomeSecConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Set up HomeSec image entities."""
    async_add_homesec_entities(entry, async_add_entities, IMAGE_DESCRIPTIONS, HomeSecImage)


class HomeSecImage(HomeSecEntity, ImageEntity, RestoreEntity):
    """The last alert's snapshot, fetched through the API client and cached per clip."""

    entity_description: HomeSecImageEntityDescription
    _attr_content_type = "image/jpeg"

    def __init__(
        self,
        coordinator: HomeSecCoordinator,
        description: HomeSecImageEntityDescription,
        camera: str | None,
    ) -> None:
        super().__init__(coordinator, description, camera)
        ImageEntity.__init__(self, coordinator.hass)
        self.entity_description = description
        self._clip_id: str | None = None
        self._cached: tuple[str, bytes] | None = None
        self._sync_from_data()

    async def async_added_to_hass(self) -> None:
        await super().async_added_to_hass()
        if self._clip_id is None and (last := await self.async_get_last_state()):
            # The engine does not know the last alert (yet): show the one from before.
            clip_id = last.attributes.get(ATTR_CLIP_ID)
            when = dt_util.parse_datetime(last.state)
            if isinstance(clip_id, str) and when is not None:
                self._clip_id = clip_id
                self._attr_image_last_updated = when

    @callback
    def _sync_from_data(self) -> None:
        camera = self.camera_data
        alert = camera["last_alert"] if camera else None
        if not alert or alert["clip_id"] == self._clip_id:
            return
        self._clip_id = alert["clip_id"]
        self._attr_image_last_updated = dt_util.parse_datetime(alert["timestamp"])

    @callback
    def _handle_coordinator_update(self) -> None:
        self._sync_from_data()
        super()._handle_coordinator_update()

    @property
    def extra_state_attributes(self) -> dict[str, Any]:
        return {ATTR_CLIP_ID: self._clip_id}

    async def async_image(self) -> bytes | None:
        clip_id = self._clip_id
        if clip_id is None:
            return None
        if self._cached is not None and self._cached[0] == clip_id:
            return self._cached[1]
        try:
            data = await self.coordinator.client.get_clip_snapshot(clip_id)
        except HomeSecError as err:
            LOGGER.debug("No snapshot for clip %s: %s", clip_id, err)
            return None
        self._cached = (clip_id, data)
        return data

    @property
    def image_last_updated(self) -> datetime | None:
        return self._attr_image_last_updated
