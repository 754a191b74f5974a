"""The live camera: its newest picture as a JPEG, its restream (MPEG-TS) and WebRTC.

All come from the source's one camera connection (sources/live.py, sources/restream.py):
a request never opens the camera itself. A camera that cannot show anything now answers 503
with the reason (disabled, not started, offline, no picture yet); a source that never has a
live picture (a watched folder) answers 404 saying so.
"""

from __future__ import annotations

import asyncio
import logging
import socket
from typing import Any

from aiohttp import web

from ..sources.live import SnapshotCache
from ..schema import validate
from ..sources import webrtc
from ..sources.restream import CONTENT_TYPE, TooManyViewers
from .cluster_proxy import to_holder
from .context import ApiContext, context
from .errors import ApiError, not_found, validation_error
from .inputs import camera_name, read_json, read_query
from .views import backend_capabilities

_LOGGER = logging.getLogger(__name__)

# A picture older than this while the camera counts as healthy is not "live" (a stream whose
# decoder produces nothing): refused rather than shown as if it were now.
MAX_PICTURE_AGE_S = 5.0
# Kernel send buffer of a restream connection: small, so a viewer that stops reading is noticed
# (and dropped) after seconds, not after megabytes of buffered video.
STREAM_SNDBUF = 256 * 1024


def unavailable(detail: str) -> ApiError:
    return ApiError(503, "CAMERA_UNAVAILABLE", detail)


def _running_source(ctx: ApiContext, name: str, feature: str, what: str) -> Any:
    """The camera's running source, or the error that says why it shows nothing live."""
    camera = next((c for c in ctx.config().get("cameras", []) if c["name"] == name), None)
    if camera is None:
        raise not_found(f"no camera named {name!r}")
    backend = camera["source_backend"]
    if not backend_capabilities(backend)[feature]:
        raise not_found(f"camera {name!r} has no {what}: its {backend} source records "
                        "files, it does not watch the camera live")
    if not camera.get("enabled", True):
        raise unavailable(f"camera {name!r} is disabled")
    source = ctx.runtime.sources.get(name)
    if source is None:
        state = ctx.runtime.cameras().get(name)
        reason = state.error if state is not None and state.error else "it is not running"
        raise unavailable(f"camera {name!r} is not running: {reason}")
    if not source.is_healthy():
        raise unavailable(f"camera {name!r} is offline (no frames from the camera)")
    return source


def _jpeg(source: Any, cache: SnapshotCache, width: int | None,
          height: int | None) -> bytes | None:
    live = source.live_frame()
    if live is None or live.age_s > MAX_PICTURE_AGE_S:
        return None
    return cache.jpeg(live, width, height)


async def get_camera_snapshot(request: web.Request) -> web.StreamResponse:
    ctx = context(request)
    name = camera_name(request)
    query = read_query(request, "SnapshotQuery")
    if (forwarded := await to_holder(request, name)) is not None:
        return forwarded  # streamed, as the holder sent it
    source = _running_source(ctx, name, "live_picture", "live picture")
    cache = ctx.snapshot_caches.setdefault(name, SnapshotCache())
    if ctx.snapshot_slots is None:
        ctx.snapshot_slots = asyncio.Semaphore(ctx.settings.snapshot_encodes)
    # Waiting for a slot happens here, on the loop: a burst of requests never fills the
    # worker threads that file and database work share.
    async with ctx.snapshot_slots:
        image = await asyncio.to_thread(_jpeg, source, cache, query.get("width"),
                                        query.get("height"))
    if image is None:
        raise unavailable(f"camera {name!r} has no current picture yet")
    return web.Response(body=image, content_type="image/jpeg",
                        headers={"Cache-Control": "no-store"})


async def get_camera_stream(request: web.Request) -> web.StreamResponse:
    ctx = context(request)
    name = camera_name(request)
    if (forwarded := await to_holder(request, name)) is not None:
        return forwarded
    source = _running_source(ctx, name, "live_stream", "live stream")
    transport = request.transport
    try:
        viewer = source.restream.join(on_drop=transport.abort if transport else None)
    except TooManyViewers as err:
        raise unavailable(str(err)) from err
    except ConnectionError as err:
        raise unavailable(f"camera {name!r} is not streaming") from err
    response = web.StreamResponse(headers={"Content-Type": CONTENT_TYPE,
                                           "Cache-Control": "no-store"})
    try:
        sock = transport.get_extra_info("socket") if transport else None
        if sock is not None:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, STREAM_SNDBUF)
        await response.prepare(request)

        def connected() -> bool:
            return request.transport is not None and not request.transport.is_closing()

        while (chunk := await viewer.next_chunk(connected)) is not None:
            await response.write(chunk)
        if not viewer.dropped:
            await response.write_eof()  # the camera's session ended: a clean end of stream
    except (ConnectionResetError, ConnectionError):
        pass  # the viewer went away, or was dropped for not reading
    finally:
        source.restream.leave(viewer)
    return response


async def offer_camera_webrtc(request: web.Request) -> web.StreamResponse:
    ctx = context(request)
    name = camera_name(request)
    body = validate("WebRtcOffer", await read_json(request))
    try:
        webrtc.check_offer(body["sdp"])
    except webrtc.OfferError as err:
        raise validation_error([{"path": "sdp", "message": str(err)}], "Bad SDP offer") from err
    if (forwarded := await to_holder(request, name)) is not None:
        return forwarded
    source = _running_source(ctx, name, "live_stream", "live stream")
    if not webrtc.available():
        raise unavailable("WebRTC live view needs the engine's webrtc extra "
                          "(pip install 'homesec-engine[webrtc]'); the HLS stream still works")
    try:
        sdp = await ctx.webrtc.answer(source.restream, body["sdp"])
    except webrtc.OfferError as err:
        raise validation_error([{"path": "sdp", "message": str(err)}], "Bad SDP offer") from err
    except TooManyViewers as err:
        raise unavailable(str(err)) from err
    except ConnectionError as err:
        raise unavailable(f"camera {name!r} is not streaming") from err
    return web.json_response({"type": "answer", "sdp": sdp},
                             headers={"Cache-Control": "no-store"})


HANDLERS = {
    "get_camera_snapshot": get_camera_snapshot,
    "get_camera_stream": get_camera_stream,
    "offer_camera_webrtc": offer_camera_webrtc,
}
