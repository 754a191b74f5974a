"""Typed client of the HomeSec engine's REST API and event WebSocket.

All device I/O of the integration goes through this module; entities never talk HTTP.
It runs on Home Assistant's shared aiohttp session (passed in), retries idempotent calls
with exponential backoff, and a circuit breaker stops hammering an engine that is down.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable, Mapping
from typing import Any, Final, cast

import aiohttp

from .compat import vol
from .const import LOGGER
from .generated.api_models import (
    AlertPolicyView,
    CameraCreate,
    CameraList,
    CameraUpdate,
    CameraView,
    ChangeResult,
    Clip,
    ClipList,
    ClipQuery,
    ConfigView,
    Diagnostics,
    Health,
    RestartAccepted,
    SettingsUpdate,
    Stats,
    Status,
    WsMessage,
)
from .generated.schema_data import ENGINE_SETTINGS_SECTIONS, MODELS, ROUTES
from .generated.vol_render import error_items, model_validator

IDEMPOTENT_METHODS: Final = frozenset({"GET", "PUT", "DELETE"})
RETRY_STATUSES: Final = frozenset({500, 502, 504})
DEFAULT_TIMEOUT: Final = 10.0
_WS_END: Final = frozenset(
    {
        aiohttp.WSMsgType.CLOSE,
        aiohttp.WSMsgType.CLOSING,
        aiohttp.WSMsgType.CLOSED,
        aiohttp.WSMsgType.ERROR,
    }
)


class HomeSecError(Exception):
    """Base of every error the client raises."""


class HomeSecConnectionError(HomeSecError):
    """The engine could not be reached (or answered with a server failure)."""


class HomeSecUnavailableError(HomeSecConnectionError):
    """The engine answers but its database is down (503 DB_UNAVAILABLE)."""


class HomeSecCircuitOpenError(HomeSecConnectionError):
    """Calls fail fast: the engine failed too often in a row."""


class HomeSecAuthenticationError(HomeSecError):
    """The API key was refused (401)."""


class HomeSecDataValidationError(HomeSecError):
    """A request body was refused (400) or a response did not have the promised shape."""

    def __init__(self, message: str, errors: list[dict[str, str]] | None = None) -> None:
        super().__init__(message)
        self.errors: list[dict[str, str]] = errors or []

    @property
    def reasons(self) -> str:
        """What was refused and why, for the user (`filter.min_hits: expected an integer`)."""
        return "; ".join(
            f"{item.get('path') or 'body'}: {item.get('message', '')}" for item in self.errors
        ) or str(self)


class HomeSecConflictError(HomeSecError):
    """409: a stale config_version or an existing camera name."""

    def __init__(
        self, message: str, error_code: str, current_version: int | None = None
    ) -> None:
        super().__init__(message)
        self.error_code = error_code
        self.current_version = current_version


class HomeSecCameraUnavailableError(HomeSecError):
    """The engine is fine, but the camera shows nothing now (offline, disabled, busy)."""


class HomeSecNotFoundError(HomeSecError):
    """404: unknown camera or clip."""


class CircuitBreaker:
    """Closed -> open after `threshold` consecutive failures -> one probe after `cooldown`.

    While open every call fails at once; after the cool-down exactly one call goes through
    (half-open). Its success closes the breaker, its failure opens it again.
    """

    def __init__(
        self,
        threshold: int = 5,
        cooldown: float = 30.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.threshold = threshold
        self.cooldown = cooldown
        self._clock = clock
        self.failures = 0
        self._opened_at: float | None = None
        self._probing = False

    @property
    def state(self) -> str:
        """closed, open or half_open."""
        if self._opened_at is None:
            return "closed"
        if self._probing or self._clock() - self._opened_at >= self.cooldown:
            return "half_open"
        return "open"

    def before_call(self) -> None:
        """Raise HomeSecCircuitOpenError unless this call may go through."""
        if self._opened_at is None:
            return
        if self._probing or self._clock() - self._opened_at < self.cooldown:
            raise HomeSecCircuitOpenError("the engine is unreachable; not retrying yet")
        self._probing = True

    def record_success(self) -> None:
        self.failures = 0
        self._opened_at = None
        self._probing = False

    def record_failure(self) -> None:
        self.failures += 1
        if self._probing or self.failures >= self.threshold:
            self._opened_at = self._clock()
        self._probing = False


def _check_shape(model: str) -> Callable[[Any], Any]:
    validator = model_validator(MODELS, model)

    def check(data: Any) -> Any:
        try:
            validator(data)
        except vol.Invalid as err:
            raise HomeSecDataValidationError(
                f"the engine answered with an unexpected {model}", error_items(err)
            ) from err
        # The validator turns datetimes into objects; the TypedDicts promise the JSON as sent.
        return data

    return check


_STATUS = _check_shape("Status")
_HEALTH = _check_shape("Health")
_CHANGE = _check_shape("ChangeResult")
_CLIP = _check_shape("Clip")
_CLIP_LIST = _check_shape("ClipList")
_CAMERA = _check_shape("CameraView")
_CAMERA_LIST = _check_shape("CameraList")
_POLICY = _check_shape("AlertPolicyView")
_STATS = _check_shape("Stats")
_WS_MESSAGE = _check_shape("WsMessage")


def _query_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


class HomeSecClient:
    """The engine's API, one typed method per route."""

    def __init__(
        self,
        session: aiohttp.ClientSession,
        host: str,
        port: int,
        api_key: str = "",
        *,
        ssl: bool = False,
        attempts: int = 3,
        backoff: float = 0.5,
        timeout: float = DEFAULT_TIMEOUT,
        breaker: CircuitBreaker | None = None,
    ) -> None:
        self._session = session
        self.host = host
        self.port = port
        self._api_key = api_key
        self.ssl = ssl
        self.attempts = max(1, attempts)
        self.backoff = backoff
        self._timeout = aiohttp.ClientTimeout(total=timeout)
        self.breaker = breaker or CircuitBreaker()
        self.request_count = 0  # for benchmarks: requests sent
        # A cluster of engines: the other engines' API URLs (from /health), tried in turn
        # when the one in use does not answer; None while none is known.
        self._peers: list[str] = []
        self._failed_over_to: str | None = None

    @property
    def configured_url(self) -> str:
        """The engine the config entry names."""
        host = self.host
        if ":" in host and not host.startswith("["):
            host = f"[{host}]"  # IPv6 literal
        return f"{'https' if self.ssl else 'http'}://{host}:{self.port}"

    @property
    def base_url(self) -> str:
        """The engine requests go to: the configured one, or the engine failed over to."""
        return self._failed_over_to or self.configured_url

    def learn_peers(self, health: Health) -> None:
        """Remember the cluster's engines (`health.cluster.engines`) to fail over to."""
        cluster = health.get("cluster")
        engines = cluster.get("engines", []) if cluster else []
        urls = [str(e["url"]).rstrip("/") for e in engines]
        self._peers = [u for u in urls if u != self.base_url]

    def fail_over(self) -> bool:
        """Use the next known engine of the cluster; False when there is none."""
        if not self._peers:
            return False
        current = self.base_url
        self._failed_over_to = self._peers.pop(0)
        self._peers.append(current)  # tried again when this one fails in turn
        self.breaker = CircuitBreaker()  # a new engine starts with a closed circuit
        LOGGER.warning("engine at %s does not answer; using %s", current, self.base_url)
        return True

    @property
    def headers(self) -> dict[str, str]:
        """Auth headers; also for callers that stream media themselves."""
        return {"Authorization": f"Bearer {self._api_key}"} if self._api_key else {}

    def url_for(self, operation: str, **params: str) -> str:
        """Absolute URL of a route by its operation id."""
        path = ROUTES[operation][1].format(**params)
        return f"{self.base_url}{path}"

    # -- plumbing -----------------------------------------------------------------------

    async def _request(
        self,
        operation: str,
        *,
        params: Mapping[str, str] | None = None,
        body: Mapping[str, Any] | None = None,
        path: Mapping[str, str] | None = None,
        raw: bool = False,
        attempts: int | None = None,
    ) -> Any:
        method = ROUTES[operation][0]
        tries = (attempts or self.attempts) if method in IDEMPOTENT_METHODS else 1
        for _engine in range(len(self._peers) + 1):
            try:
                return await self._tries(method, operation, path, params, body, raw, tries)
            except HomeSecUnavailableError:
                raise  # the engine answers; its database is down
            except HomeSecConnectionError:
                if not self.fail_over():
                    raise
        raise HomeSecConnectionError("no engine of the cluster answers")

    async def _tries(
        self,
        method: str,
        operation: str,
        path: Mapping[str, str] | None,
        params: Mapping[str, str] | None,
        body: Mapping[str, Any] | None,
        raw: bool,
        tries: int,
    ) -> Any:
        url = self.url_for(operation, **(path or {}))
        for attempt in range(tries):
            try:
                return await self._send(method, url, params, body, raw)
            except (HomeSecUnavailableError, HomeSecCircuitOpenError):
                raise  # a retry in milliseconds will not bring a database back
            except HomeSecConnectionError:
                if attempt + 1 >= tries:
                    raise
            await asyncio.sleep(self.backoff * 2**attempt)
        raise AssertionError("unreachable")  # pragma: no cover

    async def _send(
        self,
        method: str,
        url: str,
        params: Mapping[str, str] | None,
        body: Mapping[str, Any] | None,
        raw: bool,
    ) -> Any:
        self.breaker.before_call()
        self.request_count += 1
        try:
            async with self._session.request(
                method,
                url,
                params=params,
                json=body,
                headers=self.headers,
                timeout=self._timeout,
            ) as resp:
                if resp.status < 300:
                    payload: Any = await resp.read() if raw else await resp.json()
                    self.breaker.record_success()
                    return payload
                error = await self._error_from(resp)
        except (aiohttp.ClientError, TimeoutError) as err:
            self.breaker.record_failure()
            raise HomeSecConnectionError(
                f"cannot reach the engine at {self.base_url}: {type(err).__name__}"
            ) from err
        if isinstance(error, HomeSecConnectionError) and not isinstance(
            error, HomeSecUnavailableError
        ):
            self.breaker.record_failure()
        else:
            self.breaker.record_success()  # it answered: the engine is up
        raise error

    @staticmethod
    async def _error_from(resp: aiohttp.ClientResponse) -> HomeSecError:
        try:
            data = await resp.json(content_type=None)
        except (ValueError, aiohttp.ClientError):
            data = None
        if not isinstance(data, dict):
            data = {}
        detail = str(data.get("detail") or resp.reason or resp.status)
        code = str(data.get("error_code", ""))
        if resp.status == 400:
            return HomeSecDataValidationError(detail, list(data.get("errors") or []))
        if resp.status in (401, 403):
            return HomeSecAuthenticationError(detail)
        if resp.status == 404:
            return HomeSecNotFoundError(detail)
        if resp.status == 409:
            current = data.get("current_version")
            return HomeSecConflictError(
                detail, code, current if isinstance(current, int) else None
            )
        if resp.status == 503 and code == "DB_UNAVAILABLE":
            return HomeSecUnavailableError(detail)
        if resp.status == 503 and code == "CAMERA_UNAVAILABLE":
            return HomeSecCameraUnavailableError(detail)
        if resp.status >= 500:
            return HomeSecConnectionError(f"the engine answered {resp.status}: {detail}")
        return HomeSecError(f"the engine answered {resp.status}: {detail}")

    # -- routes -------------------------------------------------------------------------

    async def get_status(self, *, attempts: int | None = None) -> Status:
        """Everything a poll needs, in one request."""
        return cast(Status, _STATUS(await self._request("get_status", attempts=attempts)))

    async def get_health(self) -> Health:
        """Public liveness; a stopped pipeline answers 503 with the same body."""
        return cast(Health, _HEALTH(await self._request("get_health")))

    async def get_diagnostics(self) -> Diagnostics:
        return cast(Diagnostics, await self._request("get_diagnostics"))

    async def get_config(self) -> ConfigView:
        return cast(ConfigView, await self._request("get_config"))

    async def get_stats(self) -> Stats:
        return cast(Stats, _STATS(await self._request("get_stats")))

    async def list_cameras(self) -> CameraList:
        return cast(CameraList, _CAMERA_LIST(await self._request("list_cameras")))

    async def get_camera(self, name: str) -> CameraView:
        return cast(
            CameraView, _CAMERA(await self._request("get_camera", path={"name": name}))
        )

    async def create_camera(self, camera: CameraCreate) -> ChangeResult:
        return cast(
            ChangeResult, _CHANGE(await self._request("create_camera", body=dict(camera)))
        )

    async def update_camera(self, name: str, update: CameraUpdate) -> ChangeResult:
        data = await self._request("update_camera", path={"name": name}, body=dict(update))
        return cast(ChangeResult, _CHANGE(data))

    async def delete_camera(
        self, name: str, config_version: int | None = None
    ) -> ChangeResult:
        body = {"config_version": config_version} if config_version is not None else None
        data = await self._request("delete_camera", path={"name": name}, body=body)
        return cast(ChangeResult, _CHANGE(data))

    async def get_alert_policy(self) -> AlertPolicyView:
        return cast(AlertPolicyView, _POLICY(await self._request("get_alert_policy")))

    async def set_alert_policy(self, view: AlertPolicyView) -> ChangeResult:
        """Replace the policy: the body is what get_alert_policy returned, edited."""
        data = await self._request("set_alert_policy", body=dict(view))
        return cast(ChangeResult, _CHANGE(data))

    async def update_settings(self, update: SettingsUpdate) -> ChangeResult:
        """Change retention and object-filter fields (what is not sent stays)."""
        data = await self._request("update_settings", body=dict(update))
        return cast(ChangeResult, _CHANGE(data))

    async def get_engine_settings(self) -> dict[str, Any]:
        """The engine's current values of the settings users tune most, as one flat form
        (model EngineSettings; ENGINE_SETTINGS_SECTIONS says where each lives)."""
        config = (await self.get_config())["config"]
        return {name: (config.get(section) or {}).get(name)
                for section, names in ENGINE_SETTINGS_SECTIONS.items() for name in names}

    async def update_engine_settings(self, values: Mapping[str, Any]) -> ChangeResult:
        """Change some of them (what is not given stays): each field goes to the config
        section that declares it, through update_settings. A refused field raises
        HomeSecDataValidationError with its path (`filter.min_hits`)."""
        update: dict[str, dict[str, Any]] = {}
        for section, names in ENGINE_SETTINGS_SECTIONS.items():
            if part := {name: values[name] for name in names if name in values}:
                update[section] = part
        return await self.update_settings(cast(SettingsUpdate, update))

    async def list_clips(self, query: ClipQuery | None = None) -> ClipList:
        params = {k: _query_value(v) for k, v in (query or {}).items() if v is not None}
        return cast(ClipList, _CLIP_LIST(await self._request("list_clips", params=params)))

    async def get_clip(self, clip_id: str) -> Clip:
        return cast(Clip, _CLIP(await self._request("get_clip", path={"clip_id": clip_id})))

    async def delete_clip(self, clip_id: str) -> Clip:
        data = await self._request("delete_clip", path={"clip_id": clip_id})
        return cast(Clip, _CLIP(data))

    async def get_clip_snapshot(self, clip_id: str) -> bytes:
        """The clip's JPEG snapshot."""
        data = await self._request(
            "get_clip_snapshot", path={"clip_id": clip_id}, raw=True
        )
        return cast(bytes, data)

    async def get_camera_snapshot(
        self, name: str, width: int | None = None, height: int | None = None
    ) -> bytes:
        """The camera's live picture as a JPEG (not retried: the next one is a second away)."""
        params = {
            key: str(value)
            for key, value in (("width", width), ("height", height))
            if value
        }
        data = await self._request(
            "get_camera_snapshot",
            path={"name": name},
            params=params or None,
            raw=True,
            attempts=1,
        )
        return cast(bytes, data)

    async def offer_camera_webrtc(self, name: str, offer_sdp: str) -> str:
        """The engine's SDP answer (ICE candidates included) to a WebRTC viewer's offer."""
        data = await self._request(
            "offer_camera_webrtc",
            path={"name": name},
            body={"type": "offer", "sdp": offer_sdp},
        )
        return str(data["sdp"])

    async def open_clip_media(
        self, clip_id: str, range_header: str | None = None
    ) -> aiohttp.ClientResponse:
        """Start streaming a clip's video; the caller must release() the response.

        Errors map like every other call (404 -> HomeSecNotFoundError, ...).
        """
        headers = dict(self.headers)
        if range_header:
            headers["Range"] = range_header
        return await self._open_stream(
            self.url_for("get_clip_media", clip_id=clip_id), headers
        )

    async def open_camera_stream(self, name: str) -> aiohttp.ClientResponse:
        """Start receiving the camera's restream (MPEG-TS); the caller must release() it."""
        return await self._open_stream(
            self.url_for("get_camera_stream", name=name), dict(self.headers)
        )

    async def open_panel(
        self,
        method: str,
        path: str,
        *,
        query: str = "",
        headers: Mapping[str, str] | None = None,
        body: bytes | None = None,
        prefix: str = "",
    ) -> aiohttp.ClientResponse:
        """Forward one request of the engine's panel (a file of it, or one of its API calls)
        with the integration's key, which the browser never sees; `prefix` is where the
        panel is served (the engine writes it into the page as ingress does). Any answer is
        returned as it is; the caller must release() it."""
        forwarded = {**(headers or {}), **self.headers}
        if prefix:
            forwarded["X-Ingress-Path"] = prefix
        url = f"{self.base_url}/{path}" + (f"?{query}" if query else "")
        self.breaker.before_call()
        try:
            resp = await self._session.request(
                method, url, headers=forwarded, data=body,
                timeout=aiohttp.ClientTimeout(total=None, sock_connect=10, sock_read=60),
            )
        except (aiohttp.ClientError, TimeoutError) as err:
            self.breaker.record_failure()
            raise HomeSecConnectionError("cannot reach the engine") from err
        self.breaker.record_success()
        return resp

    async def _open_stream(
        self, url: str, headers: dict[str, str]
    ) -> aiohttp.ClientResponse:
        self.breaker.before_call()
        try:
            resp = await self._session.get(
                url,
                headers=headers,
                timeout=aiohttp.ClientTimeout(total=None, sock_connect=10),
            )
        except (aiohttp.ClientError, TimeoutError) as err:
            self.breaker.record_failure()
            raise HomeSecConnectionError("cannot reach the engine") from err
        self.breaker.record_success()
        if resp.status >= 300:
            try:
                raise await self._error_from(resp)
            finally:
                resp.release()
        return resp

    async def restart(self) -> RestartAccepted:
        """Ask for a graceful restart (POST: never retried)."""
        return cast(RestartAccepted, await self._request("restart"))

    # -- live events ----------------------------------------------------------------------

    async def events(
        self,
        heartbeat: float = 30.0,
        on_connect: Callable[[], None] | None = None,
    ) -> AsyncIterator[WsMessage]:
        """Yield the engine's live messages until the WebSocket closes.

        Raises HomeSecAuthenticationError when the key is refused and HomeSecConnectionError
        when the socket cannot be opened; a normal close just ends the iteration.
        """
        url = self.url_for("events").replace("http", "ws", 1)
        self.breaker.before_call()
        try:
            ws = await self._session.ws_connect(url, headers=self.headers, heartbeat=heartbeat)
        except aiohttp.WSServerHandshakeError as err:
            # The engine answered over HTTP, so it is alive: this says nothing about polls.
            if err.status in (401, 403):
                raise HomeSecAuthenticationError("the API key was refused") from err
            raise HomeSecConnectionError(f"WebSocket refused: {err.status}") from err
        except (aiohttp.ClientError, TimeoutError) as err:
            self.breaker.record_failure()
            raise HomeSecConnectionError("cannot reach the engine") from err
        self.breaker.record_success()
        if on_connect is not None:
            on_connect()
        try:
            async for msg in ws:
                if msg.type in _WS_END:
                    break  # the caller reconnects
                if msg.type is not aiohttp.WSMsgType.TEXT:
                    continue
                try:
                    yield cast(WsMessage, _WS_MESSAGE(msg.json()))
                except (ValueError, HomeSecDataValidationError):
                    continue  # one malformed message must not end the stream
        finally:
            await ws.close()
