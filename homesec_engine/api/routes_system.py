"""Health, diagnostics, status, stats, config, restart and the OpenAPI document."""

from __future__ import annotations

import logging
import time
from typing import Any

from aiohttp import web

from ..alerts.summary import served
from ..schema.openapi import render_openapi
from .context import ApiContext, cameras_online, context
from .views import camera_view, dumps, json_response

_LOGGER = logging.getLogger(__name__)


async def _health(ctx: ApiContext, *, force: bool = True) -> dict[str, Any]:
    up, _latency = await ctx.probe_database(force=force)
    pipeline = "running" if ctx.runtime.pipeline_running else "stopped"
    # A filter without its model still records and stores clips, but judges them by fallback.
    filter_ok = ctx.runtime.object_filter is None or \
        ctx.runtime.object_filter.status().get("status") == "ok"
    storage_error = ctx.runtime.storage_error()
    offsite = ctx.runtime.offsite.status() if ctx.runtime.offsite is not None else None
    offsite_error = offsite["error"] if offsite else None
    cluster = ctx.runtime.cluster.status() if ctx.runtime.cluster is not None else None
    cluster_ok = cluster is None or cluster["state"] == "holding"
    cameras_down = ctx.runtime.cameras_down()
    status = "unhealthy" if pipeline == "stopped" else (
        "healthy" if up and filter_ok and storage_error is None and not offsite_error
        and cluster_ok and not cameras_down else "degraded")
    return {"status": status, "pipeline": pipeline, "database": "up" if up else "down",
            "storage": "error" if storage_error else "ok", "storage_error": storage_error,
            "offsite": "disabled" if offsite is None else ("error" if offsite_error else "ok"),
            "offsite_error": offsite_error,
            "cameras_online": cameras_online(ctx), "cameras_down": cameras_down,
            "version": ctx.runtime.version, "cluster": cluster}


async def _stats(ctx: ApiContext) -> dict[str, Any]:
    clips_today, alerts_today = await ctx.today_counts()
    return {
        "clips_today": clips_today,
        "alerts_today": alerts_today,
        "cameras_total": len(ctx.config().get("cameras", [])),
        "cameras_online": cameras_online(ctx),
        "uptime_seconds": max(0.0, time.monotonic() - ctx.runtime.started_monotonic),
    }


async def get_health(request: web.Request) -> web.Response:
    health = await _health(context(request))
    return json_response(health, status=503 if health["status"] == "unhealthy" else 200)


async def get_diagnostics(request: web.Request) -> web.Response:
    ctx = context(request)
    try:
        components: dict[str, Any] = dict(ctx.runtime.components())
    except Exception as exc:  # noqa: BLE001 - diagnostics must answer even when a part fails
        _LOGGER.warning("Runtime diagnostics failed: %s", type(exc).__name__)
        components = {"runtime": {"status": "error", "error": type(exc).__name__,
                                  "latency_ms": None}}
    components = {name: _component(value) for name, value in components.items()}
    if "database" not in components:
        up, latency = await ctx.probe_database(force=True)
        components["database"] = {"status": "ok" if up else "error",
                                  "error": None if up else "unavailable", "latency_ms": latency}
    hub = ctx.runtime.events
    components["events"] = {
        "status": "ok", "error": None, "latency_ms": None,
        "websocket_clients": ctx.ws.clients,
        "published": hub.published,
        "dropped": ctx.ws.dropped_closed + hub.dropped,
    }
    return json_response({"version": ctx.runtime.version, "components": components})


# The Component model's states; the runtime's own words are kept in `state`.
_COMPONENT_STATES = {"ok": "ok", "running": "ok", "up": "ok", "degraded": "degraded",
                     "unhealthy": "degraded", "disabled": "disabled", "error": "error",
                     "down": "error", "stopped": "error"}


def _component(value: Any) -> dict[str, Any]:
    out = dict(value) if isinstance(value, dict) else {"status": "error"}
    raw = out.get("status")
    out["status"] = _COMPONENT_STATES.get(str(raw), "error")
    if raw != out["status"]:
        out["state"] = raw
    out.setdefault("error", None)
    out.setdefault("latency_ms", None)
    return out


async def get_status(request: web.Request) -> web.Response:
    ctx = context(request)
    stats = await _stats(ctx)  # first: it raises DatabaseUnavailable while the DB is down
    config = ctx.config()
    states = ctx.runtime.cameras()
    alerts = ctx.runtime.last_alerts
    cameras = []
    for camera in config.get("cameras", []):
        view = camera_view(camera, states.get(camera["name"]), config)
        del view["source_config"], view["retention"]  # the poll needs health, not settings
        last = alerts.get(camera["name"])
        view["last_alert"] = served(last) if last else None
        cameras.append(view)
    return json_response({
        # No ping of its own: the gate (and the stats just read) already found the database
        # up, and the repository notices an outage on its next use (a ping a second would
        # make every poll that lands on it wait for the round trip).
        "health": await _health(ctx, force=False),
        "cameras": cameras,
        "stats": stats,
        "config_version": ctx.runtime.config_manager.config_version,
        "restart_required": bool(ctx.runtime.config_manager.restart_pending),
        "storage": ctx.runtime.storage_status(),
    })



async def get_stats(request: web.Request) -> web.Response:
    return json_response(await _stats(context(request)))


async def get_config(request: web.Request) -> web.Response:
    manager = context(request).runtime.config_manager
    # Secrets are never in the config (only *_env names), so it is shown as it is.
    return json_response({"config_version": manager.config_version,
                          "config": manager.get_config()})


async def restart(request: web.Request) -> web.StreamResponse:
    ctx = context(request)
    response = json_response({"status": "restarting"}, status=202)
    await response.prepare(request)
    await response.write_eof()  # the client has its answer before the engine goes down
    _LOGGER.warning("Restart requested through the API")
    await ctx.runtime.request_restart()
    return response


async def get_openapi(request: web.Request) -> web.Response:
    ctx = context(request)
    if ctx.openapi_body is None:  # rendered once: the declarations do not change at run time
        ctx.openapi_body = dumps(render_openapi(ctx.runtime.version)).encode()
    return web.Response(body=ctx.openapi_body, content_type="application/json")

HANDLERS = {
    "get_health": get_health,
    "get_diagnostics": get_diagnostics,
    "get_status": get_status,
    "get_stats": get_stats,
    "get_config": get_config,
    "restart": restart,
    "get_openapi": get_openapi,
}
