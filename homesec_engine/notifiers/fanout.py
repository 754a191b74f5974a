"""Fan-out of alerts and health changes to every notifier, never blocking the pipeline.

Each delivery runs as its own task (a slow or dead notifier delays nobody) and is bounded in
total time, retries included. `drain()` waits for deliveries in flight at shutdown.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any
from collections.abc import Awaitable, Callable
from datetime import datetime

from ..records import AlertEvent
from .base import Notifier

_LOGGER = logging.getLogger(__name__)

ResultCallback = Callable[[str, bool, "str | None"], Awaitable[None]]
DEFAULT_TOTAL_TIMEOUT_S = 120.0


class NotifierFanout:
    def __init__(self, notifiers: list[Notifier],
                 total_timeout_s: float = DEFAULT_TOTAL_TIMEOUT_S) -> None:
        self.notifiers = notifiers
        self.total_timeout_s = total_timeout_s
        self._tasks: set[asyncio.Task[None]] = set()

    @property
    def in_flight(self) -> int:
        return len(self._tasks)

    def alert(self, event: AlertEvent, on_result: ResultCallback | None = None
              ) -> list[asyncio.Task[None]]:
        """Start delivering `event` to every notifier; returns the delivery tasks."""
        return [self._spawn(n, n.notify(event), on_result) for n in self.notifiers]

    def live_event(self, message: dict[str, Any]) -> list[asyncio.Task[None]]:
        """A live event message (started/updated/ended/interrupted) to every notifier."""
        return [self._spawn(n, n.publish_live_event(message), None)
                for n in self.notifiers if n.sends_live_events]

    def camera_health(self, camera: str, healthy: bool,
                      last_heartbeat: datetime | None = None) -> list[asyncio.Task[None]]:
        return [self._spawn(n, n.publish_camera_health(camera, healthy, last_heartbeat), None)
                for n in self.notifiers]

    def _spawn(self, notifier: Notifier, delivery: Awaitable[None],
               on_result: ResultCallback | None) -> asyncio.Task[None]:
        task = asyncio.create_task(self._run(notifier, delivery, on_result),
                                   name=f"homesec-notify-{notifier.name}")
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    async def _run(self, notifier: Notifier, delivery: Awaitable[None],
                   on_result: ResultCallback | None) -> None:
        error: str | None = None
        try:
            await asyncio.wait_for(delivery, self.total_timeout_s)
        except TimeoutError:
            error = f"gave up after {self.total_timeout_s:g} s"
            notifier.last_error = error
        except Exception as err:  # best effort: a notifier failure stays with the notifier
            error = str(err) or type(err).__name__
        if on_result is not None:
            try:
                await on_result(notifier.name, error is None, error)
            except Exception:
                _LOGGER.exception("recording the result of notifier %s failed", notifier.name)

    async def drain(self, timeout: float) -> None:
        """Wait up to `timeout` s for deliveries in flight, then cancel what is left."""
        if not self._tasks:
            return
        _, pending = await asyncio.wait(set(self._tasks), timeout=timeout)
        for task in pending:
            task.cancel()
        if pending:
            await asyncio.gather(*pending, return_exceptions=True)

    async def close(self) -> None:
        for notifier in self.notifiers:
            try:
                await notifier.close()
            except Exception:
                _LOGGER.exception("closing notifier %s failed", notifier.name)
