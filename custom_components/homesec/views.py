"""Signed, expiring media URLs and the HTTP views that serve them.

A phone that receives an alert notification must open the snapshot and the clip without an
HA login, yet nothing else may open without one. So the only unauthenticated routes are these
views, and they serve nothing unless the URL carries an HMAC over its own path and expiry made
with a key that only Home Assistant knows (random, generated once, kept in HA's storage;
never derived from anything the engine knows).

The camera entities' stream source is the same kind of URL: HA's stream worker (PyAV) opens
it without HA credentials and gets the engine's restream relayed. The signature covers the
camera's path, so one camera's URL opens no other camera.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
from datetime import timedelta
from http import HTTPStatus
from ipaddress import ip_address
from typing import TYPE_CHECKING, Final, Literal, cast
from urllib.parse import urlsplit

from aiohttp import ClientError, ClientResponse, web

from homeassistant.config_entries import ConfigEntryState
from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers.http import KEY_HASS, HomeAssistantView
from homeassistant.helpers.network import NoURLAvailableError, get_url
from homeassistant.helpers.storage import Store
from homeassistant.util.hass_dict import HassKey

from .api import HomeSecCameraUnavailableError, HomeSecError, HomeSecNotFoundError
from .const import DOMAIN

if TYPE_CHECKING:
    from .coordinator import HomeSecConfigEntry

MediaKind = Literal["clip", "snapshot"]
MEDIA_KINDS: Final[tuple[MediaKind, ...]] = ("clip", "snapshot")
MEDIA_URL: Final = "/api/homesec/media/{entry_id}/{clip_id}/{kind}"
# Long enough to open a notification hours later; short enough that a leaked link dies.
ALERT_URL_TTL: Final = timedelta(hours=24)
# Media browser playback: the player fetches at once (and seeks within the hour).
PLAYBACK_URL_TTL: Final = timedelta(hours=1)
STREAM_URL: Final = "/api/homesec/stream/{entry_id}/{camera}"
# The stream worker reconnects with the URL it was given; camera entities renew it halfway.
STREAM_URL_TTL: Final = timedelta(minutes=10)

SIG_PARAM: Final = "homesec_sig"
EXP_PARAM: Final = "homesec_exp"
_STORAGE_KEY: Final = f"{DOMAIN}.media_signing_key"
_STORAGE_VERSION: Final = 1
_KEY: HassKey[bytes] = HassKey(f"{DOMAIN}_media_signing_key")
_REGISTERED: HassKey[bool] = HassKey(f"{DOMAIN}_media_view_registered")
# Headers copied from the engine's answer to the browser (Range support needs them).
_PASS_HEADERS: Final = (
    "Content-Type",
    "Content-Length",
    "Content-Range",
    "Accept-Ranges",
    "Last-Modified",
    "ETag",
)
_CHUNK: Final = 64 * 1024


async def async_register_views(hass: HomeAssistant) -> None:
    """Load (or create once) the signing key and register the media view."""
    if _KEY not in hass.data:
        store: Store[dict[str, str]] = Store(
            hass, _STORAGE_VERSION, _STORAGE_KEY, private=True
        )
        stored = await store.async_load()
        if stored and isinstance(stored.get("key"), str):
            hass.data[_KEY] = bytes.fromhex(stored["key"])
        else:
            key = secrets.token_bytes(32)
            await store.async_save({"key": key.hex()})
            hass.data[_KEY] = key
    if not hass.data.get(_REGISTERED):
        hass.http.register_view(HomeSecMediaView())
        hass.http.register_view(HomeSecStreamView())
        hass.data[_REGISTERED] = True


def media_path(entry_id: str, clip_id: str, kind: MediaKind) -> str:
    """The view's path for one clip's video or snapshot."""
    return MEDIA_URL.format(entry_id=entry_id, clip_id=clip_id, kind=kind)


def stream_path(entry_id: str, camera: str) -> str:
    """The view's path for one camera's live stream."""
    return STREAM_URL.format(entry_id=entry_id, camera=camera)


@callback
def async_signed_stream_url(
    hass: HomeAssistant, entry_id: str, camera: str, expires_in: timedelta = STREAM_URL_TTL
) -> str:
    """A signed stream URL for HA's own stream worker: on HA's internal URL."""
    return stream_base(hass) + async_sign_url(hass, stream_path(entry_id, camera), expires_in)


@callback
def stream_base(hass: HomeAssistant) -> str:
    """HA's internal URL (where its own stream worker reaches the stream view)."""
    try:
        return get_url(hass, allow_external=False, allow_cloud=False)
    except NoURLAvailableError:
        return get_url(hass)


@callback
def async_sign_token(hass: HomeAssistant, subject: str, expires_in: timedelta) -> str:
    """`<expires>.<signature>` over a subject (a cookie's worth of proof, like a URL's)."""
    expires = int(time.time() + expires_in.total_seconds())
    return f"{expires}.{_signature(hass.data[_KEY], subject, expires)}"


@callback
def async_verify_token(hass: HomeAssistant, subject: str, token: str | None) -> bool:
    """Whether `token` was signed for `subject` and has not expired."""
    expires, _, sig = (token or "").partition(".")
    return verify_signature(hass.data[_KEY], subject, expires, sig, time.time()) is None


def _signature(key: bytes, path: str, expires: int) -> str:
    return hmac.new(key, f"{path}\n{expires}".encode(), hashlib.sha256).hexdigest()


@callback
def async_sign_url(hass: HomeAssistant, path: str, expires_in: timedelta) -> str:
    """Return `path` with an expiry and an HMAC signature over path and expiry."""
    expires = int(time.time() + expires_in.total_seconds())
    sig = _signature(hass.data[_KEY], path, expires)
    return f"{path}?{EXP_PARAM}={expires}&{SIG_PARAM}={sig}"


def reachable_from_a_phone(url: str) -> bool:
    """False for an address only this machine answers on (0.0.0.0, localhost, loopback)."""
    host = (urlsplit(url).hostname or "").lower()
    if not host or host == "localhost" or host.endswith(".localhost"):
        return False
    try:
        address = ip_address(host)
    except ValueError:
        return True  # a name: resolved by the phone
    return not (address.is_unspecified or address.is_loopback)


@callback
def async_phone_base_url(hass: HomeAssistant) -> str | None:
    """HA's base URL for links opened on a phone: external, then internal, then what HA
    detects (cloud, local IP); None when every one is local-only or there is none."""
    candidates = [hass.config.external_url, hass.config.internal_url]
    try:
        candidates.append(get_url(hass, prefer_external=True))
    except NoURLAvailableError:
        pass
    return next((url.rstrip("/") for url in candidates
                 if url and reachable_from_a_phone(url)), None)


@callback
def async_signed_alert_urls(
    hass: HomeAssistant,
    entry_id: str,
    clip_id: str,
    expires_in: timedelta = ALERT_URL_TTL,
) -> dict[str, str]:
    """Signed snapshot and clip URLs for an alert, absolute on HA's phone-usable URL (when
    there is none they stay relative, and a repair issue says how to set one)."""
    base = async_phone_base_url(hass) or ""
    return {
        f"{kind}_url": base
        + async_sign_url(hass, media_path(entry_id, clip_id, kind), expires_in)
        for kind in ("snapshot", "clip")
    }


def verify_signature(
    key: bytes, path: str, expires: str | None, sig: str | None, now: float
) -> HTTPStatus | None:
    """None when valid; 401 when unsigned or tampered; 403 when expired."""
    # ASCII digits only, and short: "²" or 5000 digits would make int() raise (a 500).
    if not expires or not sig or not (expires.isascii() and expires.isdigit()):
        return HTTPStatus.UNAUTHORIZED
    if len(expires) > 12:
        return HTTPStatus.UNAUTHORIZED
    if not hmac.compare_digest(_signature(key, path, int(expires)), sig):
        return HTTPStatus.UNAUTHORIZED
    if int(expires) < now:
        return HTTPStatus.FORBIDDEN
    return None


def _signed_entry(
    request: web.Request, entry_id: str, expired: HTTPStatus = HTTPStatus.FORBIDDEN
) -> HomeSecConfigEntry | web.Response:
    """The loaded HomeSec entry of a validly signed request, else the answer to give."""
    hass = request.app[KEY_HASS]
    problem = verify_signature(
        hass.data[_KEY],
        request.path,
        request.query.get(EXP_PARAM),
        request.query.get(SIG_PARAM),
        time.time(),
    )
    if problem is not None:
        status = expired if problem is HTTPStatus.FORBIDDEN else problem
        return web.Response(status=status)
    entry = hass.config_entries.async_get_entry(entry_id)
    if entry is None or entry.domain != DOMAIN:
        return web.Response(status=HTTPStatus.NOT_FOUND)
    if entry.state is not ConfigEntryState.LOADED:
        return web.Response(status=HTTPStatus.SERVICE_UNAVAILABLE)
    return cast("HomeSecConfigEntry", entry)


class HomeSecMediaView(HomeAssistantView):
    """Streams a clip or its snapshot from the engine to a holder of a signed URL."""

    url = MEDIA_URL
    name = "api:homesec:media"
    requires_auth = False

    async def get(
        self, request: web.Request, entry_id: str, clip_id: str, kind: str
    ) -> web.StreamResponse:
        """Check the signature, then stream the engine's answer (Range passes through)."""
        if kind not in MEDIA_KINDS:
            return web.Response(status=HTTPStatus.NOT_FOUND)
        entry = _signed_entry(request, entry_id)
        if isinstance(entry, web.Response):
            return entry
        client = entry.runtime_data.client
        try:
            if kind == "snapshot":
                image = await client.get_clip_snapshot(clip_id)
                return web.Response(
                    body=image,
                    content_type="image/jpeg",
                    headers={"Cache-Control": "private, max-age=300"},
                )
            upstream = await client.open_clip_media(clip_id, request.headers.get("Range"))
        except HomeSecNotFoundError:
            return web.Response(status=HTTPStatus.NOT_FOUND)
        except HomeSecError:
            return web.Response(status=HTTPStatus.BAD_GATEWAY)
        return await relay(request, upstream)


class HomeSecStreamView(HomeAssistantView):
    """Relays a camera's live restream to a holder of a signed URL (HA's stream worker)."""

    url = STREAM_URL
    name = "api:homesec:stream"
    requires_auth = False

    async def get(
        self, request: web.Request, entry_id: str, camera: str
    ) -> web.StreamResponse:
        """Check the signature, then relay the engine's MPEG-TS until either side ends."""
        # Expired, forged or another camera's: all the same (401) to a stream client.
        entry = _signed_entry(request, entry_id, expired=HTTPStatus.UNAUTHORIZED)
        if isinstance(entry, web.Response):
            return entry
        try:
            upstream = await entry.runtime_data.client.open_camera_stream(camera)
        except HomeSecNotFoundError:
            return web.Response(status=HTTPStatus.NOT_FOUND)
        except HomeSecCameraUnavailableError:
            return web.Response(status=HTTPStatus.SERVICE_UNAVAILABLE)
        except HomeSecError:
            return web.Response(status=HTTPStatus.BAD_GATEWAY)
        return await relay(request, upstream, cache_control="no-store")


async def relay(
    request: web.Request,
    upstream: ClientResponse,
    cache_control: str | None = "private, max-age=300",
) -> web.StreamResponse:
    """Copy the engine's answer (status, type and range headers, body) to the browser;
    `cache_control` None keeps the engine's."""
    response = web.StreamResponse(status=upstream.status)
    try:
        for header in (*_PASS_HEADERS, "Cache-Control"):
            if header in upstream.headers:
                response.headers[header] = upstream.headers[header]
        if cache_control is not None:
            response.headers["Cache-Control"] = cache_control
        await response.prepare(request)
        async for chunk in upstream.content.iter_chunked(_CHUNK):
            await response.write(chunk)
        await response.write_eof()
    except (ClientError, ConnectionResetError):
        # The engine or the browser went away mid-stream; nobody is left to tell.
        pass
    finally:
        upstream.release()
    return response
