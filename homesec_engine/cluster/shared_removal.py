"""Deleted clips leave the object store too (cluster mode).

In cluster mode the object store is the installation's clip storage (an engine's disk only
spools), so whoever deletes a clip removes its objects there: retention, a user's DELETE, and
a write that shows something was stored for a clip after it was deleted (a copy finished
late). Objects go before the rows are marked deleted, as local retention removes files first:
a failure or a kill in between leaves a listed clip that is deleted again, never an object
nobody sees. What is left anyway (an object copied after its clip was deleted whose removal
failed) is swept: the store is listed and the objects of clips marked deleted go.

Retention runs on one engine at a time: each pass holds a PostgreSQL advisory lock (the
session's, so a killed engine's lock goes with its connection); an engine that does not get
it skips the pass, another engine is doing it.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable
from contextlib import asynccontextmanager
from pathlib import PurePosixPath

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from ..clipfiles import clip_key, snapshot_key
from ..offsite.target import OffsiteTarget
from ..records import ClipRecord
from ..storage.base import StoreUnavailable

_LOGGER = logging.getLogger(__name__)

RETENTION_LOCK = 0x686F6D6563_7265  # one retention pass in the installation at a time


def clip_keys(target: OffsiteTarget, clip_id: str, uris: Iterable[str | None]) -> list[str]:
    """Every key a clip may have in the store: its video (by the URI recorded, else by the
    name it is stored under, `<id><suffix>`) and its snapshot (`<id>.jpg`)."""
    keys = {snapshot_key(clip_id), clip_key(clip_id, PurePosixPath(".mp4"))}
    for uri in uris:
        if uri:  # a local URI: the store keeps the file under the same key
            keys.add(target.key_of(uri) or clip_key(clip_id, PurePosixPath(uri)))
    return sorted(keys)


def clip_of_key(key: str) -> str:
    """The clip an object belongs to: its name up to the extension."""
    name = key.rsplit("/", 1)[-1]
    return name.split(".", 1)[0] if "." in name else name


class SharedRemoval:
    def __init__(self, target: Callable[[], OffsiteTarget | None], engine: AsyncEngine) -> None:
        self._target = target
        self._engine = engine  # the state database (PostgreSQL in cluster mode)

    async def remove(self, clips: list[ClipRecord]) -> int:
        """Remove the objects of `clips`; how many keys were asked to go. Raises
        StoreUnavailable when the store did not answer (their rows must stay then)."""
        target = self._target()
        if target is None:
            raise StoreUnavailable("the object store is not configured (offsite settings)")
        count = 0
        try:
            for clip in clips:
                for key in clip_keys(target, clip.id, [clip.offsite_uri, clip.storage_uri]):
                    await target.delete(key)
                    count += 1
        except Exception as err:  # noqa: BLE001 - any store failure keeps the rows
            raise StoreUnavailable(f"{type(err).__name__}: {err}") from err
        return count

    async def remove_late(self, clip_id: str, uris: list[str]) -> None:
        """What was stored for a clip after it was deleted goes too; a failure is left to the
        sweep (logged)."""
        target = self._target()
        if target is None:
            return
        try:
            for key in clip_keys(target, clip_id, uris):
                await target.delete(key)
        except Exception as err:  # noqa: BLE001 - the sweep removes it later
            _LOGGER.warning("clip %s: objects stored after its deletion not removed yet: %s",
                            clip_id, err)

    async def sweep(self, deleted_among: Callable[[list[str]], Awaitable[set[str]]]) -> int:
        """Remove the objects of clips marked deleted; how many. Raises when the store or the
        database does not answer."""
        target = self._target()
        if target is None:
            return 0
        by_clip: dict[str, list[str]] = {}
        for key in await target.keys():
            by_clip.setdefault(clip_of_key(key), []).append(key)
        if not by_clip:
            return 0
        deleted = await deleted_among(sorted(by_clip))
        stray = [key for clip_id in sorted(deleted) for key in by_clip[clip_id]]
        for key in stray:
            await target.delete(key)
        if stray:
            _LOGGER.warning("retention: removed %d object(s) of clips deleted earlier from the "
                            "object store", len(stray))
        return len(stray)

    @asynccontextmanager
    async def exclusive(self) -> AsyncIterator[bool]:
        """Whether this engine runs the retention pass now (no other engine does)."""
        async with self._engine.connect() as conn:
            conn = await conn.execution_options(isolation_level="AUTOCOMMIT")
            mine = bool(await conn.scalar(text("SELECT pg_try_advisory_lock(:key)"),
                                          {"key": RETENTION_LOCK}))
            try:
                yield mine
            finally:
                if mine:
                    await conn.scalar(text("SELECT pg_advisory_unlock(:key)"),
                                      {"key": RETENTION_LOCK})
