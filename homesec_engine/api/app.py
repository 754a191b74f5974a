"""The aiohttp application: routes registered from the schema's ROUTES table.

Handlers are looked up by operation id, so the table (and the OpenAPI document rendered
from it) and the server cannot drift: a route without a handler, or a handler without a
route, stops the app from being built.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web

from ..runtime import EngineRuntime
from ..schema import API_BASE, ROUTES
from . import (
    events_ws,
    media,
    routes_cameras,
    routes_clips,
    routes_live,
    routes_policy,
    routes_system,
)
from .auth import is_authorised, load_auth, unauthorised
from .context import CONTEXT_KEY, ApiContext, ApiSettings
from .errors import db_unavailable, error_middleware
from .panel import add_panel_routes
from .shapes import response_middleware, strict_responses_enabled

_LOGGER = logging.getLogger(__name__)

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

HANDLERS: dict[str, Handler] = {
    **routes_system.HANDLERS,
    **routes_cameras.HANDLERS,
    **routes_policy.HANDLERS,
    **routes_clips.HANDLERS,
    **media.HANDLERS,
    **routes_live.HANDLERS,
    **events_ws.HANDLERS,
}

# Routes that work without the database (`state: False` in the route table) stay open during
# an outage: live alerts keep flowing on the WebSocket, a restart may be the cure, and the
# config (files, cameras, alert policy) lives in ConfigManager, not in the database.
DB_INDEPENDENT = frozenset(r["operation_id"] for r in ROUTES if r.get("state") is False)

MAX_BODY = 256 * 1024  # JSON bodies are small; larger ones are refused with 413


def _gate(ctx: ApiContext) -> Any:
    @web.middleware
    async def gate(request: web.Request, handler: Handler) -> web.StreamResponse:
        spec = ctx.route_specs.get(request.match_info.route)
        if spec is None or spec.get("public"):
            return await handler(request)  # public routes, the panel, 404/405 answers
        if not is_authorised(request, ctx.auth):
            return unauthorised()
        if spec["operation_id"] not in DB_INDEPENDENT:
            up, _ = await ctx.probe_database()
            if not up:
                raise db_unavailable()
        return await handler(request)

    return gate


def create_app(runtime: EngineRuntime, settings: ApiSettings | None = None) -> web.Application:
    """The API, WebSocket and panel for `runtime` (its config is read now: key, proxies)."""
    missing = sorted({r["operation_id"] for r in ROUTES} - HANDLERS.keys())
    extra = sorted(HANDLERS.keys() - {r["operation_id"] for r in ROUTES})
    if missing or extra:
        raise RuntimeError(f"ROUTES and handlers differ: missing {missing}, unknown {extra}")
    server_config = runtime.config_manager.get_config().get("server", {})
    ctx = ApiContext(runtime=runtime, auth=load_auth(server_config),
                     settings=settings or ApiSettings())
    middlewares = [error_middleware, _gate(ctx)]
    if strict_responses_enabled():
        middlewares.append(response_middleware(ctx.route_specs))
    app = web.Application(middlewares=middlewares, client_max_size=MAX_BODY)
    app[CONTEXT_KEY] = ctx
    for spec in ROUTES:
        route = app.router.add_route(spec["method"], API_BASE + spec["path"],
                                     HANDLERS[spec["operation_id"]])
        ctx.route_specs[route] = spec
    add_panel_routes(app)
    app.on_shutdown.append(_close_sockets)
    app.on_cleanup.append(_close_context)
    return app


async def _close_sockets(app: web.Application) -> None:
    for ws in list(app[CONTEXT_KEY].sockets):
        await ws.close(code=1001, message=b"engine shutting down")


async def _close_context(app: web.Application) -> None:
    ctx = app[CONTEXT_KEY]
    await ctx.close()
    ctx.detach()
