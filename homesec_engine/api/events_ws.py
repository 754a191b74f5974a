"""The /api/v1/events WebSocket: live `alert` and `camera_health` messages, plus heartbeats.

Each client reads from its own bounded EventHub subscription, so a slow client only loses
its own oldest messages (counted, shown in /diagnostics) and never slows the pipeline.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

from aiohttp import WSMsgType, web

from ..events import Subscription
from .context import context
from .views import dumps

_LOGGER = logging.getLogger(__name__)


async def events(request: web.Request) -> web.StreamResponse:
    ctx = context(request)
    ws = web.WebSocketResponse(heartbeat=None, autoping=True)
    if not ws.can_prepare(request).ok:
        raise web.HTTPBadRequest(reason="Expected a WebSocket upgrade")
    await ws.prepare(request)
    ctx.sockets.add(ws)
    subscription = ctx.runtime.events.subscribe(maxsize=ctx.settings.ws_queue_size)
    ctx.ws.clients += 1
    sender = asyncio.create_task(_send_loop(ws, subscription, ctx.settings.heartbeat_s))
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


async def _send_loop(ws: web.WebSocketResponse, subscription: Subscription,
                     heartbeat_s: float) -> None:
    loop = asyncio.get_running_loop()
    next_beat = loop.time() + heartbeat_s
    while not ws.closed:
        timeout = max(0.0, next_beat - loop.time())
        try:
            message = await asyncio.wait_for(subscription.get(), timeout)
        except TimeoutError:
            message = {"type": "heartbeat", "data": {}}
            next_beat = loop.time() + heartbeat_s
        try:
            await ws.send_str(dumps(message))
        except (ConnectionError, RuntimeError):
            _LOGGER.debug("WebSocket client went away while sending")
            await ws.close()
            return


HANDLERS = {"events": events}
