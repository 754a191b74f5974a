"""Retention: deletes stored clips by age and by a disk budget, a bounded batch per pass.

Each pass (every `interval_s`, at once again while a pass found a full batch):
1. by age: clips without an alert older than `keep_days`, alerted ones older than
   `alerted_keep_days` (per camera overrides in `cameras`), oldest first, reason "age";
2. by disk budget (`max_gb` of clips, `min_free_percent` of the disk): the oldest clips without
   an alert first, then the oldest alerted ones, until the excess is freed, reason
   "disk_budget".
Only finished clips (done/error) are candidates; with offsite copies on, only those whose
copy is recorded done (checked by reading it back), never one pending, skipped or never queued,
and no pass runs while state writes wait in the outbox (the database would not show the
latest states yet). A clip's files are removed before its row is marked deleted (with the
reason and a `deleted` event): a kill in between leaves a listed clip whose video is gone
until the next pass deletes it again, never a file that no pass sees (the disk budget counts
rows). Files left by an engine from before that order (rows deleted, files kept) are swept
once at start, when the database answers. The pass also measures what the /status storage
figures show.

Cluster mode (`shared`, cluster/shared_removal.py): the clips live in the object store, so a
pass removes their objects there before their local spool files and rows (a store that does
not answer fails the pass: nothing is marked), one engine of the installation at a time, and
objects of deleted clips are swept from the store at start and every `SWEEP_INTERVAL_S`. The
local disk is only a spool there: `min_free_percent` is not a reason to delete shared clips
(deleting them frees nothing on it); `max_gb` bounds the installation's clips.
"""

from __future__ import annotations

import asyncio
import logging
import shutil
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import ColumnElement, and_, or_

from .clipfiles import clip_file_uris
from .records import ClipRecord, utcnow
from .state.tables import clips

if TYPE_CHECKING:
    from .cluster.shared_removal import SharedRemoval

_LOGGER = logging.getLogger(__name__)

GB = 1_000_000_000
SWEEP_INTERVAL_S = 3600.0  # cluster mode: how often the object store is swept of deleted clips


@dataclass(slots=True)
class StorageFigures:
    """What the storage sensors show; None until the first pass measured it."""

    disk_used_bytes: int | None = None
    disk_free_bytes: int | None = None
    disk_total_bytes: int | None = None
    clips_stored: int | None = None
    oldest_clip: datetime | None = None
    measured_at: datetime | None = None


@dataclass(slots=True)
class PassResult:
    deleted: dict[str, list[str]] = field(default_factory=dict)  # reason -> clip ids
    skipped: str | None = None  # why the pass did nothing
    full: bool = False  # a batch was used up: more may be due


def age_condition(config: Mapping[str, Any], now: datetime,
                  alerted: bool) -> ColumnElement[bool]:
    """Clips (alerted or not) past their camera's keep time for such clips.

    One condition per kind: each is a range of ix_clips_retention (alerted, created_at).
    """
    field = "alerted_keep_days" if alerted else "keep_days"
    default = float(config[field])
    overrides: Mapping[str, Mapping[str, Any]] = config.get("cameras") or {}
    kind = clips.c.alerted == alerted  # "=" (not IS): a range of ix_clips_retention
    own = {camera: float(rules[field]) for camera, rules in overrides.items()
           if rules.get(field)}
    if not own:
        return and_(kind, clips.c.created_at < now - timedelta(days=default))
    # The range up to the longest keep time, then each camera's own cut inside it.
    longest_cut = now - timedelta(days=min([default, *own.values()]))
    parts = [and_(clips.c.camera.not_in(list(own)),
                  clips.c.created_at < now - timedelta(days=default))]
    parts += [and_(clips.c.camera == camera, clips.c.created_at < now - timedelta(days=days))
              for camera, days in own.items()]
    return and_(kind, clips.c.created_at < longest_cut, or_(*parts))


class Retention:
    def __init__(self, config: Mapping[str, Any], *, repository: Any, storage: Any,
                 storage_root: Path, offsite: Any = None,
                 on_deleted: Callable[[ClipRecord], Awaitable[None]] | None = None,
                 shared: SharedRemoval | None = None) -> None:
        self.config = config
        self.shared = shared  # cluster mode: the clips' objects in the store go with them
        self.repository = repository
        self.storage = storage
        self.storage_root = storage_root
        self.offsite = offsite
        self.on_deleted = on_deleted
        self.figures = StorageFigures()
        self.last_error: str | None = None
        self._stop = asyncio.Event()
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._catching_up = False
        self._swept_at: float | None = None  # cluster mode: the store's last sweep (monotonic)

    @property
    def disk_critical(self) -> bool:
        """Free space below `critical_free_percent` of the clips' disk."""
        free, total = self.figures.disk_free_bytes, self.figures.disk_total_bytes
        if free is None or not total:
            return False
        return free * 100 / total < float(self.config["critical_free_percent"])

    def reconfigure(self, config: Mapping[str, Any]) -> None:
        """New settings (a run-time change): the next pass, started at once, uses them."""
        self.config = config
        self._wake.set()

    def start(self) -> None:
        self._task = asyncio.create_task(self._loop(), name="homesec-retention")

    async def close(self) -> None:
        self._stop.set()
        if self._task is not None:
            await asyncio.gather(self._task, return_exceptions=True)
            self._task = None

    async def _loop(self) -> None:
        # Stopped through an event, never cancelled mid-pass (a cut-off database call can
        # leave its connection behind); a pass is bounded by `batch`.
        swept = False
        while not self._stop.is_set():
            try:
                if self.shared is None:
                    if not swept:
                        swept = await self.sweep_deleted_files() is not None
                    result = await self.run_pass()
                else:
                    result = await self.run_shared_pass()
                self.last_error = None
            except Exception as err:  # the database went away mid-pass: try next time
                self.last_error = f"{type(err).__name__}: {err}"
                _LOGGER.info("retention pass skipped: %s", self.last_error)
                result = PassResult(skipped=self.last_error)
            delay = 0.0 if result.full else float(self.config["interval_s"])
            await self._sleep(delay)

    async def _sleep(self, delay: float) -> None:
        """Wait `delay` seconds, less when the engine stops or the settings change."""
        waits = [asyncio.ensure_future(self._stop.wait()),
                 asyncio.ensure_future(self._wake.wait())]
        try:
            await asyncio.wait(waits, timeout=delay, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for wait in waits:
                wait.cancel()
        self._wake.clear()

    async def run_shared_pass(self, now: datetime | None = None) -> PassResult:
        """Cluster mode: one pass (with the sweeps when due), unless another engine of the
        installation is running one now."""
        assert self.shared is not None
        if not self.repository.available or self.repository.pending_writes:
            return PassResult(skipped="state writes are waiting for the database")
        async with self.shared.exclusive() as mine:
            if not mine:
                return PassResult(skipped="another engine of the cluster runs retention now")
            loop = asyncio.get_running_loop()
            if self._swept_at is None or loop.time() - self._swept_at >= SWEEP_INTERVAL_S:
                if await self.sweep_deleted_files() is not None:
                    await self.shared.sweep(self.repository.deleted_among)
                    self._swept_at = loop.time()
            return await self.run_pass(now)

    async def measure(self) -> StorageFigures:
        """Count the clips kept and their bytes in the database, and read the disk's space."""
        count, used, oldest = await self.repository.storage_totals()
        self.figures = StorageFigures(disk_used_bytes=used, clips_stored=count,
                                      oldest_clip=oldest)
        return await self._measure_disk()

    async def _measure_disk(self) -> StorageFigures:
        usage = await asyncio.to_thread(_disk_usage, self.storage_root)
        self.figures.disk_free_bytes = usage.free if usage else None
        self.figures.disk_total_bytes = usage.total if usage else None
        self.figures.measured_at = utcnow()
        return self.figures

    def _deducted(self, chosen: list[ClipRecord]) -> None:
        """Take deleted clips off the figures (a full count is a scan of every clip: it is
        done once per interval, not after every pass of a catch-up)."""
        figures = self.figures
        if figures.clips_stored is not None:
            figures.clips_stored = max(0, figures.clips_stored - len(chosen))
        if figures.disk_used_bytes is not None:
            figures.disk_used_bytes = max(0, figures.disk_used_bytes -
                                          sum(_size(c) for c in chosen))

    async def run_pass(self, now: datetime | None = None) -> PassResult:
        """One bounded pass (see the module doc); what it deleted."""
        result = PassResult()
        if not self.repository.available or self.repository.pending_writes:
            result.skipped = "state writes are waiting for the database"
            return result
        # A pass right after a full one (catching up) goes on from the figures it left.
        figures = await (self._measure_disk() if self._catching_up else self.measure())
        self._catching_up = False
        if not self.config["enabled"]:
            result.skipped = "retention is disabled"
            return result
        now = now or utcnow()
        batch = int(self.config["batch"])
        require_offsite = self.offsite is not None
        aged = [clip for alerted in (False, True) for clip in await self._deletable(
            age_condition(self.config, now, alerted), batch, require_offsite)]
        aged = sorted(aged, key=lambda c: (c.created_at, c.id))[:batch]  # the oldest batch
        await self._delete(aged, "age", result)
        room = batch - len(aged)
        excess = self._excess(figures) - sum(_size(c) for c in aged)
        budget: list[ClipRecord] = []
        for alerted in (False, True):
            if excess <= 0 or room <= 0:
                break
            picked = await self._deletable(
                and_(clips.c.alerted == alerted, clips.c.id.not_in([c.id for c in aged]))
                if aged else clips.c.alerted == alerted, room, require_offsite)
            for clip in picked:
                if excess <= 0:
                    break
                budget.append(clip)
                excess -= _size(clip)
                room -= 1
        await self._delete(budget, "disk_budget", result)
        result.full = self._catching_up = len(aged) + len(budget) >= batch
        if result.deleted:
            self._deducted(aged + budget)
            self.figures.oldest_clip = await self.repository.oldest_kept()
            await self._measure_disk()
        return result

    def _excess(self, figures: StorageFigures) -> int:
        """Bytes over the disk budget (0 or less: within it)."""
        excess = 0
        if self.config.get("max_gb") is not None and figures.disk_used_bytes is not None:
            excess = figures.disk_used_bytes - int(float(self.config["max_gb"]) * GB)
        percent = self.config.get("min_free_percent")
        if self.shared is not None:
            percent = None  # the local disk only spools: deleting shared clips frees none of it
        if percent is not None and figures.disk_total_bytes and figures.disk_free_bytes is not None:
            wanted = int(figures.disk_total_bytes * float(percent) / 100)
            excess = max(excess, wanted - figures.disk_free_bytes)
        return excess

    async def _deletable(self, where: ColumnElement[bool], limit: int,
                         require_offsite: bool) -> list[ClipRecord]:
        if limit <= 0:
            return []
        found = await self.repository.deletable_clips(where, limit,
                                                      require_offsite=require_offsite)
        if self.offsite is not None:  # a copy queued but not recorded yet
            found = [clip for clip in found if not self.offsite.pending(clip.id)]
        for clip in found:
            if clip.size_bytes is None and clip.storage_uri:  # stored before sizes were kept
                clip.size_bytes = await asyncio.to_thread(self._file_size, clip.storage_uri)
        return list(found)

    def _file_size(self, storage_uri: str) -> int:
        try:
            return int(self.storage.resolve(storage_uri).stat().st_size)
        except (OSError, ValueError):
            return 0

    async def sweep_deleted_files(self) -> int | None:
        """Remove stored files whose clip is marked deleted; how many (None: not now).

        Needs the database and an empty outbox (a kept write may be the one that deletes).
        """
        if not self.repository.available or self.repository.pending_writes:
            return None
        uris = await asyncio.to_thread(self.storage.list_uris)
        if not uris:
            return 0
        by_clip: dict[str, list[str]] = {}
        for uri in uris:
            by_clip.setdefault(_clip_id_of(uri), []).append(uri)
        deleted = await self.repository.deleted_among(sorted(by_clip))
        stray = [uri for clip_id in sorted(deleted) for uri in by_clip[clip_id]]
        removed = await self.storage.delete_many(stray) if stray else 0
        if removed:
            _LOGGER.warning("retention: removed %d file(s) of clips deleted earlier "
                            "(left by an interrupted pass)", removed)
        return removed

    async def _delete(self, chosen: list[ClipRecord], reason: str, result: PassResult) -> None:
        if not chosen:
            return
        # Files first: a kill before the rows are marked leaves them to the next pass.
        if self.shared is not None:  # the store's copies first: StoreUnavailable keeps the rows
            await self.shared.remove(chosen)
        await self.storage.delete_many([uri for clip in chosen for uri in
                                        clip_file_uris(self.storage, clip.id,
                                                       [clip.storage_uri])])
        await self.repository.mark_deleted([clip.id for clip in chosen], reason)
        if self.on_deleted is not None:
            for clip in chosen:
                await self.on_deleted(clip)
        result.deleted[reason] = [clip.id for clip in chosen]
        _LOGGER.info("retention deleted %d clip(s) (%s)", len(chosen), reason)


def _clip_id_of(uri: str) -> str:
    """The clip a stored object belongs to: its name up to the extension (`<id>.mp4`)."""
    name = uri.rsplit("/", 1)[-1]
    return name.rsplit(".", 1)[0] if "." in name else name


def _size(clip: ClipRecord) -> int:
    return int(clip.size_bytes or 0)


def _disk_usage(root: Path) -> Any:
    """shutil.disk_usage of the clips' disk (of the nearest folder that exists)."""
    path = root
    while not path.exists() and path != path.parent:
        path = path.parent
    try:
        return shutil.disk_usage(path)
    except OSError:
        return None
