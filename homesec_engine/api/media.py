"""Clip files: the video (with HTTP Range) and the snapshot, never outside the storage root.

A clip's `storage_uri` is resolved through the runtime's Storage (which confines URIs to
its root); the result is then resolved again with symlinks followed and must still lie
inside the root's real path, so a symlink planted in the storage folder cannot expose
another file.
"""

from __future__ import annotations

import asyncio
import logging
import os
import re
from pathlib import Path
from typing import Any

from aiohttp import web
from aiohttp.abc import AbstractStreamWriter

from ..clipfiles import live_snapshot_uri, snapshot_uri
from ..records import ClipRecord, ClipStatus
from ..state import DatabaseUnavailable
from .context import ApiContext, context
from .errors import ApiError, not_found
from .inputs import clip_id

_LOGGER = logging.getLogger(__name__)

# One byte range (the only form served); a number of more than 18 digits is no file's size
# (and int() refuses numbers over 4300 digits).
_RANGE = re.compile(r"^bytes=(\d*)-(\d*)$", re.ASCII)
_MAX_DIGITS = 18


def _storage_root(storage: Any) -> Path | None:
    root = getattr(storage, "root", None)
    return Path(root) if root is not None else None


def _confined_file(storage: Any, uri: str) -> Path | None:
    """The real path of `uri`'s file when it exists inside the storage root (blocking)."""
    try:
        path = Path(storage.resolve(uri))
    except Exception as exc:  # noqa: BLE001 - an unresolvable URI is simply not served
        _LOGGER.debug("Storage refused %r: %s", uri, type(exc).__name__)
        return None
    root = _storage_root(storage)
    try:
        real = Path(os.path.realpath(path, strict=True))
        if root is not None:
            real_root = Path(os.path.realpath(root, strict=True))
            if not real.is_relative_to(real_root):
                _LOGGER.warning("Refusing to serve %r: it leads outside the storage root", uri)
                return None
    except OSError:
        return None
    return real if real.is_file() else None


def clip_files(storage: Any, clip: ClipRecord) -> dict[str, str | None]:
    """The absolute paths of the clip's video and snapshot where they exist (blocking)."""
    found = {}
    for kind, uri in (("clip", clip.storage_uri),
                      ("snapshot", snapshot_uri(storage, clip.storage_uri))):
        path = _confined_file(storage, uri) if uri else None
        found[kind] = str(path) if path is not None else None
    return found


async def _clip(ctx: ApiContext, request: web.Request) -> ClipRecord:
    cid = clip_id(request)
    clip: ClipRecord | None = await ctx.runtime.started_repository().get_clip(cid)
    if clip is None or clip.status == ClipStatus.DELETED:
        raise not_found(f"no clip with id {cid!r}")
    return clip


def _serves_range(request: web.Request, size: int) -> bool:
    """Whether the request's Range is served (by aiohttp); 416 (JSON) for a byte range that
    cannot be, False for a Range header to ignore (the whole file is sent, 200).

    As HTTP says (RFC 9110, 14.2): a Range that is not one valid byte range (empty,
    `bytes=`, another unit, several ranges, the last byte before the first) is ignored.
    """
    header = request.headers.get("Range")
    if header is None:
        return True
    match = _RANGE.fullmatch(header.strip())
    if match is None or not any(match.groups()):
        return False
    start, end = match.groups()
    if len(start) > _MAX_DIGITS or len(end) > _MAX_DIGITS:
        satisfiable = False
    elif start and end and int(end) < int(start):
        return False
    elif start:
        satisfiable = int(start) < size
    else:
        satisfiable = int(end) > 0 and size > 0
    if not satisfiable:
        raise ApiError(416, "RANGE_NOT_SATISFIABLE",
                       f"Range not satisfiable (the file has {size} bytes)",
                       headers={"Content-Range": f"bytes */{size}"},
                       errors=[{"path": "Range", "message": "not a satisfiable byte range"}])
    return True


class _WholeFile(web.FileResponse):
    """The whole file (200), whatever Range the request carries: one to ignore."""

    async def prepare(self, request: web.BaseRequest) -> AbstractStreamWriter | None:
        headers = request.headers.copy()
        headers.popall("Range", None)
        return await super().prepare(request.clone(headers=headers))


async def _serve(request: web.Request, uri: str | None, content_type: str,
                 what: str, clip: ClipRecord | None = None,
                 snapshot_of: str | None = None) -> web.StreamResponse:
    runtime = context(request).runtime
    path = await asyncio.to_thread(_confined_file, runtime.storage, uri) if uri else None
    # Cluster mode: recorded by another engine, or spooled out of this one's disk.
    if path is None and clip is not None:
        path = await runtime.shared_copy(clip)
    if path is None and snapshot_of is not None:
        path = await runtime.shared_snapshot(snapshot_of)
    if path is None and runtime.started_repository().pending_writes:
        # Writes kept through an outage (where the file went, e.g. its copy in the object
        # store) are still being replayed: a moment later it is served.
        raise DatabaseUnavailable("writes kept through an outage are still being replayed")
    if path is None:
        raise not_found(f"the clip's {what} is not available")
    size = (await asyncio.to_thread(path.stat)).st_size
    response = web.FileResponse if _serves_range(request, size) else _WholeFile
    return response(path, headers={"Content-Type": content_type,
                                   "Cache-Control": "private, max-age=3600"})


async def get_clip_media(request: web.Request) -> web.StreamResponse:
    clip = await _clip(context(request), request)
    return await _serve(request, clip.storage_uri, "video/mp4", "video", clip)


async def get_clip_snapshot(request: web.Request) -> web.StreamResponse:
    ctx = context(request)
    clip = await _clip(ctx, request)
    storage = ctx.runtime.storage
    uri = snapshot_uri(storage, clip.storage_uri) if storage is not None else None
    if storage is not None and (uri is None or await asyncio.to_thread(
            _confined_file, storage, uri) is None):
        # Still recording: the live event's picture, stored by key before its first message.
        uri = live_snapshot_uri(storage, clip.id) or uri
    return await _serve(request, uri, "image/jpeg", "snapshot", snapshot_of=clip.id)


HANDLERS = {
    "get_clip_media": get_clip_media,
    "get_clip_snapshot": get_clip_snapshot,
}
