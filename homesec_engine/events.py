"""EventHub: in-process fan-out of live messages (alerts, camera health) to subscribers.

Publishing never blocks: each subscriber has a bounded queue; when a slow subscriber's queue
is full the oldest message is dropped and counted, so a stuck WebSocket client cannot slow
the pipeline.

A message published with `retain_s` is also given to every subscriber that connects within
that time: what the engine says while nobody can listen yet (the ends of events a killed
engine left open, published at start before any client could connect) is still heard.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from typing import Any

MAX_RETAINED = 256  # retained messages kept at most (the oldest go first)


class Subscription:
    def __init__(self, hub: EventHub, maxsize: int) -> None:
        self._hub = hub
        self.queue: asyncio.Queue[dict[str, Any]] = asyncio.Queue(maxsize=maxsize)
        self.dropped = 0

    def offer(self, message: dict[str, Any]) -> None:
        if self.queue.full():
            self.queue.get_nowait()
            self.dropped += 1
        self.queue.put_nowait(message)

    async def get(self) -> dict[str, Any]:
        return await self.queue.get()

    def close(self) -> None:
        self._hub.unsubscribe(self)

    def __enter__(self) -> Subscription:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class EventHub:
    def __init__(self) -> None:
        self._subscribers: set[Subscription] = set()
        self._retained: deque[tuple[float, dict[str, Any]]] = deque(maxlen=MAX_RETAINED)
        self.published = 0

    def subscribe(self, maxsize: int = 256) -> Subscription:
        sub = Subscription(self, maxsize)
        now = time.monotonic()
        while self._retained and self._retained[0][0] <= now:
            self._retained.popleft()
        for _until, message in self._retained:
            sub.offer(message)
        self._subscribers.add(sub)
        return sub

    def unsubscribe(self, sub: Subscription) -> None:
        self._subscribers.discard(sub)

    @property
    def dropped(self) -> int:
        return sum(s.dropped for s in self._subscribers)

    def publish(self, message_type: str, data: dict[str, Any], *,
                retain_s: float = 0.0) -> None:
        """Queue `{"type": message_type, "data": data}` for every subscriber (and, with
        `retain_s`, for those that subscribe within that many seconds)."""
        message = {"type": message_type, "data": data}
        self.published += 1
        if retain_s > 0:
            self._retained.append((time.monotonic() + retain_s, message))
        for sub in list(self._subscribers):
            sub.offer(message)
