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
from ..sources.live import SnapshotCache
from ..sources.webrtc import WebRtcSessions
from .auth import AuthSettings

_LOGGER = logging.getLogger(__name__)


@dataclass(slots=True)
class ApiSettings:
    heartbeat_s: float = 30.0  # WebSocket heartbeat interval
    ws_queue_size: int = 256  # per-client queue; the oldest message is dropped beyond it
    stats_cache_s: float = 1.0  # how long today's counters are reused (0: always count)
    probe_interval_s: float = 1.0  # least time between two database pings
    probe_timeout_s: float = 2.0
    snapshot_encodes: int = 2  # live JPEG encodes at once across cameras (the rest wait)


@dataclass(slots=True)
class WsCounters:
    clients: int = 0
    dropped_closed: int = 0  # drops of clients that have gone (live ones are in the hub)


@dataclass(slots=True)
class _StatsCache:
    key: datetime | None = None
    generation: int = -1  # the repository's generation the counts were read at
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
    snapshot_caches: dict[str, SnapshotCache] = field(default_factory=dict)
    snapshot_slots: asyncio.Semaphore | None = None
    webrtc: WebRtcSessions = field(default_factory=WebRtcSessions)
    _stats: _StatsCache = field(default_factory=_StatsCache)
    _stats_lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    _config: tuple[int, dict[str, Any]] | None = None
    _probe: asyncio.Task[tuple[bool, float | None]] | None = None
    _refresh: asyncio.Task[Any] | None = None
    _probe_at: float = float("-inf")
    _probe_result: tuple[bool, float | None] = (False, None)

    def config(self) -> dict[str, Any]:
        """The merged config, copied once per config_version (READ-ONLY for handlers).

        ConfigManager.get_config() deep-copies on every call; a poll-heavy route cannot
        afford that, and every change bumps config_version, so the copy is never stale.
        """
        manager = self.runtime.config_manager
        version = manager.config_version
        if self._config is None or self._config[0] != version:
            self._config = (version, manager.get_config())
        return self._config[1]

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

    def detach(self) -> None:
        """Let go of the runtime once the app is cleaned up.

        aiohttp keeps recently built middleware chains in a module-level cache keyed by the
        Application, so a stopped app outlives its restart; it must not keep the whole
        engine it served (every in-process restart would add one).
        """
        self.runtime = None  # type: ignore[assignment]  # no handler runs after cleanup
        self._config = None
        self.route_specs.clear()

    async def close(self) -> None:
        await self.webrtc.close()
        if self._refresh is not None:
            self._refresh.cancel()
            await asyncio.gather(self._refresh, return_exceptions=True)
            self._refresh = None
        if self._probe is not None:
            self._probe.cancel()
            try:
                await self._probe
            except BaseException:  # noqa: BLE001 - closing: the result no longer matters
                pass
            self._probe = None

    # -- counters ------------------------------------------------------------------------

    async def today_counts(self) -> tuple[int, int]:
        """(clips_today, alerts_today); raises DatabaseUnavailable while the DB is down.

        Reused while nothing was written since (the repository's generation) and for at most
        `stats_cache_s`, so a stored clip is counted by the very next read. When only the time
        ran out, the old value is served while one background task counts afresh
        (stale-while-revalidate): writes by other processes show a poll later.
        """
        midnight = local_midnight()
        cache = self._stats
        ttl = self.settings.stats_cache_s
        repo = self.runtime.started_repository()
        same = ttl > 0 and cache.key == midnight and cache.generation == repo.generation
        if same and repo.available:
            if time.monotonic() - cache.at >= ttl and (
                    self._refresh is None or self._refresh.done()):
                self._refresh = asyncio.create_task(self._count(midnight))
                self._refresh.add_done_callback(_quiet)
            return cache.clips_today, cache.alerts_today
        async with self._stats_lock:
            if ttl > 0 and cache.key == midnight and cache.generation == repo.generation and \
                    time.monotonic() - cache.at < ttl:
                return cache.clips_today, cache.alerts_today
            return await self._count(midnight)

    async def recount_today(self) -> tuple[int, int]:
        """(clips_today, alerts_today) counted now (the cache takes the new values)."""
        async with self._stats_lock:
            return await self._count(local_midnight())

    async def _count(self, midnight: datetime) -> tuple[int, int]:
        repo = self.runtime.started_repository()
        generation = repo.generation  # before the reads: a write during them makes it stale
        clips = await repo.count_clips_since(midnight)
        alerts = await repo.count_alerts_since(midnight)
        cache = self._stats
        cache.key, cache.at, cache.generation = midnight, time.monotonic(), generation
        cache.clips_today, cache.alerts_today = clips, alerts
        return clips, alerts


def cameras_online(ctx: ApiContext) -> int:
    """Enabled cameras streaming now."""
    return sum(1 for s in ctx.runtime.cameras().values() if s.enabled and s.healthy)


def _quiet(task: asyncio.Task[Any]) -> None:
    """A background recount that failed (DB down) is retried by the next poll."""
    if not task.cancelled():
        task.exception()

CONTEXT_KEY = web.AppKey("homesec_api", ApiContext)


def context(request: web.Request) -> ApiContext:
    return request.app[CONTEXT_KEY]
