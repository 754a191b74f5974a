"""Every engine's live messages on every engine: EventHub <-> PostgreSQL LISTEN/NOTIFY.

Each message this engine publishes (alert, camera_health, event) goes out as a NOTIFY on
one channel with the engine's id; each engine LISTENs and publishes the other engines'
messages on its own hub, so a WebSocket client of any engine hears every camera. Messages
received from the channel are not sent back out. NOTIFY carries at most 8000 bytes: a larger
message is counted in `too_large` and stays on its own engine. The listening connection is
opened again after the database went away (messages sent meanwhile are not replayed: the
REST API has the state).
"""

from __future__ import annotations

import asyncio
import json
import logging
from typing import Any

import asyncpg  # type: ignore[import-untyped]
from sqlalchemy.engine import URL

from ..events import EventHub

_LOGGER = logging.getLogger(__name__)

CHANNEL = "homesec_events"
MAX_PAYLOAD = 7900  # PostgreSQL's limit is 8000 bytes


class EventRelay:
    def __init__(self, engine_id: str, url: URL, events: EventHub, *,
                 timeout_s: float = 5.0, retry_s: float = 1.0,
                 last_alerts: dict[str, dict[str, Any]] | None = None) -> None:
        self.engine_id = engine_id
        # The runtime's {camera: last alert}: another engine's alert is its camera's last too.
        self._last_alerts = last_alerts
        self._dsn = url.set(drivername="postgresql").render_as_string(hide_password=False)
        self._events = events
        self._timeout_s, self._retry_s = timeout_s, retry_s
        self._subscription = events.subscribe(maxsize=1024)
        self._received: dict[int, dict[str, Any]] = {}  # id -> data published from outside
        self._stop = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []
        self._listening = asyncio.Event()
        self.sent = self.received = self.too_large = 0

    async def start(self) -> None:
        self._tasks = [asyncio.create_task(self._listen(), name="homesec-relay-listen"),
                       asyncio.create_task(self._send(), name="homesec-relay-send")]

    async def wait_listening(self, timeout: float) -> None:
        await asyncio.wait_for(self._listening.wait(), timeout)

    async def close(self) -> None:
        self._stop.set()
        self._subscription.close()
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)

    # -- out -----------------------------------------------------------------------------

    async def _send(self) -> None:
        conn: asyncpg.Connection | None = None
        try:
            while True:
                message = await self._subscription.get()
                if self._received.pop(id(message["data"]), None) is not None:
                    continue  # came from another engine
                payload = json.dumps({"engine": self.engine_id, **message},
                                     separators=(",", ":"), default=str)
                if len(payload.encode()) > MAX_PAYLOAD:
                    self.too_large += 1
                    continue
                try:
                    if conn is None or conn.is_closed():
                        conn = await asyncpg.connect(self._dsn, timeout=self._timeout_s)
                    await conn.execute("SELECT pg_notify($1, $2)", CHANNEL, payload,
                                       timeout=self._timeout_s)
                    self.sent += 1
                except (OSError, asyncpg.PostgresError, TimeoutError) as err:
                    _LOGGER.debug("relay: message not sent: %s", err)
                    if conn is not None:
                        conn.terminate()
                    conn = None
        finally:
            if conn is not None:
                conn.terminate()

    # -- in ------------------------------------------------------------------------------

    def _on_notify(self, _conn: object, _pid: int, _channel: str, payload: str) -> None:
        try:
            message = json.loads(payload)
        except ValueError:
            return
        if not isinstance(message, dict) or message.get("engine") == self.engine_id:
            return
        data = message.get("data")
        if not isinstance(data, dict) or not isinstance(message.get("type"), str):
            return
        self.received += 1
        if len(self._received) > 4096:  # our subscription dropped some: forget them
            self._received.clear()
        self._received[id(data)] = data  # kept alive until our own subscription skips it
        if message["type"] == "alert" and self._last_alerts is not None and \
                isinstance(data.get("camera"), str) and isinstance(data.get("last_alert"), dict):
            self._last_alerts[data["camera"]] = data["last_alert"]
        self._events.publish(message["type"], data)

    async def _listen(self) -> None:
        while not self._stop.is_set():
            conn: asyncpg.Connection | None = None
            try:
                conn = await asyncpg.connect(self._dsn, timeout=self._timeout_s)
                await conn.add_listener(CHANNEL, self._on_notify)
                self._listening.set()
                while not self._stop.is_set() and not conn.is_closed():
                    # A query now and then finds a dead link (a listener alone waits forever).
                    await conn.execute("SELECT 1", timeout=self._timeout_s)
                    try:
                        await asyncio.wait_for(self._stop.wait(), self._retry_s * 5)
                    except TimeoutError:
                        pass
            except (OSError, asyncpg.PostgresError, TimeoutError) as err:
                _LOGGER.debug("relay: not listening: %s", err)
            finally:
                self._listening.clear()
                if conn is not None:
                    conn.terminate()
            try:
                await asyncio.wait_for(self._stop.wait(), self._retry_s)
            except TimeoutError:
                pass
