"""Reading request input: JSON bodies, query strings, path parameters, If-Match.

Everything the client sends is checked here or by the schema package, so a handler only
sees valid data; every problem is a 400 `VALIDATION_ERROR` naming the field.
"""

from __future__ import annotations

import asyncio
import json
import re
from typing import Any

from aiohttp import web

from ..schema import validate
from ..schema.fields import MAX_BODY_DEPTH, SLUG_MESSAGE, SLUG_PATTERN
from .errors import ApiError, validation_error
from .server import BODY_TIMEOUT_KEY, ServerLimits

DEFAULT_BODY_TIMEOUT_S = ServerLimits().body_timeout_s

# The OpenAPI document's pattern for every path parameter; outside it a value is a 400.
PATH_PARAM_PATTERN = re.compile(r"^[A-Za-z0-9_\-]{1,128}$")
PATH_PARAM_MESSAGE = "must be 1-128 letters, digits, '_' or '-'"
_SLUG = re.compile(SLUG_PATTERN)
_VERSION = re.compile(r'^\s*(?:W/)?"?\s*(\d{1,18})\s*"?\s*$')


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")


MAX_DEPTH = MAX_BODY_DEPTH


def _bad_strings(value: Any, path: str = "") -> list[dict[str, str]]:
    """Strings no store can keep (NUL characters, lone surrogates), and nesting too deep.

    Iterative, so a hostile body cannot exhaust the stack however deep it nests.
    """
    problems: list[dict[str, str]] = []
    stack: list[tuple[Any, str, int]] = [(value, path, 0)]
    while stack:
        item, where, depth = stack.pop()
        if isinstance(item, str):
            if "\x00" in item:
                problems.append({"path": where, "message": "must not contain NUL characters"})
                continue
            try:
                item.encode("utf-8")
            except UnicodeEncodeError:
                problems.append({"path": where, "message": "is not valid Unicode text"})
            continue
        if not isinstance(item, (dict, list)):
            continue
        if depth >= MAX_DEPTH:
            problems.append({"path": where,
                             "message": f"nests deeper than {MAX_DEPTH} levels"})
            continue
        children = list(item.items()) if isinstance(item, dict) else [
            (f"[{i}]", child) for i, child in enumerate(item)]
        for key, child in reversed(children):
            if isinstance(item, dict):
                sub = f"{where}.{key}" if where else str(key)
                stack.append((child, sub, depth + 1))
                stack.append((key, sub, depth + 1))
            else:
                stack.append((child, f"{where}{key}", depth + 1))
    return problems


async def read_json(request: web.Request, *, optional: bool = False) -> dict[str, Any] | None:
    """The request's JSON object; None for an absent optional body."""
    try:
        # aiohttp enforces client_max_size (413); a body trickling in is cut off.
        async with asyncio.timeout(request.app.get(BODY_TIMEOUT_KEY, DEFAULT_BODY_TIMEOUT_S)):
            raw = await request.read()
    except TimeoutError as err:
        raise ApiError(408, "REQUEST_TIMEOUT", "the request body did not arrive in time",
                       headers={"Connection": "close"}) from err
    if not raw.strip():
        if optional:
            return None
        raise validation_error([{"path": "", "message": "a JSON body is required"}])
    if request.content_type != "application/json":
        raise validation_error(
            [{"path": "", "message": "the body must be sent as application/json"}],
            "Unsupported content type",
        )
    try:
        data = json.loads(raw.decode("utf-8"), parse_constant=_reject_constant)
    except RecursionError as err:  # deeper than the parser's own limit
        raise validation_error([{"path": "", "message": f"nests deeper than {MAX_DEPTH} levels"}],
                               "Malformed JSON") from err
    except (UnicodeDecodeError, ValueError) as err:
        raise validation_error([{"path": "", "message": f"malformed JSON: {err}"}],
                               "Malformed JSON") from err
    if not isinstance(data, dict):
        raise validation_error([{"path": "", "message": "expected a JSON object"}])
    problems = _bad_strings(data)
    if problems:
        raise validation_error(problems)
    return data


def read_query(request: web.Request, model: str) -> dict[str, Any]:
    """The query string validated (and coerced) against `model`."""
    data: dict[str, Any] = {}
    problems: list[dict[str, str]] = []
    for key in request.query:
        values = request.query.getall(key)
        if len(values) > 1:
            problems.append({"path": key, "message": "must be given once"})
        data[key] = values[0]
    problems += _bad_strings(data)
    if problems:
        raise validation_error(problems)
    return validate(model, data, coerce=True)


def camera_name(request: web.Request) -> str:
    name = request.match_info["name"]
    if not PATH_PARAM_PATTERN.fullmatch(name):
        raise validation_error([{"path": "name", "message": PATH_PARAM_MESSAGE}])
    if not _SLUG.fullmatch(name):
        # A well-formed path parameter that no camera can have (not a slug): not found.
        raise ApiError(404, "NOT_FOUND", f"no camera named {name!r} (camera names: "
                       f"{SLUG_MESSAGE})")
    return name


def clip_id(request: web.Request) -> str:
    value = request.match_info["clip_id"]
    if not PATH_PARAM_PATTERN.fullmatch(value):
        raise validation_error([{"path": "clip_id", "message": PATH_PARAM_MESSAGE}])
    return value


def expected_version(request: web.Request, body: dict[str, Any] | None) -> int | None:
    """The config_version a mutation was made against: body field or If-Match header."""
    from_body = body.get("config_version") if body else None
    header = request.headers.get("If-Match")
    from_header: int | None = None
    if header is not None:
        match = _VERSION.fullmatch(header)
        if match is None or int(match.group(1)) < 1:
            raise validation_error([{"path": "If-Match",
                                     "message": "must be a config_version (a positive integer)"}])
        from_header = int(match.group(1))
    if from_body is not None and from_header is not None and from_body != from_header:
        raise ApiError(400, "VALIDATION_ERROR", "Two different config versions were given",
                       errors=[{"path": "config_version",
                                "message": "differs from the If-Match header"}])
    return from_body if from_body is not None else from_header
