"""The notifier interface and its retry loop.

A backend implements one delivery attempt (`send_alert`, `send_health`); `notify` and
`publish_camera_health` retry it `max_retries` times with exponential backoff bounded by
`max_backoff_s`. A `PermanentNotifierError` (bad token, refused request) stops retrying.
"""

from __future__ import annotations

import asyncio
import logging
import time
from abc import ABC, abstractmethod
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any

from ..records import AlertEvent

_LOGGER = logging.getLogger(__name__)


class NotifierError(Exception):
    """A delivery attempt failed; it may work when tried again."""


class PermanentNotifierError(NotifierError):
    """A delivery failed in a way retrying cannot fix (e.g. HTTP 401)."""


class NotifierConfigError(Exception):
    """The notifier cannot work with what it was given (a start-up error)."""


class Notifier(ABC):
    backend = "notifier"

    def __init__(self, config: dict[str, Any], *, name: str | None = None,
                 backoff_s: float = 1.0, max_backoff_s: float = 30.0) -> None:
        self.config = config
        self.name = name or self.backend
        self.max_retries = int(config.get("max_retries", 3))
        self.backoff_s = backoff_s
        self.max_backoff_s = max_backoff_s
        self.sent = 0
        self.failed = 0
        self.last_error: str | None = None
        self.last_latency_ms: float | None = None

    async def start(self) -> None:
        """Check the settings and connect; raise NotifierConfigError when unusable."""

    async def close(self) -> None:
        """Disconnect."""

    def status(self) -> dict[str, Any]:
        return {"status": "error" if self.last_error else "ok", "error": self.last_error,
                "latency_ms": self.last_latency_ms, "sent": self.sent, "failed": self.failed}

    @abstractmethod
    async def send_alert(self, event: AlertEvent) -> None:
        """One attempt to deliver an alert."""

    @abstractmethod
    async def send_health(self, camera: str, healthy: bool,
                          last_heartbeat: datetime | None) -> None:
        """One attempt to deliver a camera health change."""

    sends_live_events = False  # True: send_live_event delivers event messages too

    async def send_live_event(self, message: dict[str, Any]) -> None:
        """One attempt to deliver a live event message (when `sends_live_events`)."""

    async def notify(self, event: AlertEvent) -> None:
        await self._deliver(f"alert {event.clip_id}", lambda: self.send_alert(event))

    async def publish_camera_health(self, camera: str, healthy: bool,
                                    last_heartbeat: datetime | None = None) -> None:
        await self._deliver(f"health of {camera}",
                            lambda: self.send_health(camera, healthy, last_heartbeat))

    async def publish_live_event(self, message: dict[str, Any]) -> None:
        await self._deliver(f"event {message.get('phase')} {message.get('clip_id')}",
                            lambda: self.send_live_event(message))

    async def _deliver(self, what: str, attempt: Callable[[], Awaitable[None]]) -> None:
        tries = 0
        while True:
            started = time.monotonic()
            try:
                await attempt()
            except NotifierError as err:
                self.last_error = str(err)
                final = isinstance(err, PermanentNotifierError) or tries >= self.max_retries
                if final:
                    self.failed += 1
                    _LOGGER.warning("notifier %s: %s not delivered: %s", self.name, what, err)
                    raise
                delay = min(self.max_backoff_s, self.backoff_s * 2**tries)
                _LOGGER.info("notifier %s: %s failed (%s); retry in %.1f s",
                             self.name, what, err, delay)
                tries += 1
                await asyncio.sleep(delay)
                continue
            self.last_latency_ms = round((time.monotonic() - started) * 1000, 1)
            self.last_error = None
            self.sent += 1
            return
