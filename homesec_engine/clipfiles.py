"""The files a clip keeps in storage (its video and its snapshot) and their removal.

One owner of the rule "which stored objects are this clip's", used by whoever deletes a clip:
the API, and the runtime when a write to an already deleted clip shows a file was stored
after the deletion (state/repository.py drops such writes and names what they stored).
"""

from __future__ import annotations

import asyncio
import logging
import tempfile
from collections.abc import Iterable
from pathlib import Path, PurePath
from typing import TYPE_CHECKING

from .schema.api import route_path
from .storage.base import Storage, StorageError

if TYPE_CHECKING:
    from .offsite.uploader import OffsiteUploader

_LOGGER = logging.getLogger(__name__)

SNAPSHOT_SUFFIX = ".jpg"  # a clip's snapshot is stored beside it under its id with this suffix


def clip_key(clip_id: str, path: PurePath) -> str:
    """The key a clip's video is stored under (in storage and in the object store)."""
    return f"{clip_id}{path.suffix.lower() or '.mp4'}"


def snapshot_key(clip_id: str) -> str:
    return f"{clip_id}{SNAPSHOT_SUFFIX}"


def view_url(clip_id: str, public_url: str | None, what: str = "media") -> str:
    """The engine's link to a clip's `media` (video) or `snapshot`."""
    path = route_path(f"get_clip_{what}", clip_id=clip_id)
    return f"{public_url.rstrip('/')}{path}" if public_url else path


def write_temp(data: bytes, clip_id: str) -> Path:
    """`data` in a temporary JPEG file (blocking: run in a thread)."""
    fd, name = tempfile.mkstemp(prefix=f"homesec-{clip_id}-", suffix=SNAPSHOT_SUFFIX)
    with open(fd, "wb") as handle:
        handle.write(data)
    return Path(name)


async def store_snapshot(storage: Storage, clip_id: str, jpeg: bytes,
                         offsite: OffsiteUploader | None = None) -> str:
    """Store `jpeg` as the clip's snapshot (by key: servable before the video is stored).

    Cluster mode (`offsite.shared`): its copy is queued for the object store every engine
    serves from (a full backlog keeps it local, with the backlog's warning)."""
    tmp = await asyncio.to_thread(write_temp, jpeg, clip_id)
    try:
        uri = str(await storage.put(tmp, snapshot_key(clip_id)))
    finally:
        await asyncio.to_thread(tmp.unlink, True)
    if offsite is not None and offsite.shared:
        try:
            await offsite.enqueue(clip_id, uri, snapshot_key(clip_id), what="snapshot")
        except OSError as err:  # the backlog folder cannot be written
            _LOGGER.error("clip %s: snapshot not queued for the object store: %s", clip_id, err)
    return uri


def snapshot_uri(storage: Storage, clip_uri: str | None) -> str | None:
    """Where the snapshot of the clip stored at `clip_uri` is kept: `<clip>.jpg` beside it."""
    if not clip_uri:
        return None
    rule = getattr(storage, "snapshot_uri", None)
    if callable(rule):
        return str(rule(clip_uri))
    stem, dot, ext = clip_uri.rpartition(".")
    base = stem if dot and "/" not in ext else clip_uri
    return base + SNAPSHOT_SUFFIX


def live_snapshot_uri(storage: Storage, clip_id: str) -> str | None:
    """Where the clip's snapshot is stored by key: the live event's picture, there from the
    event's first message on, before the video is stored (and replaced by the clip's own)."""
    try:
        return storage.uri_for(snapshot_key(clip_id))
    except StorageError:
        return None


def clip_file_uris(storage: Storage, clip_id: str, uris: Iterable[str | None]) -> list[str]:
    """Every object the clip may have stored: `uris`, their snapshots, its snapshot by key.

    The snapshot by key covers one stored before the video (the live event's first frame).
    """
    found = {uri for uri in uris if uri}
    found |= {shot for uri in list(found) if (shot := snapshot_uri(storage, uri))}
    if by_key := live_snapshot_uri(storage, clip_id):
        found.add(by_key)
    return sorted(found)


async def remove_clip_files(storage: Storage, clip_id: str, uris: Iterable[str | None]) -> int:
    """Remove the clip's stored objects (missing ones are fine); how many were there."""
    removed = 0
    for uri in clip_file_uris(storage, clip_id, uris):
        try:
            removed += bool(await storage.delete(uri))
        except Exception as exc:  # noqa: BLE001 - the clip is deleted; a stray file is logged
            _LOGGER.warning("clip %s: could not remove %r: %s", clip_id, uri,
                            type(exc).__name__)
    return removed
