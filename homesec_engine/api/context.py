"""Per-app state shared by the handlers: the runtime, settings, probes and caches."""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from aiohttp import web

from ..runtime import EngineRuntime
from .auth import AuthSettings

_LOGGER = logging.getLogger(__name__)


@dataclass(slots=True)
class ApiSettings:
    heartbeat_s: float = 30.0  # WebSocket heartbeat interval
    ws_queue_size: int = 256  # per-client queue; the oldest message is dropped beyond it
    stats_cache_s: float = 1.0  # how long today's counters are reused (0: always count)
    probe_interval_s: float = 1.0  # least time between two database pings
    probe_timeout_s: float = 2.0


@dataclass(slots=True)
class WsCounters:
    clients: int = 0
    dropped_closed: int = 0  # drops of clients that have gone (live ones are in the hub)


@dataclass(slots=True)
class _StatsCache:
    key: datetime | None = None
    at: float = 0.0
    clips_today: int = 0
    alerts_today: int = 0


def local_midnight() -> datetime:
    """The start of today on the engine's clock, in UTC ("today" as the user sees it)."""
    now = datetime.now().astimezone()
    return now.replace(hour=0, minute=0, second=0, microsecond=0).astimezone(UTC)


@dataclass(slots=True)
class ApiContext:
    runtime: EngineRuntime
    auth: AuthSettings
    settings: ApiSettings
    ws: WsCounters = field(default_factory=WsCounters)
    route_specs: dict[Any, dict[str, Any]] = field(default_factory=dict)
    openapi_body: bytes | None = None
    sockets: set[web.WebSocketResponse] = field(default_factory=set)
    _stats: _StatsCache = field(default_factory=_StatsCache)
    _stats_lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    _probe: asyncio.Task[tuple[bool, float | None]] | None = None
    _probe_at: float = float("-inf")
    _probe_result: tuple[bool, float | None] = (False, None)

    # -- database ------------------------------------------------------------------------

    async def probe_database(self, *, force: bool = False) -> tuple[bool, float | None]:
        """(up, latency_ms) from a ping, shared by concurrent callers, at most one a second.

        `force` pings unless the last ping is fresh; without it the repository's own
        view is trusted while it says the database is up (it notices outages on use).
        """
        repo = self.runtime.repository
        if repo is None:
            return False, None
        if not force and repo.available:
            return True, self._probe_result[1]
        if time.monotonic() - self._probe_at < self.settings.probe_interval_s:
            return self._probe_result
        if self._probe is None:
            self._probe = asyncio.create_task(self._ping(repo))
        try:
            return await asyncio.shield(self._probe)
        finally:
            if self._probe is not None and self._probe.done():
                self._probe = None

    async def _ping(self, repo: Any) -> tuple[bool, float | None]:
        started = time.monotonic()
        try:
            up = bool(await asyncio.wait_for(repo.ping(), self.settings.probe_timeout_s))
        except Exception as exc:  # noqa: BLE001 - a failed probe is an answer, not an error
            _LOGGER.debug("Database probe failed: %s", type(exc).__name__)
            up = False
        latency = (time.monotonic() - started) * 1000 if up else None
        self._probe_at = time.monotonic()
        self._probe_result = (up, latency)
        return self._probe_result

    async def close(self) -> None:
        if self._probe is not None:
            self._probe.cancel()
            try:
                await self._probe
            except BaseException:  # noqa: BLE001 - closing: the result no longer matters
                pass
            self._probe = None

    # -- counters ------------------------------------------------------------------------

    async def today_counts(self) -> tuple[int, int]:
        """(clips_today, alerts_today), reused for `stats_cache_s` (raises when the DB is down)."""
        midnight = local_midnight()
        cache = self._stats
        ttl = self.settings.stats_cache_s
        if ttl > 0 and cache.key == midnight and time.monotonic() - cache.at < ttl:
            return cache.clips_today, cache.alerts_today
        async with self._stats_lock:
            if ttl > 0 and cache.key == midnight and time.monotonic() - cache.at < ttl:
                return cache.clips_today, cache.alerts_today
            repo = self.runtime.repository
            clips = await repo.count_clips_since(midnight)
            alerts = await repo.count_alerts_since(midnight)
            cache.key, cache.at = midnight, time.monotonic()
            cache.clips_today, cache.alerts_today = clips, alerts
            return clips, alerts


CONTEXT_KEY = web.AppKey("homesec_api", ApiContext)


def context(request: web.Request) -> ApiContext:
    return request.app[CONTEXT_KEY]
