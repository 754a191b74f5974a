"""Clips: a filtered, paged list; one clip; deleting a clip (record marked, files removed)."""

from __future__ import annotations

from aiohttp import web

from ..records import ClipQuery, ClipStatus
from .context import ApiContext, context
from .errors import not_found
from .inputs import clip_id, read_query
from .media import remove_files
from .views import clip_view, json_response

def _public_url(ctx: ApiContext) -> str | None:
    # The runtime's start-time config: the pipeline's alert links use the same base URL.
    server = (getattr(ctx.runtime, "config", None) or {}).get("server") or {}
    return server.get("public_url")


_FILTERS = ("camera", "status", "alerted", "risk_level", "activity_type", "since", "until")


async def list_clips(request: web.Request) -> web.Response:
    ctx = context(request)
    query = read_query(request, "ClipQuery")
    page, page_size = query["page"], query["page_size"]
    filters = {key: query[key] for key in _FILTERS if key in query}
    clips, total = await ctx.runtime.repository.list_clips(
        ClipQuery(**filters, offset=(page - 1) * page_size, limit=page_size))
    public_url = _public_url(ctx)
    return json_response({"clips": [clip_view(c, public_url) for c in clips], "total": total,
                          "page": page, "page_size": page_size})


async def get_clip(request: web.Request) -> web.Response:
    cid = clip_id(request)
    clip = await context(request).runtime.repository.get_clip(cid)
    if clip is None:
        raise not_found(f"no clip with id {cid!r}")
    return json_response(clip_view(clip, _public_url(context(request))))


async def delete_clip(request: web.Request) -> web.Response:
    ctx = context(request)
    cid = clip_id(request)
    repo = ctx.runtime.repository
    existing = await repo.get_clip(cid)
    if existing is None or existing.status == ClipStatus.DELETED:
        raise not_found(f"no clip with id {cid!r}")
    clip = await repo.delete_clip(cid)
    if clip is None:  # deleted by someone else in between
        raise not_found(f"no clip with id {cid!r}")
    await remove_files(ctx.runtime.storage, clip)
    return json_response(clip_view(clip, _public_url(ctx)))


HANDLERS = {
    "list_clips": list_clips,
    "get_clip": get_clip,
    "delete_clip": delete_clip,
}
