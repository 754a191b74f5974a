"""Repair issues: a configuration change waits for an engine restart (fixable in one click);
the clips' disk is critically low; offsite copies have failed for an hour; Home Assistant
has no URL a phone can open alert links on.

The coordinator reports the engine's /status after every poll; each issue exists while its
condition holds and is deleted once it does not.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from homeassistant.components.repairs import RepairsFlow
from homeassistant.config_entries import ConfigEntry, ConfigEntryState
from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers import issue_registry as ir
from homeassistant.util import dt as dt_util

from .compat import RepairsFlowResult, vol
from .api import HomeSecError
from .const import DOMAIN
from .views import async_phone_base_url

ISSUE_RESTART_REQUIRED = "restart_required"
ISSUE_DISK_CRITICAL = "disk_critical"
ISSUE_OFFSITE_FAILING = "offsite_failing"
ISSUE_NO_PHONE_URL = "no_phone_url"
OFFSITE_FAILING_FOR = timedelta(hours=1)


def _issue_id(entry_id: str) -> str:
    return f"{ISSUE_RESTART_REQUIRED}_{entry_id}"


@callback
def async_update_restart_issue(
    hass: HomeAssistant, entry: ConfigEntry[Any], restart_required: bool
) -> None:
    """Create the issue while a restart is pending; delete it once it is not."""
    issue_id = _issue_id(entry.entry_id)
    if not restart_required:
        ir.async_delete_issue(hass, DOMAIN, issue_id)
        return
    ir.async_create_issue(
        hass,
        DOMAIN,
        issue_id,
        is_fixable=True,
        is_persistent=False,
        severity=ir.IssueSeverity.WARNING,
        translation_key=ISSUE_RESTART_REQUIRED,
        translation_placeholders={"title": entry.title},
        data={"entry_id": entry.entry_id},
    )


async def async_after_change(
    hass: HomeAssistant, entry: ConfigEntry[Any], restart_required: bool
) -> None:
    """After a change the engine accepted (a service, the options flow): show a restart it
    needs at once; then poll, so entities catch up and the issue follows the engine's own
    pending-restart flag (an earlier change may still wait)."""
    if restart_required:
        async_update_restart_issue(hass, entry, True)
    await entry.runtime_data.coordinator.async_request_refresh()


@callback
def async_update_storage_issues(
    hass: HomeAssistant, entry: ConfigEntry[Any], storage: dict[str, Any] | None
) -> None:
    """Raise or clear the disk-critical and offsite-failing issues from /status `storage`."""
    storage = storage or {}
    disk_id = f"{ISSUE_DISK_CRITICAL}_{entry.entry_id}"
    free, total = storage.get("disk_free_bytes"), storage.get("disk_total_bytes")
    if storage.get("disk_critical") and isinstance(free, int) and total:
        ir.async_create_issue(
            hass, DOMAIN, disk_id, is_fixable=False, is_persistent=False,
            severity=ir.IssueSeverity.CRITICAL, translation_key=ISSUE_DISK_CRITICAL,
            translation_placeholders={"title": entry.title,
                                      "free_percent": f"{free * 100 / total:.1f}"},
        )
    else:
        ir.async_delete_issue(hass, DOMAIN, disk_id)
    offsite_id = f"{ISSUE_OFFSITE_FAILING}_{entry.entry_id}"
    since = dt_util.parse_datetime(str(storage.get("offsite_failing_since") or ""))
    if since is not None and dt_util.utcnow() - since >= OFFSITE_FAILING_FOR:
        ir.async_create_issue(
            hass, DOMAIN, offsite_id, is_fixable=False, is_persistent=False,
            severity=ir.IssueSeverity.ERROR, translation_key=ISSUE_OFFSITE_FAILING,
            translation_placeholders={
                "title": entry.title, "since": dt_util.as_local(since).strftime("%Y-%m-%d %H:%M"),
                "backlog": str(storage.get("offsite_backlog") or 0),
                "error": str(storage.get("offsite_error") or "unknown"),
            },
        )
    else:
        ir.async_delete_issue(hass, DOMAIN, offsite_id)


@callback
def async_update_url_issue(hass: HomeAssistant) -> None:
    """Raise the issue while alert links could only open on this machine; clear it after."""
    if async_phone_base_url(hass) is not None:
        ir.async_delete_issue(hass, DOMAIN, ISSUE_NO_PHONE_URL)
        return
    ir.async_create_issue(
        hass, DOMAIN, ISSUE_NO_PHONE_URL, is_fixable=False, is_persistent=False,
        severity=ir.IssueSeverity.WARNING, translation_key=ISSUE_NO_PHONE_URL,
        translation_placeholders={
            "external": hass.config.external_url or "-",
            "internal": hass.config.internal_url or "-"},
    )


class RestartEngineRepairFlow(RepairsFlow):
    """Confirm, then ask the engine for a graceful restart."""

    def __init__(self, entry_id: str) -> None:
        """Remember which engine to restart."""
        self._entry_id = entry_id

    async def async_step_init(
        self, user_input: dict[str, str] | None = None
    ) -> RepairsFlowResult:
        """Go straight to the confirmation."""
        return await self.async_step_confirm()

    async def async_step_confirm(
        self, user_input: dict[str, str] | None = None
    ) -> RepairsFlowResult:
        """Show the confirmation; on submit restart the engine and clear the issue."""
        errors: dict[str, str] = {}
        if user_input is not None:
            entry = self.hass.config_entries.async_get_entry(self._entry_id)
            if entry is None or entry.state is not ConfigEntryState.LOADED:
                return self.async_abort(reason="not_loaded")
            try:
                await entry.runtime_data.client.restart()
            except HomeSecError:
                errors["base"] = "cannot_connect"
            else:
                ir.async_delete_issue(self.hass, DOMAIN, _issue_id(self._entry_id))
                return self.async_create_entry(data={})
        issue = ir.async_get(self.hass).async_get_issue(DOMAIN, self.issue_id)
        return self.async_show_form(
            step_id="confirm",
            data_schema=vol.Schema({}),
            errors=errors,
            description_placeholders=issue.translation_placeholders if issue else None,
        )


async def async_create_fix_flow(
    hass: HomeAssistant,
    issue_id: str,
    data: dict[str, str | int | float | None] | None,
) -> RepairsFlow:
    """Create the fix flow for a restart_required issue."""
    entry_id = (data or {}).get("entry_id")
    if not isinstance(entry_id, str):
        raise ValueError(f"issue {issue_id} carries no entry_id")
    return RestartEngineRepairFlow(entry_id)
