"""Serving the API to peers that may be hostile: deadlines, a connection cap, quiet logs.

The add-on listens on 0.0.0.0, so anyone on the network can open connections without a key.
aiohttp alone holds a half-sent request as long as the peer likes, and at the descriptor limit
asyncio logs every failed accept. Here:

- a request head must arrive within `header_timeout_s` of the connection going idle (connect,
  or the previous response), else the connection is closed: this also ends idle keep-alive;
  a body must arrive within `body_timeout_s` (inputs.read_json);
- connections are capped in total and per peer address (`server.max_connections_per_address`),
  the total kept below the descriptor limit with `fd_reserve` descriptors left for
  recordings, storage and the database (and room for a full listen queue, which asyncio
  accepts in one go). At the cap the oldest connection still waiting for its request head
  makes room; if none waits, the new one is refused. A peer over its own share is refused.
  The trusted proxies (`server.trusted_proxies`, the add-on's ingress) carry everyone's
  requests from one address: only the total cap applies to them. A refused connection is
  answered `503 Service Unavailable` (with `Retry-After`) and closed; refusals are counted
  (`refused`) and logged as one line per `log_interval_s`;
- failed accepts (descriptor limit) and malformed requests are logged as one line, at most
  once per `log_interval_s`, with the count of those left out.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import time
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from aiohttp import web
from aiohttp.http_exceptions import HttpProcessingError

from .auth import normalise_ip

try:
    import resource
except ImportError:  # pragma: no cover - not on Linux
    resource = None  # type: ignore[assignment]

_LOGGER = logging.getLogger(__name__)


DEFAULT_MAX_PER_PEER = 64  # server.max_connections_per_address's default


@dataclass(frozen=True, slots=True)
class ServerLimits:
    header_timeout_s: float = 10.0
    keepalive_timeout_s: float = 10.0  # aiohttp's own idle timer, the same bound
    body_timeout_s: float = 30.0
    max_connections: int = 512
    max_per_peer: int = DEFAULT_MAX_PER_PEER
    fd_reserve: int = 64  # descriptors never taken by API connections
    # Listen queue: asyncio accepts up to this many at once before any can be refused, so
    # the cap leaves room for a full queue too.
    backlog: int = 32
    log_interval_s: float = 60.0
    exempt_peers: frozenset[str] = frozenset()  # no per-peer cap: the trusted proxies


def server_limits(server_config: Mapping[str, Any]) -> ServerLimits:
    """The limits the `server` config section sets (the rest are built in)."""
    return ServerLimits(
        max_per_peer=int(server_config.get("max_connections_per_address")
                         or DEFAULT_MAX_PER_PEER),
        exempt_peers=frozenset(normalise_ip(p)
                               for p in server_config.get("trusted_proxies") or []))


# The whole answer to a refused connection: sent before its request is read, then closed.
_BUSY_BODY = json.dumps({"error_code": "SERVER_BUSY", "detail": "too many connections from "
                         "this address, or in all; try again later"}).encode()
BUSY_RESPONSE = (b"HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/json\r\n"
                 b"Retry-After: 5\r\nConnection: close\r\n"
                 b"Content-Length: %d\r\n\r\n%s" % (len(_BUSY_BODY), _BUSY_BODY))


def open_descriptors() -> int:
    try:
        return len(os.listdir("/proc/self/fd"))
    except OSError:
        return 64  # a guess where /proc is missing


def connection_cap(limits: ServerLimits) -> int:
    """Connections the API may hold: the configured cap, lowered to fit the descriptor limit.

    The soft limit is raised to the hard one first (a default of 1024 is common while the
    hard limit is much higher).
    """
    soft = None
    if resource is not None:
        soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
        if hard != resource.RLIM_INFINITY and soft < hard:
            try:
                resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
                soft = hard
            except (ValueError, OSError):
                pass
    if soft is None or soft == getattr(resource, "RLIM_INFINITY", -1):
        return limits.max_connections
    room = int(soft) - open_descriptors() - limits.fd_reserve - limits.backlog
    return max(4, min(limits.max_connections, room))


class _RateLimited(logging.Filter):
    """Lets a matching record through once per interval, as one line, with a count."""

    def __init__(self, interval_s: float) -> None:
        super().__init__()
        self.interval_s = interval_s
        self._last = float("-inf")
        self._skipped = 0

    def matches(self, record: logging.LogRecord) -> str | None:
        raise NotImplementedError

    def filter(self, record: logging.LogRecord) -> bool:
        line = self.matches(record)
        if line is None:
            return True
        now = time.monotonic()
        if now - self._last < self.interval_s:
            self._skipped += 1
            return False
        if self._skipped:
            line += f" ({self._skipped} more like it since the last report)"
        self._last, self._skipped = now, 0
        record.msg, record.args, record.exc_info, record.exc_text = line, (), None, None
        record.levelno, record.levelname = logging.WARNING, "WARNING"
        return True


class AcceptErrorFilter(_RateLimited):
    """asyncio's 'socket.accept() out of system resource' (with a traceback, per retry)."""

    def matches(self, record: logging.LogRecord) -> str | None:
        if "socket.accept() out of system resource" not in str(record.msg):
            return None
        exc = record.exc_info[1] if record.exc_info else None
        reason = getattr(exc, "strerror", None) or "out of resources"
        return f"API: cannot accept connections: {reason}"


class BadRequestFilter(_RateLimited):
    """aiohttp's 'Error handling request' for requests that are not valid HTTP."""

    def matches(self, record: logging.LogRecord) -> str | None:
        exc = record.exc_info[1] if record.exc_info else None
        if not isinstance(exc, HttpProcessingError):
            return None
        peer = record.args[0] if isinstance(record.args, tuple) and record.args else "?"
        message = str(getattr(exc, "message", "") or exc).splitlines()[0][:200]
        return f"API: malformed request from {peer}: {message}"


class RefusalLog:
    """Refused connections as one WARNING line per interval: how many, why, from where."""

    def __init__(self, loop: asyncio.AbstractEventLoop, interval_s: float) -> None:
        self._loop, self.interval_s = loop, interval_s
        self._counts: Counter[tuple[str, str]] = Counter()
        self._flush: asyncio.TimerHandle | None = None
        self._quiet_until = float("-inf")

    def note(self, reason: str, peer: str) -> None:
        self._counts[(reason, peer)] += 1
        if self._loop.time() >= self._quiet_until:
            self.report()
        elif self._flush is None:
            self._flush = self._loop.call_at(self._quiet_until, self.report)

    def report(self) -> None:
        self._flush = None
        if not self._counts:
            return
        parts = [f"{count} {reason} from {peer}"
                 for (reason, peer), count in self._counts.most_common(5)]
        more = len(self._counts) - len(parts)
        _LOGGER.warning("API: refused %d connection(s) with 503: %s%s",
                        sum(self._counts.values()), "; ".join(parts),
                        f" (and {more} more)" if more > 0 else "")
        self._counts.clear()
        self._quiet_until = self._loop.time() + self.interval_s

    def close(self) -> None:
        """Report what is still counted (a stop must not hide the last refusals)."""
        if self._flush is not None:
            self._flush.cancel()
        self.report()


def install_log_filters(limits: ServerLimits) -> None:
    """Add the filters once (a restarted engine in the same process keeps them)."""
    for name, cls in (("asyncio", AcceptErrorFilter), ("aiohttp.server", BadRequestFilter)):
        logger = logging.getLogger(name)
        if not any(isinstance(f, cls) for f in logger.filters):
            logger.addFilter(cls(limits.log_interval_s))


def _peer(transport: asyncio.BaseTransport) -> str:
    info = transport.get_extra_info("peername")
    return str(info[0]) if isinstance(info, tuple) and info else "?"


def _waiting_for_head(handler: Any) -> bool:
    """The connection has no request in hand: idle, or its head is still arriving."""
    return getattr(handler, "_current_request", None) is None and not getattr(
        handler, "_messages", None)


class ConnectionGuard:
    """Wraps an aiohttp Server's connection bookkeeping with the cap and the head deadline."""

    def __init__(self, server: web.Server, limits: ServerLimits) -> None:
        self.limits = limits
        self.cap = connection_cap(limits)
        self.refused = 0
        self._loop = asyncio.get_running_loop()
        self._since: dict[Any, float] = {}  # handler -> when it started waiting for a head
        self._state: dict[Any, tuple[int, float] | None] = {}  # (requests seen, since)
        self._sweep: asyncio.TimerHandle | None = None
        self._closed = False
        self._refusals = RefusalLog(self._loop, limits.log_interval_s)
        self._peers: dict[Any, str] = {}
        self._per_peer: Counter[str] = Counter()
        self._inner_made = server.connection_made
        self._inner_lost = server.connection_lost
        server.connection_made = self.connection_made  # type: ignore[method-assign]
        server.connection_lost = self.connection_lost  # type: ignore[method-assign]

    @property
    def open(self) -> int:
        return len(self._peers)

    def connection_made(self, handler: Any, transport: asyncio.Transport) -> None:
        self._inner_made(handler, transport)
        peer = _peer(transport)
        if self._per_peer[peer] >= self.limits.max_per_peer and \
                peer not in self.limits.exempt_peers:
            self._refuse(transport, peer, f"over the cap of {self.limits.max_per_peer} "
                         "per address (server.max_connections_per_address)")
            return
        if len(self._peers) >= self.cap and not self._evict_oldest_waiting():
            self._refuse(transport, peer, f"at the total cap of {self.cap}")
            return
        self._peers[handler] = peer
        self._per_peer[peer] += 1
        self._arm(handler, getattr(handler, "_request_count", 0))

    def connection_lost(self, handler: Any, exc: BaseException | None = None) -> None:
        self._forget(handler)
        self._inner_lost(handler, exc)

    def _forget(self, handler: Any) -> None:
        peer = self._peers.pop(handler, None)
        self._since.pop(handler, None)
        self._state.pop(handler, None)
        if peer is not None:
            self._per_peer[peer] -= 1
            if self._per_peer[peer] <= 0:
                del self._per_peer[peer]

    def _refuse(self, transport: asyncio.Transport, peer: str, reason: str) -> None:
        self.refused += 1
        self._refusals.note(reason, peer)
        # On the next turn of the loop: aiohttp has not started the connection's handler
        # yet, and one that starts on a connection already lost fails with a traceback.
        self._loop.call_soon(_answer_busy, transport)

    def _evict_oldest_waiting(self) -> bool:
        waiting = [(since, h) for h, since in self._since.items() if _waiting_for_head(h)]
        if not waiting:
            return False
        _, oldest = min(waiting, key=lambda item: item[0])
        self._forget(oldest)  # its slot is free now; connection_lost follows
        oldest.force_close()
        return True

    def close(self) -> None:
        self._closed = True
        self._refusals.close()
        if self._sweep is not None:
            self._sweep.cancel()
            self._sweep = None

    def _arm(self, handler: Any, seen: int) -> None:
        self._since[handler] = self._loop.time()
        self._state[handler] = (seen, self._loop.time())
        if self._sweep is None and not self._closed:
            self._sweep = self._loop.call_later(1.0, self._sweep_once)

    def _sweep_once(self) -> None:
        """Close connections that spent `header_timeout_s` idle or sending one request head.

        Once a second; a connection's clock starts when it opens or answers a request.
        """
        self._sweep = None
        now = self._loop.time()
        for handler in list(self._peers):
            count = getattr(handler, "_request_count", 0)
            if not _waiting_for_head(handler):
                self._state[handler] = None  # busy with a request
                self._since.pop(handler, None)
                continue
            state = self._state.get(handler)
            if state is None or state[0] != count:
                self._state[handler] = (count, now)
                self._since[handler] = now
            elif now - state[1] >= self.limits.header_timeout_s:
                handler.force_close()
        if self._peers and not self._closed:
            self._sweep = self._loop.call_later(1.0, self._sweep_once)


def _answer_busy(transport: asyncio.Transport) -> None:
    """503 and close; the request is never read (closing flushes the answer first)."""
    if transport.is_closing():
        return
    transport.write(BUSY_RESPONSE)
    transport.close()


BODY_TIMEOUT_KEY = web.AppKey("homesec_body_timeout_s", float)


class GuardedRunner(web.AppRunner):
    """An AppRunner whose server enforces `limits` (see the module docstring)."""

    def __init__(self, app: web.Application, limits: ServerLimits | None = None,
                 **kwargs: Any) -> None:
        self.limits = limits or ServerLimits()
        kwargs.setdefault("access_log", None)
        kwargs.setdefault("handle_signals", False)
        kwargs.setdefault("keepalive_timeout", self.limits.keepalive_timeout_s)
        app[BODY_TIMEOUT_KEY] = self.limits.body_timeout_s  # read by inputs.read_json
        super().__init__(app, **kwargs)
        self.guard: ConnectionGuard | None = None

    async def _make_server(self) -> web.Server:
        server = await super()._make_server()
        install_log_filters(self.limits)
        self.guard = ConnectionGuard(server, self.limits)
        _LOGGER.debug("API connection cap: %d (per peer %d)", self.guard.cap,
                      self.limits.max_per_peer)
        return server

    async def cleanup(self) -> None:
        if self.guard is not None:
            self.guard.close()
        await super().cleanup()
