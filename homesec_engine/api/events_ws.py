"""The /api/v1/events WebSocket: live `alert`, `event` and `camera_health` messages, plus
heartbeats. Those three carry `stats`, the engine's own figures after the message
(alerts_today, cameras_online), so the integration applies them instead of recomputing.

Each client reads from its own bounded EventHub subscription, so a slow client only loses
its own oldest messages (counted, shown in /diagnostics) and never slows the pipeline.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any

from aiohttp import WSMsgType, web

from ..events import Subscription
from .context import ApiContext, cameras_online, context
from .views import dumps

_LOGGER = logging.getLogger(__name__)

PUSHED_WITH_STATS = frozenset({"alert", "event", "camera_health"})


async def events(request: web.Request) -> web.StreamResponse:
    ctx = context(request)
    ws = web.WebSocketResponse(heartbeat=None, autoping=True)
    if not ws.can_prepare(request).ok:
        raise web.HTTPBadRequest(reason="Expected a WebSocket upgrade")
    await ws.prepare(request)
    ctx.sockets.add(ws)
    subscription = ctx.runtime.events.subscribe(maxsize=ctx.settings.ws_queue_size)
    ctx.ws.clients += 1
    sender = asyncio.create_task(_send_loop(ws, subscription, ctx.settings.heartbeat_s, ctx))
    try:
        # Reading notices the client leaving; client messages are not part of the protocol.
        async for msg in ws:
            if msg.type == WSMsgType.ERROR:
                break
    finally:
        sender.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await sender
        ctx.ws.dropped_closed += subscription.dropped
        subscription.close()
        ctx.ws.clients -= 1
        ctx.sockets.discard(ws)
        await ws.close()
    return ws


async def _figures(ctx: ApiContext, message_type: str) -> dict[str, Any]:
    """PushedStats: an alert is counted afresh (it is in the database before it is pushed)."""
    figures: dict[str, Any] = {"cameras_online": cameras_online(ctx)}
    try:
        if message_type == "alert":
            _clips, figures["alerts_today"] = await ctx.recount_today()
        else:
            _clips, figures["alerts_today"] = await ctx.today_counts()
    except Exception:  # noqa: BLE001 - database down: the count is left out, not guessed
        pass
    return figures


async def _send_loop(ws: web.WebSocketResponse, subscription: Subscription,
                     heartbeat_s: float, ctx: ApiContext) -> None:
    loop = asyncio.get_running_loop()
    next_beat = loop.time() + heartbeat_s
    while not ws.closed:
        timeout = max(0.0, next_beat - loop.time())
        try:
            message = await asyncio.wait_for(subscription.get(), timeout)
        except TimeoutError:
            message = {"type": "heartbeat", "data": {}}
            next_beat = loop.time() + heartbeat_s
        if message["type"] in PUSHED_WITH_STATS:
            message = {**message, "stats": await _figures(ctx, message["type"])}
        try:
            await ws.send_str(dumps(message))
        except (ConnectionError, RuntimeError):
            _LOGGER.debug("WebSocket client went away while sending")
            await ws.close()
            return


HANDLERS = {"events": events}
