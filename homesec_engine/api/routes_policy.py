"""The alert policy: read, and replace (applied live, no restart); one shape both ways. The
retention and object-filter settings: changed field by field (live where the engine can)."""

from __future__ import annotations

from aiohttp import web

from ..schema import validate
from .context import context
from .inputs import expected_version, read_json
from .views import json_response


async def get_alert_policy(request: web.Request) -> web.Response:
    ctx = context(request)
    return json_response({"config_version": ctx.runtime.config_manager.config_version,
                          "alert_policy": ctx.config()["alert_policy"]})


async def set_alert_policy(request: web.Request) -> web.Response:
    ctx = context(request)
    body = validate("AlertPolicyView", await read_json(request))
    version = expected_version(request, body)
    # The running engine applies the stored (validated) policy as part of the change.
    result = await ctx.runtime.config_manager.set_alert_policy(body["alert_policy"], version)
    return json_response({"restart_required": result.restart_required,
                          "restart_fields": result.restart_fields,
                          "config_version": result.config_version})


async def update_settings(request: web.Request) -> web.Response:
    ctx = context(request)
    body = validate("SettingsUpdate", await read_json(request))
    version = expected_version(request, body)
    result = await ctx.runtime.config_manager.update_settings(
        {k: v for k, v in body.items() if k != "config_version"}, version)
    return json_response({"restart_required": result.restart_required,
                          "restart_fields": result.restart_fields,
                          "config_version": result.config_version})


HANDLERS = {
    "get_alert_policy": get_alert_policy,
    "set_alert_policy": set_alert_policy,
    "update_settings": update_settings,
}
