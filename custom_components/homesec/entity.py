"""Base entity of HomeSec and the helper that adds entities for cameras as they appear."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any, Protocol

from homeassistant.core import callback
from homeassistant.exceptions import HomeAssistantError
from homeassistant.helpers.device_registry import DeviceInfo
from homeassistant.helpers.entity import Entity
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback
from homeassistant.helpers.update_coordinator import CoordinatorEntity

from .api import (
    HomeSecConflictError,
    HomeSecConnectionError,
    HomeSecError,
    HomeSecNotFoundError,
)
from .compat import child_device_info
from .const import DOMAIN, MANUFACTURER
from .coordinator import (
    HomeSecConfigEntry,
    HomeSecCoordinator,
    camera_device_identifier,
    engine_device_identifier,
)
from .generated.api_models import CameraStatus, ClusterEngine
from .value_functions import AVAILABLE_FUNCTIONS, VALUE_FUNCTIONS


class HomeSecSpec(Protocol):
    """What every generated HomeSec entity description carries."""

    @property
    def key(self) -> str: ...

    @property
    def scope(self) -> str: ...

    @property
    def value_path(self) -> tuple[str, ...]: ...

    @property
    def value_fn(self) -> str | None: ...

    @property
    def available_fn(self) -> str | None: ...


def read_path(data: Any, path: Iterable[str]) -> Any:
    """Follow a description's value_path into the /status data; None when absent."""
    for part in path:
        if not isinstance(data, dict):
            return None
        data = data.get(part)
    return data


def hub_device_info(coordinator: HomeSecCoordinator) -> DeviceInfo:
    """The hub device: the engine itself."""
    entry = coordinator.config_entry
    health = coordinator.current["health"] if coordinator.current else None
    return DeviceInfo(
        identifiers={(DOMAIN, entry.entry_id)},
        name=entry.title,
        manufacturer=MANUFACTURER,
        model="HomeSec engine",
        sw_version=health["version"] if health else None,
        configuration_url=coordinator.client.base_url,
    )


class HomeSecEntity(CoordinatorEntity[HomeSecCoordinator]):
    """A hub entity (camera None), a camera entity, or (cluster mode) an engine entity,
    reading its value by value_path."""

    _attr_has_entity_name = True

    def __init__(
        self,
        coordinator: HomeSecCoordinator,
        spec: HomeSecSpec,
        camera: str | None,
        engine: str | None = None,
    ) -> None:
        super().__init__(coordinator)
        self._spec = spec
        self.camera_name = camera
        self.engine_id = engine
        entry = coordinator.config_entry
        entry_id = entry.entry_id
        if engine is not None:
            self._attr_unique_id = f"{entry_id}-engine-{engine}_{spec.key}"
            self._attr_device_info = child_device_info(
                coordinator.hub_device_id or "",
                (DOMAIN, entry_id),
                identifiers={engine_device_identifier(entry_id, engine)},
                name=f"Engine {engine}",
                manufacturer=MANUFACTURER,
                model="HomeSec engine",
            )
        elif camera is None:
            self._attr_unique_id = f"{entry_id}_{spec.key}"
            self._attr_device_info = hub_device_info(coordinator)
        else:
            self._attr_unique_id = f"{entry_id}_{camera}_{spec.key}"
            cam = coordinator.camera(camera)
            self._attr_device_info = child_device_info(
                coordinator.hub_device_id or "",
                (DOMAIN, entry_id),
                identifiers={camera_device_identifier(entry_id, camera)},
                name=camera.replace("_", " ").capitalize(),  # front_door -> Front door
                manufacturer=MANUFACTURER,
                model=f"{cam['source_backend']} camera" if cam else "Camera",
            )

    @property
    def camera_data(self) -> CameraStatus | None:
        """This entity's camera in the current data (None for hub entities)."""
        if self.camera_name is None:
            return None
        return self.coordinator.camera(self.camera_name)

    @property
    def engine_data(self) -> ClusterEngine | None:
        """This entity's engine as the cluster last listed it (None when not listed)."""
        if self.engine_id is None:
            return None
        return self.coordinator.engine(self.engine_id)

    @property
    def value(self) -> Any:
        """The entity's value: its spec's named value function, else the value at its path."""
        if self._spec.value_fn is not None:
            return VALUE_FUNCTIONS[self._spec.value_fn](self)
        return self.raw_value

    @property
    def raw_value(self) -> Any:
        """The value at the description's value_path."""
        if self.engine_id is not None:
            return read_path(self.engine_data, self._spec.value_path)
        if self.camera_name is None:
            return read_path(self.coordinator.current, self._spec.value_path)
        return read_path(self.camera_data, self._spec.value_path)

    @property
    def available(self) -> bool:
        """Engine reachable, and for camera entities: the camera still exists."""
        if self._spec.available_fn is not None:
            return AVAILABLE_FUNCTIONS[self._spec.available_fn](self)
        if not super().available:
            return False
        if self.engine_id is not None:  # an engine that stopped renewing is not listed
            return self.engine_data is not None
        return self.camera_name is None or self.camera_data is not None


@callback
def async_add_homesec_entities(
    entry: HomeSecConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
    descriptions: Iterable[Any],
    factory: Callable[..., Entity],
) -> None:
    """Add hub entities now and camera entities for every camera, now and when one appears;
    in cluster mode, engine entities for every engine the cluster lists, once each.

    Cameras that disappear are forgotten, so the same name coming back gets entities again
    (the coordinator removes the stale device together with its entities). An engine that
    stops renewing keeps its entities, unavailable, so its death shows.
    """
    coordinator = entry.runtime_data.coordinator
    specs = list(descriptions)
    waiting = [spec for spec in specs if spec.scope == "hub"]  # hub entities not added yet
    camera_specs = [spec for spec in specs if spec.scope == "camera"]
    known: set[str] = set()

    @callback
    def _sync_hub() -> None:
        ready = [spec for spec in waiting if spec.created_when is None
                 or read_path(coordinator.current, spec.created_when)]
        if ready:
            waiting[:] = [spec for spec in waiting if spec not in ready]
            async_add_entities(factory(coordinator, spec, None) for spec in ready)

    @callback
    def _sync() -> None:
        _sync_hub()
        _sync_cameras()

    @callback
    def _sync_cameras() -> None:
        if not coordinator.complete or coordinator.current is None:
            return  # the camera list is not known yet
        current = set(coordinator.camera_names)
        new = current - known
        known.intersection_update(current)
        known.update(new)
        if new and camera_specs:
            async_add_entities(
                factory(coordinator, spec, name)
                for name in sorted(new)
                for spec in camera_specs
            )

    engine_specs = [spec for spec in specs if spec.scope == "engine"]
    engines_known: set[str] = set()

    @callback
    def _sync_engines() -> None:
        new = set(coordinator.engine_ids) - engines_known
        engines_known.update(new)
        if new and engine_specs:
            async_add_entities(
                factory(coordinator, spec, None, engine=engine_id)
                for engine_id in sorted(new)
                for spec in engine_specs
            )

    _sync()
    _sync_engines()
    entry.async_on_unload(coordinator.async_add_listener(_sync))
    entry.async_on_unload(coordinator.async_add_listener(_sync_engines))


async def async_set_camera_enabled(
    coordinator: HomeSecCoordinator, name: str, enabled: bool
) -> None:
    """Switch a camera on or off in the engine (the switch and the camera entity)."""
    data = coordinator.current
    config_version = data["config_version"] if data else None
    try:
        result = await coordinator.client.update_camera(
            name,
            {"enabled": enabled, "config_version": config_version or None},
        )
    except HomeSecConflictError as err:
        # Someone changed the config since our last poll: show the newer state.
        await coordinator.async_request_refresh()
        raise HomeAssistantError(
            translation_domain=DOMAIN, translation_key="config_version_conflict"
        ) from err
    except HomeSecNotFoundError as err:
        raise HomeAssistantError(
            translation_domain=DOMAIN,
            translation_key="camera_not_found",
            translation_placeholders={"name": name},
        ) from err
    except HomeSecConnectionError as err:
        raise HomeAssistantError(
            translation_domain=DOMAIN,
            translation_key="cannot_connect",
            translation_placeholders={"error": str(err)},
        ) from err
    except HomeSecError as err:
        raise HomeAssistantError(
            translation_domain=DOMAIN,
            translation_key="unexpected_error",
            translation_placeholders={"error": str(err)},
        ) from err
    coordinator.async_apply_camera_change(name, enabled, result["config_version"])
    await coordinator.async_request_refresh()
