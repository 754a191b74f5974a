"""HomeSec event entity: one per camera, firing on each alert with its activity type."""

from __future__ import annotations

from typing import Any

from homeassistant.components.event import EventEntity
from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers.dispatcher import async_dispatcher_connect
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .coordinator import HomeSecConfigEntry, HomeSecCoordinator
from .entity import HomeSecEntity, async_add_homesec_entities
from .generated.entity_descriptions import (
    EVENT_DESCRIPTIONS,
    HomeSecEventEntityDescription,
)
from .views import async_signed_alert_urls

PARALLEL_UPDATES = 0  # push only

_EVENT_FIELDS = ("clip_id", "risk_level", "summary", "detected_objects", "timestamp")


async def async_setup_entry(
    hass: HomeAssistant,
    entry: HomeSecConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Set up HomeSec event entities."""
    async_add_homesec_entities(entry, async_add_entities, EVENT_DESCRIPTIONS, HomeSecEvent)


class HomeSecEvent(HomeSecEntity, EventEntity):
    """Fires `<activity type>` with the alert's details for each new alert."""

    entity_description: HomeSecEventEntityDescription

    def __init__(
        self,
        coordinator: HomeSecCoordinator,
        description: HomeSecEventEntityDescription,
        camera: str | None,
    ) -> None:
        super().__init__(coordinator, description, camera)
        self.entity_description = description

    async def async_added_to_hass(self) -> None:
        await super().async_added_to_hass()
        self.async_on_remove(
            async_dispatcher_connect(
                self.hass, self.coordinator.signal_alert, self._handle_alert
            )
        )

    @callback
    def _handle_alert(self, camera: str, alert: dict[str, Any]) -> None:
        if camera != self.camera_name:
            return
        types = self.entity_description.event_types or []
        activity = alert.get("activity_type")
        event_type = activity if activity in types else "other"
        attributes = {key: alert.get(key) for key in _EVENT_FIELDS}
        attributes.update(
            async_signed_alert_urls(
                self.hass, self.coordinator.config_entry.entry_id, str(alert["clip_id"])
            )
        )
        self._trigger_event(str(event_type), attributes)
        self.async_write_ha_state()
