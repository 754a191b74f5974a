"""The engine's panel in Home Assistant's sidebar, for installs without the add-on's ingress.

The sidebar entry is a small custom panel (frontend/homesec-panel.js) that frames the engine's
panel, proxied by the integration at PANEL_PREFIX/<entry id>/: its files and its API calls go to
the engine with the integration's key, which never reaches the browser. A frame cannot send
HA's bearer token, so the custom panel first asks HA (with the user's token; admins only, as
the panel changes the configuration) for a panel session: an HMAC-signed cookie, scoped to the
panel's path and valid for an hour, that the proxy checks on every request, as the
Supervisor's ingress does with its session cookie.

It is on by default, and off by default for entries set up from the add-on, which has the
panel in the sidebar through ingress (option `sidebar_panel`).
"""

from __future__ import annotations

from datetime import timedelta
from http import HTTPStatus
from pathlib import Path
from typing import Final

from aiohttp import web

from homeassistant.components import frontend, panel_custom
from homeassistant.config_entries import SOURCE_HASSIO, ConfigEntryState
from homeassistant.core import HomeAssistant
from homeassistant.helpers.http import KEY_HASS, HomeAssistantView

from .api import HomeSecError
from .compat import StaticPathConfig
from .const import DOMAIN
from .coordinator import HomeSecConfigEntry
from .views import async_sign_token, async_verify_token, relay

CONF_SIDEBAR_PANEL: Final = "sidebar_panel"
SIDEBAR_PATH: Final = "homesec"  # /homesec in HA's frontend
PANEL_PREFIX: Final = "/api/homesec/panel"
LOADER_URL: Final = f"{PANEL_PREFIX}/loader.js"
SESSION_COOKIE: Final = "homesec_panel"
SESSION_TTL: Final = timedelta(hours=1)
_SESSION_SUBJECT: Final = "homesec panel session"
_FORWARDED_HEADERS: Final = ("Content-Type", "Accept", "Range", "If-Match")


def sidebar_panel_wanted(entry: HomeSecConfigEntry) -> bool:
    """The option, or by default: on, except for entries set up from the add-on."""
    return bool(entry.options.get(CONF_SIDEBAR_PANEL, entry.source != SOURCE_HASSIO))


async def async_register_panel_views(hass: HomeAssistant) -> None:
    """The loader module, the session view and the proxy (once, for every entry)."""
    await hass.http.async_register_static_paths([StaticPathConfig(
        LOADER_URL, str(Path(__file__).parent / "frontend" / "homesec-panel.js"), False)])
    hass.http.register_view(HomeSecPanelSessionView())
    hass.http.register_view(HomeSecPanelProxyView())


async def async_setup_sidebar_panel(hass: HomeAssistant, entry: HomeSecConfigEntry) -> None:
    """Add the sidebar entry when wanted; it goes with the entry's unload."""
    if not sidebar_panel_wanted(entry):
        return
    await panel_custom.async_register_panel(
        hass, frontend_url_path=SIDEBAR_PATH, webcomponent_name="homesec-panel",
        sidebar_title="HomeSec", sidebar_icon="mdi:cctv", module_url=LOADER_URL,
        require_admin=True, config={"entry_id": entry.entry_id},
    )
    entry.async_on_unload(
        lambda: frontend.async_remove_panel(hass, SIDEBAR_PATH, warn_if_unknown=False))


class HomeSecPanelSessionView(HomeAssistantView):
    """POST by the sidebar panel with the user's token: the session cookie and the path."""

    url = f"{PANEL_PREFIX}/session"
    name = "api:homesec:panel:session"
    requires_auth = True

    async def post(self, request: web.Request) -> web.Response:
        hass = request.app[KEY_HASS]
        if not request["hass_user"].is_admin:
            return self.json_message("HomeSec's panel is for administrators",
                                     HTTPStatus.FORBIDDEN)
        entries: list[HomeSecConfigEntry] = hass.config_entries.async_loaded_entries(DOMAIN)
        if not entries:
            return self.json_message("HomeSec is not loaded", HTTPStatus.SERVICE_UNAVAILABLE)
        response = self.json({"path": f"{PANEL_PREFIX}/{entries[0].entry_id}/"})
        response.set_cookie(
            SESSION_COOKIE, async_sign_token(hass, _SESSION_SUBJECT, SESSION_TTL),
            max_age=int(SESSION_TTL.total_seconds()), path=f"{PANEL_PREFIX}/",
            httponly=True, samesite="Strict", secure=request.secure,
        )
        return response


class HomeSecPanelProxyView(HomeAssistantView):
    """The engine's panel and its API for a holder of a panel session cookie."""

    url = PANEL_PREFIX + "/{entry_id}/{path:.*}"
    name = "api:homesec:panel"
    requires_auth = False  # a frame cannot send the token: the session cookie is checked

    async def _forward(
        self, request: web.Request, entry_id: str, path: str
    ) -> web.StreamResponse:
        hass = request.app[KEY_HASS]
        if not async_verify_token(hass, _SESSION_SUBJECT, request.cookies.get(SESSION_COOKIE)):
            return web.Response(status=HTTPStatus.UNAUTHORIZED)
        entry = hass.config_entries.async_get_entry(entry_id)
        if entry is None or entry.domain != DOMAIN:
            return web.Response(status=HTTPStatus.NOT_FOUND)
        if entry.state is not ConfigEntryState.LOADED:
            return web.Response(status=HTTPStatus.SERVICE_UNAVAILABLE)
        client = entry.runtime_data.client
        headers = {h: request.headers[h] for h in _FORWARDED_HEADERS if h in request.headers}
        body = await request.read() if request.can_read_body else None
        try:
            upstream = await client.open_panel(
                request.method, path, query=request.query_string, headers=headers,
                body=body, prefix=f"{PANEL_PREFIX}/{entry_id}")
        except HomeSecError:
            return web.Response(status=HTTPStatus.BAD_GATEWAY)
        return await relay(request, upstream, cache_control=None)

    get = post = put = delete = _forward
