"""The config flow against a real engine: manual, discovery, reauth, reconfigure, options."""

from __future__ import annotations

from typing import Any
from unittest.mock import patch

import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.homesec.config_flow import HomeSecConfigFlow
from custom_components.homesec.const import (
    CONF_API_KEY,
    CONF_MOTION_RESET,
    CONF_SCAN_INTERVAL,
    CONF_SSL,
    CONF_VERIFY_SSL,
    DOMAIN,
)
from homeassistant.config_entries import SOURCE_HASSIO, SOURCE_USER, ConfigEntryState
from homeassistant.const import CONF_HOST, CONF_PORT
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import AbortFlow, FlowResultType, InvalidData
from homeassistant.helpers.service_info.hassio import HassioServiceInfo
from tests.engine_harness import RunningEngine

from .conftest import API_KEY, engine_port, entry_data

DISCOVERY_UUID = "0123456789abcdef0123456789abcdef"


def _user_input(engine: RunningEngine, **overrides: Any) -> dict[str, Any]:
    data = {
        CONF_HOST: "127.0.0.1",
        CONF_PORT: engine_port(engine),
        CONF_API_KEY: API_KEY,
        CONF_VERIFY_SSL: True,
        CONF_SSL: False,
    }
    data.update(overrides)
    return data


def _discovery(engine: RunningEngine, **config: Any) -> HassioServiceInfo:
    return HassioServiceInfo(
        config={"host": "127.0.0.1", "port": engine_port(engine), "api_key": API_KEY, **config},
        name="HomeSec",
        slug="homesec",
        uuid=DISCOVERY_UUID,
    )


async def _start_user(hass: HomeAssistant) -> dict[str, Any]:
    result = await hass.config_entries.flow.async_init(DOMAIN, context={"source": SOURCE_USER})
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "user"
    return dict(result)


async def test_user_flow_creates_entry(hass: HomeAssistant, engine: RunningEngine) -> None:
    # Given the form, When the user enters the engine's address and key
    result = await _start_user(hass)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], _user_input(engine)
    )
    # Then an entry keyed by host:port is created with the checked settings
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["title"] == "HomeSec"
    assert result["data"] == entry_data(engine)
    assert result["result"].unique_id == f"127.0.0.1:{engine_port(engine)}"
    await hass.async_block_till_done()
    await hass.config_entries.async_unload(result["result"].entry_id)


async def test_user_flow_form_fields_come_from_the_schema(hass: HomeAssistant) -> None:
    # Given the generated Connection declaration, When the form opens
    result = await _start_user(hass)
    # Then it asks for exactly its fields, with the declared defaults
    schema = result["data_schema"].schema
    assert [str(k) for k in schema] == [CONF_HOST, CONF_PORT, CONF_API_KEY, CONF_VERIFY_SSL, CONF_SSL]
    defaults = {str(k): k.default() for k in schema if callable(getattr(k, "default", None))}
    assert defaults[CONF_PORT] == 8080
    assert defaults[CONF_VERIFY_SSL] is True


@pytest.mark.parametrize(
    ("overrides", "error"),
    [({CONF_PORT: 1}, "cannot_connect"), ({CONF_API_KEY: "not-the-key"}, "invalid_auth")],
)
async def test_user_flow_connection_errors(
    hass: HomeAssistant, engine: RunningEngine, overrides: dict[str, Any], error: str
) -> None:
    # Given the form, When the port is closed or the key is wrong
    result = await _start_user(hass)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], _user_input(engine, **overrides)
    )
    # Then the form comes back with the matching error, and the user can fix it
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {"base": error}
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], _user_input(engine)
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    await hass.async_block_till_done()
    await hass.config_entries.async_unload(result["result"].entry_id)


async def test_user_flow_unknown_error(hass: HomeAssistant, engine: RunningEngine) -> None:
    # Given a client that fails in an unexpected way
    result = await _start_user(hass)
    with patch(
        "custom_components.homesec.config_flow.HomeSecClient.get_status",
        side_effect=RuntimeError("boom"),
    ):
        # When the user submits
        result = await hass.config_entries.flow.async_configure(
            result["flow_id"], _user_input(engine)
        )
    # Then the flow shows "unknown" instead of crashing
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {"base": "unknown"}


async def test_user_flow_field_validation(hass: HomeAssistant, engine: RunningEngine) -> None:
    # Given the form, When the host is not a host name
    result = await _start_user(hass)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], _user_input(engine, host="not a host!")
    )
    # Then the error sits on the host field and nothing was created
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {CONF_HOST: "invalid_host"}
    assert not hass.config_entries.async_entries(DOMAIN)


async def test_second_entry_is_refused(
    hass: HomeAssistant, engine: RunningEngine, config_entry: MockConfigEntry
) -> None:
    # Given an existing entry, When the user starts another flow
    config_entry.add_to_hass(hass)
    result = await hass.config_entries.flow.async_init(DOMAIN, context={"source": SOURCE_USER})
    # Then it aborts: HomeSec is a single-instance integration
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "single_instance_allowed"


async def test_same_engine_twice_is_already_configured(
    hass: HomeAssistant, engine: RunningEngine, config_entry: MockConfigEntry
) -> None:
    # Given an entry for this engine (the flow manager's single-instance guard normally
    # stops a second flow before it starts; this drives the step itself, as a flow that
    # was already open when the entry appeared would)
    config_entry.add_to_hass(hass)
    flow = HomeSecConfigFlow()
    flow.hass = hass
    flow.handler = DOMAIN
    flow.context = {"source": SOURCE_USER}
    # When the same host:port is submitted Then the step aborts with already_configured
    with pytest.raises(AbortFlow, match="already_configured"):
        await flow.async_step_user(_user_input(engine))


async def test_hassio_discovery_confirm(hass: HomeAssistant, engine: RunningEngine) -> None:
    # Given the add-on's discovery message
    result = await hass.config_entries.flow.async_init(
        DOMAIN, context={"source": SOURCE_HASSIO}, data=_discovery(engine)
    )
    # Then the user sees a one-click confirmation naming the add-on
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "hassio_confirm"
    assert result["description_placeholders"] == {"addon": "HomeSec"}
    # When they confirm Then the entry is created with the discovered key, keyed by the uuid
    result = await hass.config_entries.flow.async_configure(result["flow_id"], {})
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["data"] == entry_data(engine)
    assert result["result"].unique_id == DISCOVERY_UUID
    await hass.async_block_till_done()
    await hass.config_entries.async_unload(result["result"].entry_id)


async def test_hassio_discovery_confirm_cannot_connect(
    hass: HomeAssistant, engine: RunningEngine
) -> None:
    # Given a discovery message whose key the engine refuses
    result = await hass.config_entries.flow.async_init(
        DOMAIN, context={"source": SOURCE_HASSIO}, data=_discovery(engine, api_key="old")
    )
    # When the user confirms Then the form says the key is refused
    result = await hass.config_entries.flow.async_configure(result["flow_id"], {})
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {"base": "invalid_auth"}


async def test_hassio_discovery_updates_configured_entry(
    hass: HomeAssistant, engine: RunningEngine
) -> None:
    # Given an entry created from discovery earlier, on another address and key
    entry = MockConfigEntry(
        domain=DOMAIN,
        source=SOURCE_HASSIO,
        unique_id=DISCOVERY_UUID,
        data=entry_data(engine, host="10.0.0.9", port=9999, api_key="old"),
    )
    entry.add_to_hass(hass)
    # When the add-on announces itself again (host, port and key changed)
    flow = HomeSecConfigFlow()
    flow.hass = hass
    flow.handler = DOMAIN
    flow.context = {"source": SOURCE_HASSIO}
    with pytest.raises(AbortFlow, match="already_configured"):
        await flow.async_step_hassio(_discovery(engine))
    # Then the entry follows it
    assert entry.data[CONF_HOST] == "127.0.0.1"
    assert entry.data[CONF_PORT] == engine_port(engine)
    assert entry.data[CONF_API_KEY] == API_KEY
    # And through the flow manager a rediscovery of a configured engine is refused
    result = await hass.config_entries.flow.async_init(
        DOMAIN, context={"source": SOURCE_HASSIO}, data=_discovery(engine)
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "single_instance_allowed"


async def test_reauth_with_new_key(
    hass: HomeAssistant, engine: RunningEngine
) -> None:
    # Given an entry whose key stopped working (its setup failed and reauth started)
    entry = MockConfigEntry(
        domain=DOMAIN, data=entry_data(engine, api_key="expired"), unique_id="u1"
    )
    entry.add_to_hass(hass)
    await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    flows = hass.config_entries.flow.async_progress_by_handler(DOMAIN)
    assert len(flows) == 1
    flow_id = flows[0]["flow_id"]
    # When the user enters another wrong key Then the form says so
    result2 = await hass.config_entries.flow.async_configure(flow_id, {CONF_API_KEY: "nope"})
    assert result2["type"] is FlowResultType.FORM
    assert result2["errors"] == {"base": "invalid_auth"}
    # When the user enters the right key Then the entry is updated and reloaded
    result3 = await hass.config_entries.flow.async_configure(flow_id, {CONF_API_KEY: API_KEY})
    assert result3["type"] is FlowResultType.ABORT
    assert result3["reason"] == "reauth_successful"
    await hass.async_block_till_done()
    assert entry.data[CONF_API_KEY] == API_KEY
    assert entry.state.name == "LOADED"
    await hass.config_entries.async_unload(entry.entry_id)


async def test_reconfigure_moves_the_entry(
    hass: HomeAssistant, engine: RunningEngine
) -> None:
    # Given a loaded entry on an old port (the engine listens on another)
    entry = MockConfigEntry(
        domain=DOMAIN,
        data=entry_data(engine, port=1),
        unique_id="127.0.0.1:1",
        source=SOURCE_USER,
    )
    entry.add_to_hass(hass)
    result = await entry.start_reconfigure_flow(hass)
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "reconfigure"
    # When the user enters a port nobody listens on Then cannot_connect
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_HOST: "127.0.0.1", CONF_PORT: 2, CONF_SSL: False}
    )
    assert result["errors"] == {"base": "cannot_connect"}
    # When the user enters the engine's real port Then the entry moves there and loads
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"],
        {CONF_HOST: "127.0.0.1", CONF_PORT: engine_port(engine), CONF_SSL: False},
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "reconfigure_successful"
    await hass.async_block_till_done()
    assert entry.data[CONF_PORT] == engine_port(engine)
    assert entry.data[CONF_API_KEY] == API_KEY
    assert entry.unique_id == f"127.0.0.1:{engine_port(engine)}"
    assert entry.state.name == "LOADED"
    await hass.config_entries.async_unload(entry.entry_id)


async def _options_step(
    hass: HomeAssistant, entry: MockConfigEntry, step: str
) -> dict[str, Any]:
    """The options flow's menu, then one of its items."""
    result = await hass.config_entries.options.async_init(entry.entry_id)
    assert result["type"] is FlowResultType.MENU
    assert result["menu_options"] == ["integration", "engine"]
    return dict(await hass.config_entries.options.async_configure(
        result["flow_id"], {"next_step_id": step}))


def _suggested(result: dict[str, Any]) -> dict[str, Any]:
    """What the form shows in each field (its default or suggested value)."""
    shown: dict[str, Any] = {}
    for marker in result["data_schema"].schema:
        suggested = (marker.description or {}).get("suggested_value")
        default = marker.default() if callable(marker.default) else None
        shown[str(marker)] = default if default is not None else suggested
    return shown


async def test_options_flow_reloads_with_new_interval(
    hass: HomeAssistant, loaded_entry: MockConfigEntry
) -> None:
    # Given a loaded entry polling every 30 s
    assert loaded_entry.runtime_data.coordinator.update_interval.total_seconds() == 30
    result = await _options_step(hass, loaded_entry, "integration")
    assert result["type"] is FlowResultType.FORM
    # When the user sets 60 s polling and a 5 s motion reset
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], {CONF_SCAN_INTERVAL: 60, CONF_MOTION_RESET: 5}
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    await hass.async_block_till_done()
    # Then the options are stored (with the sidebar panel as the form offered it: on, for an
    # entry set up by hand) and the reloaded coordinator polls every 60 s
    assert loaded_entry.options == {CONF_SCAN_INTERVAL: 60, CONF_MOTION_RESET: 5,
                                    "sidebar_panel": True}
    assert loaded_entry.runtime_data.coordinator.update_interval.total_seconds() == 60


async def test_options_flow_rejects_out_of_range(
    hass: HomeAssistant, loaded_entry: MockConfigEntry
) -> None:
    # Given the options form
    result = await _options_step(hass, loaded_entry, "integration")
    # When a value outside the declared range is submitted (the number selector's range
    # comes from the declaration, so HA refuses it before the step runs)
    with pytest.raises(InvalidData, match="scan_interval"):
        await hass.config_entries.options.async_configure(
            result["flow_id"], {CONF_SCAN_INTERVAL: 1, CONF_MOTION_RESET: 5}
        )
    # Then the options are unchanged
    assert loaded_entry.options[CONF_SCAN_INTERVAL] == 30


async def test_engine_options_show_the_engines_values_and_apply_at_once(
    hass: HomeAssistant, engine: RunningEngine, loaded_entry: MockConfigEntry
) -> None:
    # Given the engine keeps clips 7 days and has a 40 GB disk budget (set elsewhere)
    await engine.runtime.config_manager.update_settings(
        {"retention": {"keep_days": 7.0, "max_gb": 40.0}})
    coordinator = loaded_entry.runtime_data.coordinator
    # When the user opens the engine's settings in the options
    result = await _options_step(hass, loaded_entry, "engine")
    # Then the form shows the engine's current values
    assert result["type"] is FlowResultType.FORM and result["step_id"] == "engine"
    assert _suggested(result) == {"keep_days": 7.0, "alerted_keep_days": 90.0, "max_gb": 40.0,
                                  "min_hits": 2, "min_confidence": 0.3}
    # When they keep alerted clips 60 days, need 3 looks, raise the confidence, and empty the
    # disk budget
    result = dict(await hass.config_entries.options.async_configure(result["flow_id"], {
        "keep_days": 7.0, "alerted_keep_days": 60, "min_hits": 3, "min_confidence": 0.6}))
    await hass.async_block_till_done()
    # Then the running engine uses them at once, with no disk budget and no restart asked for
    assert result["type"] is FlowResultType.CREATE_ENTRY
    retention = engine.runtime.retention
    assert retention is not None
    assert retention.config["alerted_keep_days"] == 60 and retention.config["keep_days"] == 7
    assert retention.config["max_gb"] is None
    detector = engine.runtime.filter_for("front_door")
    assert detector.min_hits == 3 and detector.min_confidence == 0.6
    assert engine.runtime.config_manager.restart_pending is False
    # And the entry's own options are untouched and it was not reloaded
    assert loaded_entry.options == {CONF_SCAN_INTERVAL: 30, CONF_MOTION_RESET: 30}
    assert loaded_entry.state is ConfigEntryState.LOADED
    assert loaded_entry.runtime_data.coordinator is coordinator
    # And the form shows the new values next time
    again = await _options_step(hass, loaded_entry, "engine")
    assert _suggested(again)["min_hits"] == 3 and _suggested(again)["max_gb"] is None


async def test_engine_options_show_what_the_engine_refuses_at_its_field(
    hass: HomeAssistant, engine: RunningEngine, loaded_entry: MockConfigEntry
) -> None:
    # Given the engine's settings in the options
    result = await _options_step(hass, loaded_entry, "engine")
    # When a number of looks that is not a whole number is sent (the form's number box lets
    # it through: the engine decides)
    result = dict(await hass.config_entries.options.async_configure(result["flow_id"], {
        "keep_days": 30, "alerted_keep_days": 90, "min_hits": 2.5, "min_confidence": 0.5}))
    # Then the form comes back with the engine's reason at that field
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {"min_hits": "engine_refused"}
    assert "filter.min_hits" in result["description_placeholders"]["reason"]
    # And nothing changed in the engine
    assert engine.runtime.filter_for("front_door").min_hits == 2
