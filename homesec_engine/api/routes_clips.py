"""Clips: a filtered, paged list; one clip; deleting a clip (record marked, files removed)."""

from __future__ import annotations

import asyncio
import logging
import time
import weakref
from collections import OrderedDict
from typing import Any

from aiohttp import web

from ..clipfiles import remove_clip_files
from ..records import ClipQuery, ClipStatus
from ..storage.base import StoreUnavailable
from .context import ApiContext, context
from .errors import not_found, store_unavailable
from .inputs import clip_id, read_query
from .media import clip_files
from .views import clip_view, clips_body, clips_response, json_response

_LOGGER = logging.getLogger(__name__)

# A /clips answer is reused while the repository has written nothing since it was read
# (exact for the engine's own writes); writes by anything else are seen after this long.
LIST_CACHE_S = 1.0
LIST_CACHE_SIZE = 256  # distinct queries kept (filters x pages)


def _public_url(ctx: ApiContext) -> str | None:
    # The runtime's start-time config: the pipeline's alert links use the same base URL.
    server = (getattr(ctx.runtime, "config", None) or {}).get("server") or {}
    return server.get("public_url")


_FILTERS = ("camera", "status", "alerted", "risk_level", "activity_type", "since", "until")


class _ListCache:
    """Recent /clips bodies by query, each with the repository generation it was read at."""

    def __init__(self) -> None:
        self._entries: OrderedDict[tuple[Any, ...], tuple[int, float, bytes]] = OrderedDict()

    def get(self, key: tuple[Any, ...], generation: int) -> bytes | None:
        entry = self._entries.get(key)
        if entry is None:
            return None
        if entry[0] != generation or time.monotonic() - entry[1] >= LIST_CACHE_S:
            del self._entries[key]
            return None
        return entry[2]

    def put(self, key: tuple[Any, ...], generation: int, at: float, body: bytes) -> None:
        self._entries[key] = (generation, at, body)
        self._entries.move_to_end(key)
        while len(self._entries) > LIST_CACHE_SIZE:
            self._entries.popitem(last=False)


# One cache per repository (a restarted runtime gets a new one); gone with the repository.
_CACHES: weakref.WeakKeyDictionary[Any, _ListCache] = weakref.WeakKeyDictionary()


async def list_clips(request: web.Request) -> web.Response:
    ctx = context(request)
    query = read_query(request, "ClipQuery")
    page, page_size = query["page"], query["page_size"]
    filters = {key: query[key] for key in _FILTERS if key in query}
    repo = ctx.runtime.started_repository()
    public_url = _public_url(ctx)
    cache = _CACHES.get(repo)
    if cache is None:
        cache = _CACHES[repo] = _ListCache()
    key = (tuple(sorted(filters.items())), page, page_size, public_url)
    generation, started = repo.generation, time.monotonic()  # before the read: a write
    body = cache.get(key, generation)  # landing during it makes the entry stale at once
    if body is None:
        clips, total = await repo.list_clips(
            ClipQuery(**filters, offset=(page - 1) * page_size, limit=page_size))
        views = [clip_view(c, public_url, iso_times=False) for c in clips]
        body = clips_body({"clips": views, "total": total, "page": page,
                           "page_size": page_size})
        cache.put(key, generation, started, body)
    return clips_response(body)


async def get_clip(request: web.Request) -> web.Response:
    ctx = context(request)
    cid = clip_id(request)
    clip = await ctx.runtime.started_repository().get_clip(cid)
    if clip is None or clip.status == ClipStatus.DELETED:  # as its media and DELETE say
        raise not_found(f"no clip with id {cid!r}")
    files = await asyncio.to_thread(clip_files, ctx.runtime.storage, clip)
    return json_response({**clip_view(clip, _public_url(ctx)), "files": files})


async def delete_clip(request: web.Request) -> web.Response:
    ctx = context(request)
    cid = clip_id(request)
    repo = ctx.runtime.started_repository()
    existing = await repo.get_clip(cid)
    if existing is None or existing.status == ClipStatus.DELETED:
        raise not_found(f"no clip with id {cid!r}")
    try:  # cluster mode: the object store's copies first, as retention does
        await ctx.runtime.remove_shared_objects(existing)
    except StoreUnavailable as err:
        _LOGGER.warning("clip %s not deleted: the object store did not answer: %s", cid, err)
        raise store_unavailable() from err
    clip = await repo.delete_clip(cid)
    if clip is None:  # deleted by someone else in between
        raise not_found(f"no clip with id {cid!r}")
    storage = ctx.runtime.storage
    if storage is not None:  # (always, once started: the API serves a started engine)
        await remove_clip_files(storage, clip.id, [clip.storage_uri])
    await ctx.runtime.forget_clip(clip.camera, clip.id)
    return json_response(clip_view(clip, _public_url(ctx)))


async def list_live_events(request: web.Request) -> web.Response:
    """Live events (one per recording), newest first: the `event` of each such clip."""
    query = read_query(request, "LiveEventQuery")
    clips = await context(request).runtime.started_repository().list_live_events(
        camera=query.get("camera"), limit=query["limit"])
    return json_response({"events": [dict(c.event) for c in clips if c.event]})


HANDLERS = {
    "list_live_events": list_live_events,
    "list_clips": list_clips,
    "get_clip": get_clip,
    "delete_clip": delete_clip,
}
