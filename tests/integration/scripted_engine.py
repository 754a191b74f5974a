"""A scripted stand-in for the engine, for failure modes a healthy engine does not produce.

It is a real aiohttp server on loopback speaking the engine's protocol: JSON bodies shaped
like the engine's (the /status document, the documented error bodies), and a real WebSocket
on /api/v1/events whose handshake can be refused and whose messages are scripted. Tests use
the real engine wherever it can produce the situation; this covers proxies answering HTML,
odd bodies, a WebSocket refused while polls work, and malformed frames on the stream.
"""

from __future__ import annotations

import asyncio
import copy
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

from aiohttp import WSMsgType, web

# A reply: (status, body). dict/list bodies go out as JSON, str as text/html, bytes raw.
Reply = tuple[int, Any]


def status_body() -> dict[str, Any]:
    """An engine /status document with the front door camera (healthy, enabled)."""
    body: dict[str, Any] = {
        "health": {"status": "healthy", "pipeline": "running", "database": "up",
                   "cameras_online": 1, "version": "0.1.0"},
        "cameras": [{"name": "front_door", "enabled": True, "source_backend": "demo",
                     "healthy": True, "last_heartbeat": None, "last_alert": None}],
        "stats": {"clips_today": 0, "alerts_today": 0, "cameras_total": 1,
                  "cameras_online": 1, "uptime_seconds": 5.0},
        "config_version": 1,
        "restart_required": False,
    }
    return copy.deepcopy(body)


@dataclass
class ScriptedEngine:
    """Replies per "METHOD /path" (queued first, then the default), and a scripted WS."""

    port: int = 0
    host: str = "127.0.0.1"
    replies: dict[str, list[Reply]] = field(default_factory=dict)
    defaults: dict[str, Reply] = field(default_factory=dict)
    requests: list[str] = field(default_factory=list)
    # Handshake answers for the next WebSocket attempts (e.g. 401, 502); empty: accept.
    ws_refusals: list[int] = field(default_factory=list)
    ws_refuse_always: int | None = None
    # Frames sent to every accepted WebSocket: str -> text frame, bytes -> binary frame.
    ws_frames: list[str | bytes] = field(default_factory=list)
    ws_attempts: int = 0
    ws_open: int = 0
    _sockets: set[web.WebSocketResponse] = field(default_factory=set)

    def __post_init__(self) -> None:
        self.defaults.setdefault("GET /api/v1/status", (200, status_body()))

    def answer(self, route: str, *replies: Reply, default: Reply | None = None) -> None:
        self.replies.setdefault(route, []).extend(replies)
        if default is not None:
            self.defaults[route] = default

    async def handle(self, request: web.Request) -> web.StreamResponse:
        route = f"{request.method} {request.path}"
        self.requests.append(route)
        queued = self.replies.get(route)
        status, body = queued.pop(0) if queued else self.defaults.get(
            route, (404, {"detail": f"no route {route}", "error_code": "NOT_FOUND"})
        )
        if isinstance(body, bytes):
            return web.Response(status=status, body=body, content_type="image/jpeg")
        if isinstance(body, str):
            return web.Response(status=status, text=body, content_type="text/html")
        return web.json_response(body, status=status)

    async def events(self, request: web.Request) -> web.StreamResponse:
        self.ws_attempts += 1
        refusal = self.ws_refusals.pop(0) if self.ws_refusals else self.ws_refuse_always
        if refusal is not None:
            return web.json_response({"detail": "refused", "error_code": "UNAUTHORIZED"
                                      if refusal == 401 else "INTERNAL_ERROR"}, status=refusal)
        ws = web.WebSocketResponse(autoping=True)
        await ws.prepare(request)
        self._sockets.add(ws)
        self.ws_open += 1
        try:
            for frame in self.ws_frames:
                if isinstance(frame, bytes):
                    await ws.send_bytes(frame)
                else:
                    await ws.send_str(frame)
            async for msg in ws:
                if msg.type == WSMsgType.ERROR:
                    break
        finally:
            self.ws_open -= 1
            self._sockets.discard(ws)
        return ws

    async def send(self, message: dict[str, Any]) -> None:
        """Push one JSON message to every open WebSocket."""
        for ws in list(self._sockets):
            await ws.send_str(json.dumps(message))

    async def close_sockets(self) -> None:
        for ws in list(self._sockets):
            await ws.close()


@asynccontextmanager
async def scripted_engine(host: str = "127.0.0.1") -> AsyncIterator[ScriptedEngine]:
    """Serve a ScriptedEngine on a free loopback port until the block ends."""
    engine = ScriptedEngine(host=host)
    app = web.Application()
    app.router.add_get("/api/v1/events", engine.events)
    app.router.add_route("*", "/api/v1/{tail:.*}", engine.handle)
    runner = web.AppRunner(app, handle_signals=False, shutdown_timeout=0.5)
    await runner.setup()
    site = web.TCPSite(runner, host, 0)
    await site.start()
    try:
        engine.port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        yield engine
    finally:
        await engine.close_sockets()
        await runner.cleanup()
        await asyncio.sleep(0)
