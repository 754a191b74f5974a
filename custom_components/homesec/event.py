"""HomeSec event entity: one per camera, firing on each alert with its activity type, and
`started` / `ended` for each live event (ended also when it was interrupted), the summary
and clip link arriving with `ended`."""

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

# The camera's name is there for service calls (homesec.silence_camera) made from automations.
_EVENT_FIELDS = ("camera", "clip_id", "risk_level", "summary", "detected_objects", "zones",
                 "timestamp", "tier")
_LIVE_FIELDS = ("camera", "clip_id", "risk_level", "summary", "detected_objects", "zones",
                "started_at", "ended_at", "duration_s", "end_reason", "activity_type", "tier")


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
        self.async_on_remove(
            async_dispatcher_connect(
                self.hass, self.coordinator.signal_live_event, self._handle_live_event
            )
        )

    @callback
    def _handle_live_event(self, camera: str, event: dict[str, Any]) -> None:
        phase = event.get("phase")
        if camera != self.camera_name or phase == "updated":
            return
        attributes = {key: event.get(key) for key in _LIVE_FIELDS}
        attributes.update(
            async_signed_alert_urls(
                self.hass, self.coordinator.config_entry.entry_id, str(event["clip_id"])
            )
        )
        self._trigger_event("started" if phase == "started" else "ended", attributes)
        self.async_write_ha_state()

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
