"""HomeSec binary sensors: motion, person, vehicle, animal (driven by alerts), online (health)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from homeassistant.components.binary_sensor import BinarySensorEntity
from homeassistant.core import CALLBACK_TYPE, HomeAssistant, callback
from homeassistant.helpers.dispatcher import async_dispatcher_connect
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback
from homeassistant.helpers.event import async_call_later
from homeassistant.util import dt as dt_util

from .const import CONF_MOTION_RESET, DEFAULT_MOTION_RESET_S, EVENT_SAFETY_NET_S
from .coordinator import HomeSecConfigEntry, HomeSecCoordinator
from .entity import HomeSecEntity, async_add_homesec_entities
from .value_functions import alert_matches
from .generated.entity_descriptions import (
    BINARY_SENSOR_DESCRIPTIONS,
    HomeSecBinarySensorEntityDescription,
)

PARALLEL_UPDATES = 0  # read-only: values come from the coordinator and live alerts


async def async_setup_entry(
    hass: HomeAssistant,
    entry: HomeSecConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Set up HomeSec binary sensors."""
    async_add_homesec_entities(
        entry, async_add_entities, BINARY_SENSOR_DESCRIPTIONS, HomeSecBinarySensor
    )


class HomeSecBinarySensor(HomeSecEntity, BinarySensorEntity):
    """Push sensors turn on at an alert (of their class, if any) and off after the reset time."""

    entity_description: HomeSecBinarySensorEntityDescription

    def __init__(
        self,
        coordinator: HomeSecCoordinator,
        description: HomeSecBinarySensorEntityDescription,
        camera: str | None,
    ) -> None:
        super().__init__(coordinator, description, camera)
        self.entity_description = description
        self._push_on = False
        self._cancel_reset: CALLBACK_TYPE | None = None
        self._event_clip: str | None = None  # the live event that holds it on

    @property
    def _reset_seconds(self) -> float:
        options = self.coordinator.config_entry.options
        return float(options.get(CONF_MOTION_RESET, DEFAULT_MOTION_RESET_S))

    async def async_added_to_hass(self) -> None:
        await super().async_added_to_hass()
        if not self.entity_description.push:
            return
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
        self.async_on_remove(self._cancel_timer)
        # An alert younger than the reset time (e.g. just before a reload) keeps it on.
        camera = self.camera_data
        alert = camera["last_alert"] if camera else None
        if alert and (when := dt_util.parse_datetime(alert["timestamp"])):
            remaining = self._reset_seconds - (dt_util.utcnow() - when).total_seconds()
            if remaining > 0:
                self._turn_on(dict(alert), remaining)

    @callback
    def _handle_live_event(self, camera: str, event: dict[str, Any]) -> None:
        """On while the event has an active object of its class; the reset time is not used."""
        if camera != self.camera_name:
            return
        clip_id = event.get("clip_id")
        if event.get("phase") in ("started", "updated"):
            # The classes of the objects moving now: a car that parked drops out, and its
            # class sensor goes off while the event goes on (older engines: every class).
            active = event.get("active_classes", event.get("detected_objects")) or []
            if not alert_matches(self.entity_description.alert_class,
                                 {"detected_objects": active}):
                if clip_id != self._event_clip:
                    return
                self._event_clip = None
                self._cancel_timer()
                self._push_on = False
                self.async_write_ha_state()
                return
            self._event_clip = clip_id
            self._cancel_timer()
            self._push_on = True
            self._cancel_reset = async_call_later(self.hass, EVENT_SAFETY_NET_S, self._reset)
        elif clip_id == self._event_clip:  # ended or interrupted
            self._event_clip = None
            self._cancel_timer()
            self._push_on = False
        else:
            return
        self.async_write_ha_state()

    @callback
    def _handle_alert(self, camera: str, alert: dict[str, Any]) -> None:
        if camera != self.camera_name:
            return
        if self._event_clip is not None and alert.get("clip_id") == self._event_clip:
            return  # the alert of a live event: its end turns the sensor off
        self._turn_on(alert, self._reset_seconds)
        self.async_write_ha_state()

    @callback
    def _turn_on(self, alert: dict[str, Any], seconds: float) -> None:
        on = alert_matches(self.entity_description.alert_class, alert)
        self._cancel_timer()
        self._push_on = on
        if on:
            self._cancel_reset = async_call_later(self.hass, seconds, self._reset)

    @callback
    def _reset(self, _now: datetime) -> None:
        self._cancel_reset = None
        self._event_clip = None
        self._push_on = False
        self.async_write_ha_state()

    @callback
    def _cancel_timer(self) -> None:
        if self._cancel_reset is not None:
            self._cancel_reset()
            self._cancel_reset = None

    @property
    def is_on(self) -> bool | None:
        if self.entity_description.push:
            return self._push_on
        value = self.value
        return None if value is None else bool(value)
