"""Cluster mode: a camera's live picture and restream through any engine.

A camera is recorded, and so watched live, by the one engine holding its lease. Another
engine asked for it forwards the request to that engine's API (its `cluster.advertise_url`,
with the caller's Authorization header, so the engines of one installation share their API
key) and streams the answer back. A forwarded request is marked, so it is never forwarded
again.
"""

from __future__ import annotations

import aiohttp
from aiohttp import web

from .context import context
from .errors import ApiError

FORWARDED = "X-HomeSec-Forwarded-By"
_TIMEOUT = aiohttp.ClientTimeout(total=None, sock_connect=5, sock_read=30)


async def to_holder(request: web.Request, camera: str) -> web.StreamResponse | None:
    """The holder's answer for `camera`, streamed; None when this engine answers itself."""
    runtime = context(request).runtime
    cluster = runtime.cluster
    if cluster is None or camera in runtime.sources or FORWARDED in request.headers:
        return None
    holder = cluster.holder(camera)
    if holder is None:
        return None
    headers = {FORWARDED: cluster.settings.engine_id}
    if "Authorization" in request.headers:
        headers["Authorization"] = request.headers["Authorization"]
    response = web.StreamResponse()
    try:
        async with aiohttp.ClientSession(timeout=_TIMEOUT) as session, \
                session.get(f"{holder.url}{request.rel_url}", headers=headers) as upstream:
            response.set_status(upstream.status)
            for name in ("Content-Type", "Cache-Control"):
                if name in upstream.headers:
                    response.headers[name] = upstream.headers[name]
            await response.prepare(request)
            async for chunk in upstream.content.iter_any():
                await response.write(chunk)
            await response.write_eof()
    except (aiohttp.ClientError, TimeoutError) as err:
        if response.prepared:
            return response  # the stream was cut mid-way: the viewer sees it end
        raise ApiError(503, "CAMERA_UNAVAILABLE",
                       f"camera {camera!r} is recorded by engine {holder.engine_id}, which "
                       f"does not answer: {type(err).__name__}") from err
    except ConnectionResetError:
        pass  # the viewer went away
    return response
