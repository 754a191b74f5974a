"""The offsite uploader: works through the on-disk backlog, oldest clip first.

One upload at a time; a failure is retried after a wait that doubles up to `retry_max_s`
(the service is usually down for all clips at once, so the backlog waits as a whole). The
clip's record is marked `offsite_state="done"` only after the copy was checked, then the
job file is removed: a kill in between uploads the clip again on the next start (uploads
overwrite, so that is harmless). State writes go through the repository, which keeps them
while the database is down: uploads do not wait for it.

Shared (cluster mode): the object store is the installation's clip storage, which every
engine serves from. Snapshots are copied too (under `<clip id>.jpg`), and a local file is
only a spool: it is removed once its copy was checked, unless it changed meanwhile (a newer
snapshot, whose own job copies it).
"""

from __future__ import annotations

import asyncio
import logging
import os
import re
import stat
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from ..records import ClipEventRecord, utcnow
from .queue import UploadJob, UploadQueue
from .target import OffsiteConfigError, OffsiteTarget

_LOGGER = logging.getLogger(__name__)


_HTTP_STATUS = re.compile(r"\bstatus: (\d{3})\b")


def describe(err: BaseException) -> str:
    """One line saying why an upload failed: OpenDAL's headline, the HTTP status the server
    answered and the underlying cause (its context and backtrace are left out; they hold no
    credential, but they are long)."""
    if isinstance(err, TimeoutError):
        return "timeout: the upload did not finish in offsite.timeout_s"
    text = str(err).strip()
    lines = text.splitlines()
    parts = [_shortened(lines[0])] if lines else [type(err).__name__]
    if status := _HTTP_STATUS.search(text):
        parts.append(f"HTTP {status.group(1)}")
    if "Source:" in lines:
        cause = lines[lines.index("Source:") + 1:][:1]
        if cause and cause[0].strip():
            parts.append(_shortened(cause[0].strip()))
    return f"{type(err).__name__}: " + "; ".join(parts)


def _shortened(line: str, limit: int = 200) -> str:
    """At most `limit` characters, cut between words (marked with an ellipsis)."""
    if len(line) <= limit:
        return line
    cut = line[:limit].rsplit(" ", 1)[0] if " " in line[:limit] else line[:limit]
    return cut.rstrip(" ,;:") + "…"


class OffsiteUploader:
    def __init__(self, config: Mapping[str, Any], queue_dir: Path, *, storage: Any,
                 repository: Any, environ: Mapping[str, str] | None = None,
                 shared: bool = False) -> None:
        self.config = config
        self.shared = shared  # cluster mode: snapshots too, and local files only a spool
        self.queue = UploadQueue(queue_dir)
        self.storage = storage
        self.repository = repository
        self._environ = environ
        self.target: OffsiteTarget | None = None
        self.config_error: OffsiteConfigError | None = None
        self.last_error: str | None = None
        self.failing_since: datetime | None = None
        self.last_upload: datetime | None = None
        self.uploaded = 0
        self.skipped = 0
        self._wake = asyncio.Event()
        self._stop = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    @property
    def backlog(self) -> int:
        return len(self.queue)

    @property
    def backlog_full(self) -> bool:
        return len(self.queue) >= int(self.config["max_backlog"])

    def pending(self, clip_id: str) -> bool:
        return clip_id in self.queue

    async def start(self) -> None:
        await self.queue.load()
        try:
            self.target = OffsiteTarget(self.config, self._environ)
        except OffsiteConfigError as err:
            # Recording goes on; the backlog waits on disk until the settings are fixed.
            self.config_error = err
            self.last_error = str(err)
            self.failing_since = utcnow()
            _LOGGER.error("Offsite copies cannot start: %s", err)
        except Exception as err:  # OpenDAL refusing an option
            self.last_error = f"offsite: {describe(err)}"
            self.failing_since = utcnow()
            _LOGGER.error("Offsite copies cannot start: %s", self.last_error)
        self._task = asyncio.create_task(self._run(), name="homesec-offsite")

    async def close(self) -> None:
        self._stop.set()
        self._wake.set()
        if self._task is not None:
            self._task.cancel()  # a cut-off upload is not marked done: its job stays on disk
            await asyncio.gather(self._task, return_exceptions=True)
            self._task = None

    async def enqueue(self, clip_id: str, storage_uri: str, key: str,
                      what: str = "clip") -> bool:
        """Queue a copy of a stored clip (`what`: its "clip" video or its "snapshot"); False
        (with a warning) when the backlog is full."""
        if self.backlog_full:
            self.skipped += 1
            _LOGGER.warning("Offsite backlog is full (%d uploads waiting): clip %s is kept "
                            "locally only", len(self.queue), clip_id)
            return False
        await self.queue.add(UploadJob(clip_id=clip_id, storage_uri=storage_uri, key=key,
                                       queued_at=utcnow().isoformat(), what=what))
        self._wake.set()
        return True

    def status(self) -> dict[str, Any]:
        """The offsite component for /diagnostics and /status (no credential, only names)."""
        warning = None
        if self.backlog_full:
            warning = (f"the backlog is full ({len(self.queue)} uploads); new clips are kept "
                       "locally only")
        return {
            "status": "error" if self.last_error else "ok",
            "error": self.last_error, "latency_ms": None,
            "backend": str(self.config["backend"]),
            "backlog": len(self.queue), "max_backlog": int(self.config["max_backlog"]),
            "warning": warning, "uploaded": self.uploaded, "skipped": self.skipped,
            "failing_since": _iso(self.failing_since), "last_upload": _iso(self.last_upload),
        }

    # -- the worker -------------------------------------------------------------------------

    async def _sleep(self, seconds: float) -> None:
        self._wake.clear()
        try:
            await asyncio.wait_for(self._wake.wait(), seconds)
        except TimeoutError:
            pass

    async def _run(self) -> None:
        initial, longest = float(self.config["retry_initial_s"]), float(self.config["retry_max_s"])
        delay = initial
        while not self._stop.is_set():
            job = self.queue.oldest()
            if job is None:
                await self._sleep(3600)
                continue
            if self.target is None:
                await self._sleep(longest)
                continue
            try:
                done = await self._upload(job)
            except asyncio.CancelledError:
                raise
            except Exception as err:
                self._failed(job, err)
                await self._sleep(delay)
                delay = min(delay * 2, longest)
                continue
            if done:
                delay = initial

    async def _upload(self, job: UploadJob) -> bool:
        assert self.target is not None
        path = await asyncio.to_thread(self.storage.resolve, job.storage_uri)
        spooled = await asyncio.to_thread(_identity, path)
        if spooled is None:
            # Deleted locally before it could be copied (by hand or by the user).
            _LOGGER.warning("clip %s: %s is gone, not copied offsite", job.clip_id, path)
            if job.what == "clip":
                await self._record(job.clip_id, "skipped", None, "offsite_skipped",
                                   reason="the local copy is gone")
            await self.queue.remove(job)
            return False
        timeout = float(self.config["timeout_s"])
        uri = await asyncio.wait_for(self.target.upload(path, job.key), timeout)
        if job.what == "clip":
            await self._record(job.clip_id, "done", uri, "offsite_uploaded", offsite_uri=uri)
        if self.shared and self.queue.current(job):
            await asyncio.to_thread(_drop_if_unchanged, path, spooled)
        await self.queue.remove(job)
        self.uploaded += 1
        self.last_upload = utcnow()
        if self.last_error is not None:
            _LOGGER.info("Offsite uploads work again (%d waiting)", len(self.queue))
        self.last_error, self.failing_since = None, None
        return True

    def _failed(self, job: UploadJob, err: BaseException) -> None:
        error = describe(err)
        if self.last_error is None:
            _LOGGER.warning("Offsite upload of clip %s failed (will retry): %s", job.clip_id,
                            error)
        self.last_error = error
        if self.failing_since is None:
            self.failing_since = utcnow()

    async def _record(self, clip_id: str, state: str, uri: str | None, event: str,
                      **data: Any) -> None:
        try:
            await self.repository.update_clip(clip_id, offsite_state=state, offsite_uri=uri)
            await self.repository.add_event(ClipEventRecord(clip_id=clip_id, type=event,
                                                            data=data))
        except Exception as err:  # the database refused the write itself (not an outage)
            _LOGGER.error("clip %s: offsite state not recorded: %s", clip_id, err)


def _identity(path: Path) -> tuple[int, int, int] | None:
    """What tells a file from its replacement (inode, size, mtime); None when it is gone."""
    try:
        st = os.stat(path)
    except FileNotFoundError:
        return None
    return (st.st_ino, st.st_size, st.st_mtime_ns) if stat.S_ISREG(st.st_mode) else None


def _drop_if_unchanged(path: Path, spooled: tuple[int, int, int]) -> None:
    """Remove a spooled file now copied, unless it was replaced since (blocking)."""
    if _identity(path) == spooled:
        path.unlink(missing_ok=True)


def _iso(value: datetime | None) -> str | None:
    return None if value is None else value.astimezone(UTC).isoformat()
