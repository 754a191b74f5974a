"""HomeSec sensors: hub counters and health; per camera activity, risk, health, heartbeat and
the object counts of the latest alert."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from homeassistant.components.sensor import RestoreSensor, SensorDeviceClass
from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback
from homeassistant.helpers.typing import StateType
from homeassistant.util import dt as dt_util

from .alert_objects import alert_stationary
from .coordinator import HomeSecConfigEntry, HomeSecCoordinator
from .entity import HomeSecEntity, async_add_homesec_entities
from .generated.entity_descriptions import (
    SENSOR_DESCRIPTIONS,
    HomeSecSensorEntityDescription,
)

PARALLEL_UPDATES = 0  # read-only: values come from the coordinator

async def async_setup_entry(
    hass: HomeAssistant,
    entry: HomeSecConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Set up HomeSec sensors."""
    async_add_homesec_entities(entry, async_add_entities, SENSOR_DESCRIPTIONS, HomeSecSensor)


class HomeSecSensor(HomeSecEntity, RestoreSensor):
    """A sensor built from a generated description."""

    entity_description: HomeSecSensorEntityDescription

    def __init__(
        self,
        coordinator: HomeSecCoordinator,
        description: HomeSecSensorEntityDescription,
        camera: str | None,
        engine: str | None = None,
    ) -> None:
        super().__init__(coordinator, description, camera, engine)
        self.entity_description = description
        self._restored: StateType | datetime = None

    async def async_added_to_hass(self) -> None:
        await super().async_added_to_hass()
        if self.entity_description.restore and (
            last := await self.async_get_last_sensor_data()
        ):
            self._restored = last.native_value  # type: ignore[assignment]

    @property
    def native_value(self) -> StateType | datetime:
        value = self._engine_value()
        if value is None and self.entity_description.restore:
            # The restored (or last known) state stands until the engine's data says
            # otherwise: an engine restart forgets its last alert, the user should not.
            return self._restored
        return value

    @property
    def extra_state_attributes(self) -> dict[str, Any] | None:
        """A class count also says how many of the class stood still in the alert's clip (a
        parked car): counted apart, never what alerted."""
        detected_class = getattr(self.entity_description, "alert_class", None)
        camera = self.camera_data if detected_class else None
        alert = camera.get("last_alert") if camera else None
        if detected_class is None or alert is None:
            return None
        return {"stationary": alert_stationary(alert, detected_class)}

    def _engine_value(self) -> StateType | datetime:
        value: Any = self.value
        if value is None:
            return None
        if self.entity_description.device_class is SensorDeviceClass.TIMESTAMP:
            return dt_util.parse_datetime(str(value))
        if self.entity_description.device_class is SensorDeviceClass.ENUM:
            options = self.entity_description.options or []
            if value in options:
                return str(value)
            # An engine newer than this integration may send a new activity type.
            return "other" if "other" in options else None
        if isinstance(value, (int, float, str)):
            return value
        return None

    @callback
    def _handle_coordinator_update(self) -> None:
        if self.entity_description.restore and (value := self._engine_value()) is not None:
            self._restored = value
        super()._handle_coordinator_update()
