"""The engine's panel in HA's sidebar, served by the integration behind HA's login: real HA
core's HTTP server on loopback, the real engine and its real panel files and API."""

from __future__ import annotations

from http import HTTPStatus

from homeassistant.components.frontend import DATA_PANELS
from homeassistant.config_entries import SOURCE_HASSIO
from homeassistant.core import HomeAssistant
from pytest_homeassistant_custom_component.common import MockConfigEntry
from pytest_homeassistant_custom_component.typing import ClientSessionGenerator

from playwright.async_api import expect

from custom_components.homesec.panel import CONF_SIDEBAR_PANEL, LOADER_URL, PANEL_PREFIX
from tests.api.panel_rig import chromium, open_page, shoot
from tests.engine_harness import RunningEngine

from .conftest import API_KEY


async def _session(hass_client: ClientSessionGenerator, token: str | None = None) -> tuple[
        int, dict[str, str], str | None]:
    """POST the session as the sidebar panel does (with the user's token)."""
    client = await (hass_client(token) if token else hass_client())
    resp = await client.post("/api/homesec/panel/session")
    body = await resp.json()
    cookie = resp.cookies.get("homesec_panel")
    return resp.status, body, cookie.value if cookie else None


async def test_the_panel_and_its_api_open_behind_has_login_without_the_engine_key(
    hass: HomeAssistant, loaded_entry: MockConfigEntry, engine: RunningEngine,
    hass_client: ClientSessionGenerator, hass_client_no_auth: ClientSessionGenerator,
) -> None:
    # Given HomeSec set up by hand (no add-on): the sidebar has a HomeSec panel for admins
    panel = hass.data[DATA_PANELS]["homesec"]
    assert panel.sidebar_title == "HomeSec" and panel.require_admin
    assert panel.config["_panel_custom"]["module_url"] == LOADER_URL
    # When the panel page asks HA for a session with the admin's token
    status, body, cookie = await _session(hass_client)
    # Then it gets the frame's path and a session cookie
    assert status == HTTPStatus.OK and cookie
    path = body["path"]
    assert path == f"{PANEL_PREFIX}/{loaded_entry.entry_id}/"
    # When the frame loads the panel with only that cookie (a frame sends no token)
    browser = await hass_client_no_auth()
    browser.session.cookie_jar.update_cookies({"homesec_panel": cookie})
    page = await browser.get(path)
    html = await page.text()
    # Then it is the engine's panel, its links resolving under the proxied path
    assert page.status == HTTPStatus.OK and "<title>" in html
    assert f'<base href="{path}">' in html
    script = await browser.get(f"{path}app.js")
    assert script.status == HTTPStatus.OK
    assert "javascript" in script.headers["Content-Type"]
    # And its API calls reach the engine (the integration adds the key) ...
    status_resp = await browser.get(f"{path}api/v1/status")
    assert status_resp.status == HTTPStatus.OK
    assert {c["name"] for c in (await status_resp.json())["cameras"]} == {"front_door",
                                                                           "garage"}
    # ... and a change goes through too, the engine's refusal (a bad value) shown as is
    refused = await browser.put(f"{path}api/v1/alert-policy",
                                json={"alert_policy": {"min_risk_level": "extreme"}})
    assert refused.status == HTTPStatus.BAD_REQUEST
    assert "min_risk_level" in await refused.text()
    # And the engine's key is in nothing the browser got
    loader = await (await hass_client_no_auth()).get(LOADER_URL)
    assert loader.status == HTTPStatus.OK
    for text in (html, await script.text(), await loader.text(), str(body)):
        assert API_KEY not in text


async def test_no_session_no_panel(
    hass: HomeAssistant, loaded_entry: MockConfigEntry,
    hass_client: ClientSessionGenerator, hass_client_no_auth: ClientSessionGenerator,
    hass_read_only_access_token: str,
) -> None:
    path = f"{PANEL_PREFIX}/{loaded_entry.entry_id}/api/v1/status"
    browser = await hass_client_no_auth()
    # When the panel is opened without a session, with a forged one or an expired one
    # Then it is refused
    assert (await browser.get(path)).status == HTTPStatus.UNAUTHORIZED
    for forged in ("9999999999.deadbeef", "1.x", "nonsense"):
        browser.session.cookie_jar.update_cookies({"homesec_panel": forged})
        assert (await browser.get(path)).status == HTTPStatus.UNAUTHORIZED
    # When a user who is not an administrator asks for a session
    status, _body, cookie = await _session(hass_client, hass_read_only_access_token)
    # Then HA refuses it (the panel changes the configuration)
    assert status == HTTPStatus.FORBIDDEN and cookie is None
    # And without HA's login there is no session at all
    anonymous = await (await hass_client_no_auth()).post("/api/homesec/panel/session")
    assert anonymous.status == HTTPStatus.UNAUTHORIZED


async def test_off_by_default_for_the_add_on_and_by_option(
    hass: HomeAssistant, engine: RunningEngine, config_entry: MockConfigEntry,
) -> None:
    # Given HomeSec set up from the add-on's discovery (its panel is in the sidebar already)
    addon_entry = MockConfigEntry(
        domain=config_entry.domain, title=config_entry.title, data=dict(config_entry.data),
        options=dict(config_entry.options), source=SOURCE_HASSIO,
        unique_id=config_entry.unique_id)
    addon_entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(addon_entry.entry_id)
    await hass.async_block_till_done()
    # Then there is no second HomeSec panel
    assert "homesec" not in hass.data.get(DATA_PANELS, {})
    # When the option turns it on
    hass.config_entries.async_update_entry(
        addon_entry, options={**addon_entry.options, CONF_SIDEBAR_PANEL: True})
    await hass.config_entries.async_reload(addon_entry.entry_id)
    await hass.async_block_till_done()
    # Then the panel is there; and it goes when the entry is unloaded
    assert "homesec" in hass.data[DATA_PANELS]
    await hass.config_entries.async_unload(addon_entry.entry_id)
    await hass.async_block_till_done()
    assert "homesec" not in hass.data[DATA_PANELS]


async def test_the_panel_runs_in_chromium_through_home_assistant(
    hass: HomeAssistant, loaded_entry: MockConfigEntry, hass_client: ClientSessionGenerator,
) -> None:
    # Given a panel session asked for with an administrator's login
    client = await hass_client()
    resp = await client.post("/api/homesec/panel/session")
    path = (await resp.json())["path"]
    cookie = resp.cookies["homesec_panel"].value
    base = str(client.make_url("/")).rstrip("/")
    # When Chromium opens the frame's page with that cookie only (as the sidebar's frame does)
    errors: list[str] = []
    async with chromium() as browser:
        page = await open_page(browser, errors)
        await page.context.add_cookies([{"name": "homesec_panel", "value": cookie,
                                         "url": f"{base}{PANEL_PREFIX}/"}])
        await page.goto(f"{base}{path}")
        # Then the engine's panel runs: cameras with their states, the engine healthy, the
        # config version read, all through Home Assistant, without asking for a key
        cameras = page.locator("#cameras")
        await expect(cameras.locator("[data-camera=garage] .badge")).to_have_text("disabled")
        await expect(page.locator("#config-version")).to_have_text("1")
        await shoot(page, "ha-sidebar-panel")
    assert errors == []
