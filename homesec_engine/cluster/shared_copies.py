"""Clips and snapshots in the object store, served by any engine (cluster mode).

Every engine copies its clips and their snapshots to the object store and keeps its own files
only until they are copied (offsite/uploader.py); so a clip's video or snapshot is fetched
from the store, once, into a small cache under this engine's data dir (the newest `max_files`
are kept), and served from there with HTTP Range like a local file. A clip's video never
changes once stored; its snapshot does (the live event's picture, then the clip's own), so
a cached snapshot is named by the object's version and checked against the store each time.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
from collections.abc import Callable
from pathlib import Path, PurePosixPath

from ..offsite.target import OffsiteTarget
from ..clipfiles import clip_key, snapshot_key
from ..records import ClipRecord

_LOGGER = logging.getLogger(__name__)


class SharedCopies:
    def __init__(self, target: Callable[[], OffsiteTarget | None], cache_dir: Path,
                 max_files: int = 32) -> None:
        self._target = target
        self._dir = cache_dir
        self._max_files = max_files
        self._locks: dict[str, asyncio.Lock] = {}

    async def path(self, clip: ClipRecord) -> Path | None:
        """A local file with `clip`'s video; None when the object store has none (yet)."""
        target = self._target()
        if target is None:
            return None
        key = target.key_of(clip.offsite_uri) if clip.offsite_uri else None
        if key is None or clip.offsite_state != "done":
            # Its copy may not be recorded yet (kept in the recording engine's outbox through
            # an outage): the store keeps it under the name it has in storage.
            key = clip_key(clip.id, PurePosixPath(clip.storage_uri or ".mp4"))
            if clip.offsite_state == "skipped":  # kept on the recording engine only
                return None
        return await self._fetch(target, key, self._dir / f"{clip.id}{Path(key).suffix or '.mp4'}")

    async def snapshot(self, clip_id: str) -> Path | None:
        """A local file with the clip's snapshot as the object store has it now; None when it
        has none. While the store does not answer, the last copy fetched (if any)."""
        target = self._target()
        if target is None:
            return None
        key = snapshot_key(clip_id)
        try:
            version = await target.version(key)
        except Exception as err:  # noqa: BLE001 - the store is away: the last copy if any
            _LOGGER.warning("snapshot of clip %s not checked in the object store: %s",
                            clip_id, err)
            return await asyncio.to_thread(self._newest, f"{clip_id}-*.jpg")
        if version is None:
            return None
        tag = hashlib.sha256(version.encode()).hexdigest()[:12]
        return await self._fetch(target, key, self._dir / f"{clip_id}-{tag}.jpg")

    async def _fetch(self, target: OffsiteTarget, key: str, dest: Path) -> Path | None:
        """`dest`, downloaded from `key` unless cached; None when the store is away."""
        async with self._locks.setdefault(dest.name, asyncio.Lock()):
            if not await asyncio.to_thread(dest.is_file):
                try:
                    await asyncio.to_thread(self._dir.mkdir, parents=True, exist_ok=True)
                    await target.download(key, dest)
                except Exception as err:  # noqa: BLE001 - the store is away: not available now
                    _LOGGER.warning("%s not fetched from the object store: %s", key, err)
                    return None
                await asyncio.to_thread(self._trim)
        self._locks.pop(dest.name, None)
        return dest

    def _newest(self, pattern: str) -> Path | None:
        """The newest cached file matching `pattern` (blocking: run in a thread)."""
        found = sorted(self._dir.glob(pattern), key=lambda p: p.stat().st_mtime) \
            if self._dir.is_dir() else []
        return found[-1] if found else None

    def _trim(self) -> None:
        """Keep the newest `max_files` copies (blocking: run in a thread)."""
        files = sorted((p for p in self._dir.iterdir() if not p.name.endswith(".part")),
                       key=lambda p: p.stat().st_mtime, reverse=True)
        for old in files[self._max_files:]:
            old.unlink(missing_ok=True)
