"""Config flow of HomeSec: Supervisor discovery, manual set-up, reauth, reconfigure, options."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


from homeassistant.config_entries import (
    SOURCE_USER,
    ConfigEntryState,
    ConfigFlow,
    ConfigFlowResult,
    OptionsFlowWithReload,
)
from homeassistant.const import CONF_HOST, CONF_PORT
from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers.aiohttp_client import async_get_clientsession
from homeassistant.helpers.service_info.hassio import HassioServiceInfo

from .api import (
    HomeSecAuthenticationError,
    HomeSecClient,
    HomeSecConnectionError,
    HomeSecDataValidationError,
    HomeSecError,
)
from .const import (
    CONF_API_KEY,
    CONF_SSL,
    CONF_VERIFY_SSL,
    DEFAULT_PORT,
    DOMAIN,
    LOGGER,
)
from .coordinator import HomeSecConfigEntry
from .form import form_schema, validate_form
from .generated.schema_data import MODELS
from .panel import CONF_SIDEBAR_PANEL, sidebar_panel_wanted
from .repairs import async_after_change

TITLE = "HomeSec"
USER_FIELDS = (CONF_HOST, CONF_PORT, CONF_API_KEY, CONF_VERIFY_SSL, CONF_SSL)
RECONFIGURE_FIELDS = (CONF_HOST, CONF_PORT, CONF_SSL, CONF_VERIFY_SSL)
OPTIONS_MENU = ["integration", "engine"]


async def async_check_connection(hass: HomeAssistant, data: Mapping[str, Any]) -> str | None:
    """Ask the engine for /status with these settings; None when it works, else an error key."""
    client = HomeSecClient(
        async_get_clientsession(hass, verify_ssl=bool(data.get(CONF_VERIFY_SSL, True))),
        str(data[CONF_HOST]),
        int(data.get(CONF_PORT, DEFAULT_PORT)),
        str(data.get(CONF_API_KEY, "")),
        ssl=bool(data.get(CONF_SSL, False)),
        attempts=1,  # the user is waiting: one honest try
    )
    try:
        await client.get_status()
    except HomeSecAuthenticationError:
        return "invalid_auth"
    except HomeSecConnectionError:
        return "cannot_connect"
    except HomeSecError:
        LOGGER.exception("The HomeSec engine answered unexpectedly")
        return "unknown"
    except Exception:  # noqa: BLE001 - the flow shows "unknown" instead of a crash
        LOGGER.exception("Unexpected error while checking the HomeSec engine")
        return "unknown"
    return None


def _unique_id(host: str, port: int) -> str:
    return f"{host}:{port}"


class HomeSecConfigFlow(ConfigFlow, domain=DOMAIN):
    """Set up one HomeSec engine."""

    VERSION = 1
    MINOR_VERSION = 1

    _discovery: dict[str, Any]
    _addon_name: str

    @staticmethod
    @callback
    def async_get_options_flow(config_entry: HomeSecConfigEntry) -> HomeSecOptionsFlow:
        """Options: this integration's, and the engine's settings users tune most."""
        return HomeSecOptionsFlow()

    # -- manual --------------------------------------------------------------------------

    async def async_step_user(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Host, port, API key and TLS settings, checked with a real request."""
        errors: dict[str, str] = {}
        if user_input is not None:
            data, errors = validate_form("Connection", user_input)
            if not errors:
                await self.async_set_unique_id(_unique_id(data[CONF_HOST], data[CONF_PORT]))
                self._abort_if_unique_id_configured()
                if (error := await async_check_connection(self.hass, data)) is None:
                    return self.async_create_entry(title=TITLE, data=data)
                errors["base"] = error
        return self.async_show_form(
            step_id="user",
            data_schema=form_schema("Connection", USER_FIELDS, user_input),
            errors=errors,
        )

    # -- Supervisor discovery ------------------------------------------------------------------

    async def async_step_hassio(self, discovery_info: HassioServiceInfo) -> ConfigFlowResult:
        """The HomeSec add-on announced itself: host, port and its API key."""
        config = discovery_info.config
        data = {
            CONF_HOST: str(config[CONF_HOST]),
            CONF_PORT: int(config.get(CONF_PORT, DEFAULT_PORT)),
            CONF_API_KEY: str(config.get(CONF_API_KEY, "")),
            CONF_SSL: False,
            CONF_VERIFY_SSL: True,
        }
        await self.async_set_unique_id(discovery_info.uuid)
        # The add-on may have moved or rotated its key: keep the entry in step.
        self._abort_if_unique_id_configured(
            updates={k: data[k] for k in (CONF_HOST, CONF_PORT, CONF_API_KEY)}
        )
        self._discovery = data
        self._addon_name = discovery_info.name or "HomeSec"
        self.context["title_placeholders"] = {"name": self._addon_name}
        return await self.async_step_hassio_confirm()

    async def async_step_hassio_confirm(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """One click: confirm the discovered add-on."""
        errors: dict[str, str] = {}
        if user_input is not None:
            if (error := await async_check_connection(self.hass, self._discovery)) is None:
                return self.async_create_entry(title=TITLE, data=self._discovery)
            errors["base"] = error
        return self.async_show_form(
            step_id="hassio_confirm",
            description_placeholders={"addon": self._addon_name},
            errors=errors,
        )

    # -- reauth ---------------------------------------------------------------------------

    async def async_step_reauth(
        self, entry_data: Mapping[str, Any]
    ) -> ConfigFlowResult:
        """The engine refused the API key."""
        return await self.async_step_reauth_confirm()

    async def async_step_reauth_confirm(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Ask for the new API key and check it."""
        entry = self._get_reauth_entry()
        errors: dict[str, str] = {}
        if user_input is not None:
            data = {**entry.data, CONF_API_KEY: user_input.get(CONF_API_KEY, "")}
            if (error := await async_check_connection(self.hass, data)) is None:
                return self.async_update_reload_and_abort(
                    entry, data_updates={CONF_API_KEY: data[CONF_API_KEY]}
                )
            errors["base"] = error
        return self.async_show_form(
            step_id="reauth_confirm",
            data_schema=form_schema("Connection", (CONF_API_KEY,)),
            description_placeholders={CONF_HOST: str(entry.data[CONF_HOST])},
            errors=errors,
        )

    # -- reconfigure --------------------------------------------------------------------------

    async def async_step_reconfigure(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Move the entry to another host, port or TLS setting."""
        entry = self._get_reconfigure_entry()
        errors: dict[str, str] = {}
        if user_input is not None:
            candidate = {**entry.data, **user_input}
            data, errors = validate_form("Connection", candidate)
            if not errors:
                if (error := await async_check_connection(self.hass, data)) is None:
                    # Manually added entries are keyed by host:port; discovered ones by
                    # the Supervisor's uuid, which does not change with the address.
                    unique_id = (
                        _unique_id(data[CONF_HOST], data[CONF_PORT])
                        if entry.source == SOURCE_USER
                        else entry.unique_id
                    )
                    return self.async_update_reload_and_abort(
                        entry,
                        unique_id=unique_id,
                        data_updates={k: data[k] for k in RECONFIGURE_FIELDS},
                    )
                errors["base"] = error
        return self.async_show_form(
            step_id="reconfigure",
            data_schema=form_schema(
                "Connection", RECONFIGURE_FIELDS, user_input or dict(entry.data)
            ),
            errors=errors,
        )


class HomeSecOptionsFlow(OptionsFlowWithReload):
    """A menu: this integration's options (scan interval, motion reset seconds, the sidebar
    panel; a change reloads the entry), or the engine's settings users tune most (retention,
    detection thresholds: the engine applies them at once, the entry is not reloaded)."""

    _engine_values: dict[str, Any]

    async def async_step_init(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        return self.async_show_menu(step_id="init", menu_options=OPTIONS_MENU)

    async def async_step_integration(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        errors: dict[str, str] = {}
        if user_input is not None:
            data, errors = validate_form("Options", user_input)
            if not errors:
                return self.async_create_entry(data=data)
        return self.async_show_form(
            step_id="integration",
            data_schema=form_schema("Options", None, user_input or {
                CONF_SIDEBAR_PANEL: sidebar_panel_wanted(self.config_entry),
                **self.config_entry.options}),
            errors=errors,
        )

    async def async_step_engine(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """The engine's current values as defaults; what the user changed goes to the engine
        (PATCH /settings, as homesec.update_settings); a value it refuses is shown at its
        field with the engine's reason."""
        entry = self.config_entry
        if entry.state is not ConfigEntryState.LOADED:
            return self.async_abort(reason="not_loaded")
        client = entry.runtime_data.client
        errors: dict[str, str] = {}
        reason = ""
        if user_input is None:
            try:
                self._engine_values = await client.get_engine_settings()
            except HomeSecError:
                return self.async_abort(reason="cannot_connect")
        else:
            try:
                result = await client.update_engine_settings(
                    changed_settings(self._engine_values, user_input))
            except HomeSecDataValidationError as err:
                errors, reason = refused_fields(err)
            except HomeSecConnectionError:
                errors["base"] = "cannot_connect"
            except HomeSecError as err:  # e.g. a concurrent change (409): its own words
                errors["base"], reason = "engine_refused", str(err)
            else:
                await async_after_change(self.hass, entry, result["restart_required"])
                return self.async_create_entry(data=dict(entry.options))  # unchanged: no reload
        return self.async_show_form(
            step_id="engine",
            data_schema=form_schema("EngineSettings", None, user_input or self._engine_values),
            errors=errors,
            description_placeholders={"reason": reason},
        )


def changed_settings(current: Mapping[str, Any], submitted: Mapping[str, Any]
                     ) -> dict[str, Any]:
    """The engine settings the user changed. A field left empty stays as it is, except one
    that may be unset (max_gb: no disk budget), which is unset."""
    changed: dict[str, Any] = {}
    for name, decl in MODELS["EngineSettings"]["fields"].items():
        value = submitted.get(name)
        if (value is not None or decl.get("nullable")) and value != current.get(name):
            changed[name] = value
    return changed


def refused_fields(err: HomeSecDataValidationError) -> tuple[dict[str, str], str]:
    """The form's errors for what the engine refused (each at its field, `filter.min_hits`
    at min_hits) and the engine's reasons, for the `reason` placeholder."""
    fields = MODELS["EngineSettings"]["fields"]
    errors: dict[str, str] = {}
    for item in err.errors:
        field = str(item.get("path") or "").rsplit(".", 1)[-1]
        errors[field if field in fields else "base"] = "engine_refused"
    return errors or {"base": "engine_refused"}, err.reasons


__all__ = ["HomeSecConfigFlow", "HomeSecOptionsFlow", "async_check_connection"]
