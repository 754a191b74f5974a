"""The clip source interface and the health/callback plumbing every source shares.

A source runs its work in background tasks or threads, hands finished recordings to
``on_clip`` and reports health changes to ``on_health``. Callbacks are coroutines run on the
event loop that called ``start()``; worker threads reach them through ``_emit_*``, which are
thread-safe and never block the worker.
"""

from __future__ import annotations

import asyncio
import inspect
import logging
import re
from abc import ABC, abstractmethod
from collections.abc import Awaitable, Callable, Mapping, Sequence
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..records import ClipFile, utcnow
from .live import LiveFrame
from .restream import RestreamHub

if TYPE_CHECKING:
    from ..live.watch import LiveWatch

ClipCallback = Callable[[ClipFile], Awaitable[None]]
HealthCallback = Callable[[str, bool], Awaitable[None]]  # (camera, healthy)

_LOGGER = logging.getLogger(__name__)
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


def safe_name(text: str) -> str:
    """A file-name-safe form of a camera name (clip files are named after their camera)."""
    return _UNSAFE.sub("_", text).strip("._") or "camera"


class ClipSource(ABC):
    """One camera's source of clips. Constructing it starts nothing; ``start()`` does.

    A source that sees the camera live says so with ``live_picture`` and answers
    ``live_frame()``; one that holds a stream connection others may share has a ``restream``.
    """

    live_picture = False
    live_stream = False
    synthetic = False  # a drawn scene, not a camera's video (the panel and API say so)
    restream: RestreamHub | None = None

    live_fps = 0.0  # frames a second offered to live detection while recording (0: none)
    live_follow_fps = 0.0  # the same once the event started (following it)

    def __init__(self, camera: str, config: Mapping[str, Any], work_dir: Path) -> None:
        self.camera = camera
        self.config = dict(config)
        self.work_dir = Path(work_dir)
        self._healthy = False
        self._heartbeat: datetime | None = None
        self._error: str | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._on_clip: ClipCallback | None = None
        self._on_health: HealthCallback | None = None
        self._callbacks: set[asyncio.Task[None]] = set()
        self.motion_masks: list[list[list[float]]] = []
        self.live: LiveWatch | None = None

    def set_live(self, watch: LiveWatch) -> None:
        """Detect on the frames decoded for motion while recording; call before start().

        Sources that decode frames themselves (rtsp) use it; the others have none to offer.
        """
        self.live = watch

    def set_motion_masks(self, masks: Sequence[Mapping[str, Any]]) -> None:
        """Areas (validated MotionMask dicts) motion detection ignores; call before start().

        Sources that detect motion themselves (rtsp) honour them; the others have none.
        """
        self.motion_masks = [[list(p) for p in m["points"]] for m in masks]

    # --- interface -----------------------------------------------------------------------
    async def start(self, on_clip: ClipCallback, on_health: HealthCallback) -> None:
        """Begin producing clips; returns once the background work is running."""
        self._loop = asyncio.get_running_loop()
        self._on_clip, self._on_health = on_clip, on_health
        await asyncio.to_thread(self.work_dir.mkdir, parents=True, exist_ok=True)
        await self._start()

    async def stop(self) -> None:
        """Stop the background work (threads joined) and wait for callbacks in flight."""
        await self._stop()
        # Workers are gone now; let callbacks they queued with call_soon_threadsafe get
        # scheduled, then wait for them (a clip finished during stop is still handed on).
        await asyncio.sleep(0)
        while self._callbacks:
            await asyncio.gather(*list(self._callbacks), return_exceptions=True)

    def is_healthy(self) -> bool:
        return self._healthy

    def last_heartbeat(self) -> datetime | None:
        return self._heartbeat

    def lag_s(self) -> float | None:
        """How far behind live the camera is processed (sources that stream; else None)."""
        return None

    def analysis_dropped(self) -> float | None:
        """Share of recent motion-analysis frames dropped to keep up (0..1), if any."""
        return None

    def degraded_reason(self) -> str | None:
        """Why a working camera works less well than it should (None when it does not)."""
        return None

    def last_error(self) -> str | None:
        """Why the camera is not healthy, in words fit for the user (no secrets); None when it is."""
        return self._error

    def live_frame(self) -> LiveFrame | None:
        """The newest picture (may block briefly: call it from a worker thread)."""
        return None

    @abstractmethod
    async def _start(self) -> None: ...

    @abstractmethod
    async def _stop(self) -> None: ...

    # --- helpers for implementations (safe from any thread) ------------------------------
    def _beat(self) -> None:
        self._heartbeat = utcnow()

    def _set_error(self, error: str | None) -> None:
        self._error = error

    def _set_health(self, healthy: bool) -> None:
        """Record health; the callback fires only on a change. Healthy clears the error."""
        if healthy:
            self._error = None
        if healthy == self._healthy:
            return
        self._healthy = healthy
        _LOGGER.info("camera %s is %s", self.camera, "healthy" if healthy else "unhealthy")
        if self._on_health is not None:
            self._call_soon(self._on_health(self.camera, healthy))

    def _emit_clip(self, clip: ClipFile) -> None:
        if self._on_clip is not None:
            self._call_soon(self._on_clip(clip))

    def _call_soon(self, coro: Awaitable[None]) -> None:
        loop = self._loop
        if loop is None or loop.is_closed():
            if inspect.iscoroutine(coro):
                coro.close()  # never awaited: close it to avoid a warning
            return
        try:
            running = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        if running is loop:
            self._track(coro)
        else:
            loop.call_soon_threadsafe(self._track, coro)

    def _track(self, coro: Awaitable[None]) -> None:
        task = asyncio.ensure_future(self._guard(coro))
        self._callbacks.add(task)
        task.add_done_callback(self._callbacks.discard)

    async def _guard(self, coro: Awaitable[None]) -> None:
        # A failing consumer must not take the source down.
        try:
            await coro
        except Exception:
            _LOGGER.exception("callback for camera %s failed", self.camera)
