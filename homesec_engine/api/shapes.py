"""Responses checked against the OpenAPI document they are declared in.

With `HOMESEC_STRICT_RESPONSES=1` (the test suites set it) every JSON response is compared
with its route's declared response schema: a key the document does not declare, or a status
code the route does not list, turns the answer into a 500 naming it, so drift between a
handler and its model fails the test that made the request. Production skips the check.
"""

from __future__ import annotations

import json
import logging
import os
from typing import Any

from aiohttp import web

from ..schema import API_BASE
from ..schema.openapi import render_openapi

_LOGGER = logging.getLogger(__name__)
STRICT_ENV = "HOMESEC_STRICT_RESPONSES"

Schema = dict[str, Any]


def strict_responses_enabled() -> bool:
    return os.environ.get(STRICT_ENV, "") == "1"


def undeclared(doc: Schema, schema: Schema, value: Any, path: str = "") -> list[str]:
    """Paths in `value` that `schema` (within `doc`) does not declare."""
    if "$ref" in schema:
        name = schema["$ref"].rsplit("/", 1)[-1]
        return undeclared(doc, doc["components"]["schemas"][name], value, path)
    if "anyOf" in schema:
        if value is None:
            return []
        branches = [s for s in schema["anyOf"] if s.get("type") != "null"]
        results = [undeclared(doc, s, value, path) for s in branches]
        return min(results, key=len) if results else []
    if isinstance(value, list) and "items" in schema:
        out: list[str] = []
        for i, item in enumerate(value):
            out += undeclared(doc, schema["items"], item, f"{path}[{i}]")
        return out
    if isinstance(value, dict) and schema.get("type") == "object":
        properties: Schema = schema.get("properties", {})
        extra = schema.get("additionalProperties")
        if not properties and not isinstance(extra, dict):
            return []  # a free-form object (a config document, backend settings)
        out = []
        for key, item in value.items():
            where = f"{path}.{key}" if path else key
            if key in properties:
                out += undeclared(doc, properties[key], item, where)
            elif isinstance(extra, dict):
                out += undeclared(doc, extra, item, where)
            else:
                out.append(where)
        return out
    return []


def response_middleware(route_specs: dict[Any, Schema]) -> Any:
    """The strict check as an aiohttp middleware (innermost: it sees what handlers return)."""
    doc = render_openapi("check")

    @web.middleware
    async def check(request: web.Request, handler: Any) -> web.StreamResponse:
        response: web.StreamResponse = await handler(request)
        spec = route_specs.get(request.match_info.route)
        if spec is None or not isinstance(response, web.Response):
            return response
        operation = doc["paths"][API_BASE + spec["path"]][spec["method"].lower()]
        declared = operation["responses"].get(str(response.status))
        problem: str | None = None
        if declared is None:
            problem = f"status {response.status} is not declared for {spec['operation_id']}"
        elif response.content_type == "application/json" and response.body:
            body_schema = declared.get("content", {}).get("application/json", {}).get("schema")
            if body_schema is not None:
                keys = undeclared(doc, body_schema, json.loads(bytes(response.body)))  # type: ignore[arg-type]
                if keys:
                    problem = f"{spec['operation_id']} answers undeclared keys: {keys}"
        if problem is None:
            return response
        _LOGGER.error("Response drift: %s", problem)
        return web.json_response({"detail": f"response drift: {problem}",
                                  "error_code": "INTERNAL_ERROR"}, status=500)

    return check
