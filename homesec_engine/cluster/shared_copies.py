"""Clips another engine recorded, served from the object store (cluster mode).

A clip's file is on the disk of the engine that recorded it; every other engine fetches the
offsite copy once into a small cache under its data dir (the newest `max_files` are kept) and
serves it from there, with HTTP Range like a local clip.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from pathlib import Path

from ..offsite.target import OffsiteTarget
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
        """A local file with `clip`'s copy; None when the object store has none (yet)."""
        target = self._target()
        key = target.key_of(clip.offsite_uri) if target and clip.offsite_uri else None
        if target is None or key is None or clip.offsite_state != "done":
            return None
        dest = self._dir / f"{clip.id}{Path(key).suffix or '.mp4'}"
        async with self._locks.setdefault(clip.id, asyncio.Lock()):
            if not await asyncio.to_thread(dest.is_file):
                try:
                    await asyncio.to_thread(self._dir.mkdir, parents=True, exist_ok=True)
                    await target.download(key, dest)
                except Exception as err:  # noqa: BLE001 - the store is away: not available now
                    _LOGGER.warning("clip %s not fetched from the object store: %s",
                                    clip.id, err)
                    return None
                await asyncio.to_thread(self._trim)
        self._locks.pop(clip.id, None)
        return dest

    def _trim(self) -> None:
        """Keep the newest `max_files` copies (blocking: run in a thread)."""
        files = sorted((p for p in self._dir.iterdir() if not p.name.endswith(".part")),
                       key=lambda p: p.stat().st_mtime, reverse=True)
        for old in files[self._max_files:]:
            old.unlink(missing_ok=True)
