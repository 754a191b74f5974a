"""Config entry diagnostics for HomeSec; the API key and any token never leave."""

from __future__ import annotations

from typing import Any, Final

from homeassistant.components.diagnostics import async_redact_data
from homeassistant.core import HomeAssistant

from .const import CONF_API_KEY
from .coordinator import HomeSecConfigEntry

# The host stays: it is what a maintainer needs to read a connection problem, and an
# engine's LAN address is not a credential. Keys, tokens and signed URLs are redacted.
TO_REDACT: Final = {
    CONF_API_KEY,
    "token",
    "access_token",
    "authorization",
    "password",
    "secret",
    "snapshot_url",
    "clip_url",
    "access_key_id",
    "secret_access_key",
}
_OFFSITE_KEYS: Final = ("offsite_enabled", "offsite_backlog", "offsite_error",
                        "offsite_failing_since")


async def async_get_config_entry_diagnostics(
    hass: HomeAssistant, entry: HomeSecConfigEntry
) -> dict[str, Any]:
    """Return the entry, the client's connection state and the coordinator data."""
    data = entry.runtime_data
    coordinator = data.coordinator
    client = data.client
    storage: dict[str, Any] = dict(coordinator.data.get("storage") or {})
    return async_redact_data(
        {
            "entry": {
                "title": entry.title,
                "data": dict(entry.data),
                "options": dict(entry.options),
            },
            "client": {
                "base_url": client.base_url,
                "circuit_breaker": client.breaker.state,
                "consecutive_failures": client.breaker.failures,
                "requests_sent": client.request_count,
            },
            # Offsite health as the engine reported it in its last /status.
            "offsite": {key: storage.get(key) for key in _OFFSITE_KEYS},
            "coordinator": {
                "last_update_success": coordinator.last_update_success,
                "update_interval_s": (
                    coordinator.update_interval.total_seconds()
                    if coordinator.update_interval
                    else None
                ),
                "database_available": coordinator.database_available,
                "complete": coordinator.complete,
                "event_stream_connected": coordinator.ws_connected,
                "alerts_applied": coordinator.alerts_applied,
                "data": coordinator.data,
            },
        },
        TO_REDACT,
    )
