"""Error bodies and the middleware that turns every failure into one.

Every error body is `{detail, error_code, ...}`. Handlers raise `ApiError`; schema
validation errors become 400, an unavailable database 503, aiohttp's own HTTP errors
(unknown route, wrong method, body too large) keep their status with a JSON body, and
anything unexpected is logged and answered with a 500 `INTERNAL_ERROR` (tests prove no
input reaches that branch).
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web

from ..config import CameraExists, CameraNotFound, ConfigError, ConfigVersionConflict
from ..schema import SchemaValidationError
from ..state import DatabaseUnavailable
from .views import json_response

_LOGGER = logging.getLogger(__name__)

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


class ApiError(Exception):
    """An error answer: HTTP status, machine-readable code and extra body fields."""

    def __init__(self, status: int, error_code: str, detail: str, *,
                 headers: dict[str, str] | None = None, **extra: Any) -> None:
        super().__init__(detail)
        self.headers = headers or {}
        self.status = status
        self.error_code = error_code
        self.detail = detail
        self.extra = extra


def validation_error(errors: list[dict[str, str]], detail: str = "Invalid input") -> ApiError:
    return ApiError(400, "VALIDATION_ERROR", detail, errors=errors)


def not_found(detail: str) -> ApiError:
    return ApiError(404, "NOT_FOUND", detail)


RETRY_AFTER_S = 5  # what a 503 tells a client to wait before trying again


def db_unavailable() -> ApiError:
    # The reason stays in the log: it may name hosts; the body says what the user can do.
    return ApiError(503, "DB_UNAVAILABLE",
                    "The state database is unavailable; try again when it is back",
                    headers={"Retry-After": str(RETRY_AFTER_S)})


def store_unavailable() -> ApiError:
    """Cluster mode: the object store holding the clips did not answer (nothing changed)."""
    return ApiError(503, "STORE_UNAVAILABLE",
                    "The object store holding the clips is unavailable; nothing was deleted, "
                    "try again when it is back", headers={"Retry-After": str(RETRY_AFTER_S)})


def error_response(error: ApiError, headers: dict[str, str] | None = None) -> web.Response:
    body = {"detail": error.detail, "error_code": error.error_code, **error.extra}
    return json_response(body, status=error.status, headers={**error.headers, **(headers or {})})


def to_api_error(exc: BaseException) -> ApiError | None:
    """The API error for a known domain exception (None when it is not one)."""
    if isinstance(exc, ApiError):
        return exc
    if isinstance(exc, SchemaValidationError):
        return validation_error(exc.errors)
    if isinstance(exc, DatabaseUnavailable):
        return db_unavailable()
    if isinstance(exc, ConfigVersionConflict):
        return ApiError(409, "CONFIG_VERSION_CONFLICT", str(exc),
                        current_version=exc.current_version)
    if isinstance(exc, CameraExists):
        return ApiError(409, "CAMERA_EXISTS", str(exc))
    if isinstance(exc, CameraNotFound):
        return not_found(str(exc))
    if isinstance(exc, ConfigError):
        # The change would make the merged config invalid (e.g. a cross-field rule).
        cause = exc.__cause__
        errors = cause.errors if isinstance(cause, SchemaValidationError) else [
            {"path": "", "message": str(exc)}]
        return validation_error(errors, "The change would make the config invalid")
    return None


_HTTP_CODES = {
    401: "UNAUTHORIZED",
    404: "NOT_FOUND",
    405: "METHOD_NOT_ALLOWED",
}


def _from_http_exception(exc: web.HTTPException) -> web.Response:
    code = _HTTP_CODES.get(exc.status)
    if code is None:
        code = "VALIDATION_ERROR" if exc.status < 500 else "INTERNAL_ERROR"
    detail = {
        404: "Not found",
        405: "Method not allowed",
        413: "The request body is too large",
    }.get(exc.status, exc.reason)
    headers = {k: v for k, v in exc.headers.items() if k.lower() == "allow"}
    return error_response(ApiError(exc.status, code, detail), headers=headers)


# Answers after which the rest of the body is not worth reading: the connection is closed
# instead of draining it (aiohttp would otherwise linger reading a trickle or a flood).
_CLOSE_AFTER = frozenset({408, 413})


async def _closing(request: web.Request, response: web.Response) -> web.StreamResponse:
    if response.status not in _CLOSE_AFTER:
        return response
    response.force_close()
    await response.prepare(request)
    await response.write_eof()
    if request.protocol is not None:
        request.protocol.force_close()
    return response


@web.middleware
async def error_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    try:
        return await handler(request)
    except web.HTTPException as exc:
        if exc.status < 400:
            raise  # redirects and the like pass through untouched
        return await _closing(request, _from_http_exception(exc))
    except Exception as exc:  # noqa: BLE001 - the last line of defence
        error = to_api_error(exc)
        if error is not None:
            if isinstance(exc, DatabaseUnavailable):
                _LOGGER.debug("%s %s: database unavailable", request.method, request.path)
            return await _closing(request, error_response(error))
        _LOGGER.exception("Unexpected error in %s %s", request.method, request.path)
        return error_response(ApiError(500, "INTERNAL_ERROR", "Internal error"))
