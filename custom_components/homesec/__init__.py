"""The HomeSec integration: the engine's cameras, alerts and clips in Home Assistant."""

from __future__ import annotations

from homeassistant.const import CONF_HOST, CONF_PORT
from homeassistant.core import HomeAssistant
from homeassistant.helpers import config_validation as cv
from homeassistant.helpers import device_registry as dr
from homeassistant.helpers.aiohttp_client import async_get_clientsession
from homeassistant.helpers.typing import ConfigType

from .api import HomeSecClient
from .const import (
    CONF_API_KEY,
    CONF_SSL,
    CONF_VERIFY_SSL,
    DEFAULT_PORT,
    DOMAIN,
    PLATFORMS,
)
from .coordinator import (
    HomeSecConfigEntry,
    HomeSecCoordinator,
    HomeSecData,
    camera_device_identifier,
    engine_device_identifier,
)
from .entity import hub_device_info
from .llm import async_register_fallback_api
from .panel import async_register_panel_views, async_setup_sidebar_panel
from .services import async_setup_services
from .views import async_register_views

CONFIG_SCHEMA = cv.config_entry_only_config_schema(DOMAIN)


async def async_setup(hass: HomeAssistant, config: ConfigType) -> bool:
    """Register the services, the signed-media and panel views (and on older HA the LLM
    API) once."""
    async_setup_services(hass)
    await async_register_views(hass)
    await async_register_panel_views(hass)
    async_register_fallback_api(hass)
    return True


async def async_setup_entry(hass: HomeAssistant, entry: HomeSecConfigEntry) -> bool:
    """Connect to the engine, poll it once, start the live stream, add the platforms.

    An unreachable engine raises ConfigEntryNotReady (HA retries); a refused key raises
    ConfigEntryAuthFailed (HA starts reauth) — both from the first refresh.
    """
    client = HomeSecClient(
        async_get_clientsession(hass, verify_ssl=entry.data.get(CONF_VERIFY_SSL, True)),
        entry.data[CONF_HOST],
        int(entry.data.get(CONF_PORT, DEFAULT_PORT)),
        entry.data.get(CONF_API_KEY, ""),
        ssl=entry.data.get(CONF_SSL, False),
    )
    coordinator = HomeSecCoordinator(hass, entry, client)
    await coordinator.async_config_entry_first_refresh()
    entry.runtime_data = HomeSecData(client=client, coordinator=coordinator)
    coordinator.async_start_live_updates()
    # The hub device first: camera devices hang off it.
    hub = dr.async_get(hass).async_get_or_create(
        config_entry_id=entry.entry_id, **hub_device_info(coordinator)
    )
    coordinator.hub_device_id = hub.id
    await hass.config_entries.async_forward_entry_setups(entry, PLATFORMS)
    await async_setup_sidebar_panel(hass, entry)
    return True


async def async_unload_entry(hass: HomeAssistant, entry: HomeSecConfigEntry) -> bool:
    """Unload the platforms; the event stream, bus listener and timers stop with them."""
    return await hass.config_entries.async_unload_platforms(entry, PLATFORMS)


async def async_remove_config_entry_device(
    hass: HomeAssistant, entry: HomeSecConfigEntry, device: dr.DeviceEntry
) -> bool:
    """Allow removing a camera device the installation no longer has, or the device of an
    engine that is not running now (cluster mode); never the hub."""
    entry_id = entry.entry_id
    if (DOMAIN, entry_id) in device.identifiers:
        return False
    coordinator = entry.runtime_data.coordinator
    present = {camera_device_identifier(entry_id, name) for name in coordinator.camera_names}
    present |= {engine_device_identifier(entry_id, engine) for engine in coordinator.engine_ids}
    return not device.identifiers & present
