"""Render the declarations into the OpenAPI 3.1 document served at /api/v1/openapi.json."""

from __future__ import annotations

import re
from typing import Any

from . import MODELS
from .api import API_BASE, ROUTES
from .fields import MAX_BODY_DEPTH
from .vol_render import MIN_POLYGON_AREA, Decl


def json_schema(decl: Decl) -> dict[str, Any]:
    """One field declaration -> JSON Schema."""
    kind = decl["type"]
    out: dict[str, Any]
    if kind in ("str", "url"):
        out = {"type": "string"}
        if "pattern" in decl:
            out["pattern"] = decl["pattern"]
        if "choices" in decl:
            out["enum"] = list(decl["choices"])
        if "min_len" in decl:
            out["minLength"] = decl["min_len"]
        if "max_len" in decl:
            out["maxLength"] = decl["max_len"]
        if kind == "url":
            out["format"] = "uri"
    elif kind in ("int", "float"):
        out = {"type": "integer" if kind == "int" else "number"}
        if "min" in decl:
            out["minimum"] = decl["min"]
        if "max" in decl:
            out["maximum"] = decl["max"]
    elif kind == "bool":
        out = {"type": "boolean"}
    elif kind == "datetime":
        out = {"type": "string", "format": "date-time"}
    elif kind == "object":
        out = {"type": "object"}
    elif kind == "list":
        out = {"type": "array", "items": json_schema(decl["items"])}
        if "max_len" in decl:
            out["maxItems"] = decl["max_len"]
    elif kind == "map":
        out = {"type": "object", "additionalProperties": json_schema(decl["values"])}
        if "pattern" in decl:
            out["propertyNames"] = {"pattern": decl["pattern"]}
    elif kind == "polygon":
        point = {"type": "array", "items": {"type": "number", "minimum": 0, "maximum": 1},
                 "minItems": 2, "maxItems": 2}
        out = {"type": "array", "items": point, "minItems": 3,
               "maxItems": decl.get("max_len", 64)}
        decl = {**decl, "description": f"{decl.get('description', '')}. {POLYGON_RULE}"}
    elif kind == "model":
        out = {"$ref": f"#/components/schemas/{decl['model']}"}
    else:  # pragma: no cover
        raise ValueError(kind)
    if decl.get("nullable"):
        out = {"anyOf": [out, {"type": "null"}]}
    if decl.get("description"):
        out = {**out, "description": decl["description"]}
    return out


def model_schema(decl: Decl) -> dict[str, Any]:
    fields = decl["fields"]
    schema: dict[str, Any] = {
        "type": "object",
        "description": decl["description"],
        "properties": {name: json_schema(f) for name, f in fields.items()},
        "additionalProperties": decl.get("extra") == "allow",
    }
    required = [name for name, f in fields.items() if f.get("required")]
    if required:
        schema["required"] = required
    return schema


# What the validator refuses in a polygon beyond its JSON schema (400 naming the field).
POLYGON_RULE = (f"The points must enclose at least {MIN_POLYGON_AREA:g} of the frame: points "
                "on a line or coinciding are refused (400)")


def _error_response(code: str, description: str | None = None) -> dict[str, Any]:
    return {
        "description": description or f"Error {code}",
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
    }


def _has_polygon(model_name: str, seen: frozenset[str] = frozenset()) -> bool:
    """Whether a model (through nested models and lists) holds a polygon field."""
    stack = list(MODELS[model_name]["fields"].values())
    while stack:
        decl = stack.pop()
        if decl["type"] == "polygon":
            return True
        if decl["type"] == "list":
            stack.append(decl["items"])
        elif decl["type"] == "map":
            stack.append(decl["values"])
        elif decl["type"] == "model" and decl["model"] not in seen:
            if _has_polygon(decl["model"], seen | {model_name}):
                return True
    return False


def _bad_request(route: Decl) -> str:
    """What a 400 of this operation means: everything the API refuses before the handler."""
    causes = []
    if "{" in route["path"]:
        causes.append("a path parameter outside ^[A-Za-z0-9_-]{1,128}$")
    if "query" in route:
        causes.append("a query parameter invalid for its schema (numbers in ASCII digits "
                      "only), given more than once, or holding a NUL character or invalid "
                      "Unicode")
    if "body" in route:
        body = ("a body that is not a JSON object sent as application/json, a field invalid "
                "for its schema, a string holding a NUL character or invalid Unicode, JSON "
                f"nested deeper than {MAX_BODY_DEPTH} levels")
        if _has_polygon(route["body"]):
            body += ", a zone or mask polygon whose points enclose no area (on a line or " \
                    "coinciding)"
        causes.append(body)
    return ("Validation failed (error_code VALIDATION_ERROR, each problem named in "
            "errors[].path): " + "; ".join(causes))


def _parameters(route: Decl) -> list[dict[str, Any]]:
    params = [
        {"name": name, "in": "path", "required": True,
         "schema": {"type": "string", "pattern": r"^[A-Za-z0-9_\-]{1,128}$"}}
        for name in re.findall(r"{(\w+)}", route["path"])
    ]
    if "query" in route:
        for name, field in MODELS[route["query"]]["fields"].items():
            params.append({"name": name, "in": "query", "required": False,
                           "schema": json_schema(field)})
    if route["operation_id"] == "get_clip_media":
        params.append({"name": "Range", "in": "header", "required": False,
                       "schema": {"type": "string"}})
    return params


def _operation(route: Decl) -> dict[str, Any]:
    op: dict[str, Any] = {"operationId": route["operation_id"], "summary": route["summary"],
                          "responses": {}}
    params = _parameters(route)
    if params:
        op["parameters"] = params
    if "body" in route:
        op["requestBody"] = {
            "required": not route.get("body_optional", False),
            "content": {"application/json": {
                "schema": {"$ref": f"#/components/schemas/{route['body']}"}}},
        }
    for status, model_name in route["responses"].items():
        response: dict[str, Any] = {"description": "OK" if status.startswith("2") else status}
        if model_name:
            response["content"] = {"application/json": {
                "schema": {"$ref": f"#/components/schemas/{model_name}"}}}
        elif route.get("media"):
            response["content"] = {route["media"]: {"schema": {"type": "string",
                                                                "format": "binary"}}}
        op["responses"][status] = response
    codes = set(route.get("errors", []))
    if not route.get("public"):
        codes.add("401")
        if route.get("state", True):
            codes.add("503")  # the database is unavailable
    if "body" in route or "query" in route or "{" in route["path"]:
        codes.add("400")  # a malformed body, query or path parameter
    if "body" in route:
        codes |= {"408", "413"}  # a body that trickles in too slowly, or is too large
    for code in sorted(codes):
        op["responses"].setdefault(
            code, _error_response(code, _bad_request(route) if code == "400" else None))
    if not route.get("public"):
        op["security"] = [{"bearer": []}, {}]
    return op


def render_openapi(version: str) -> dict[str, Any]:
    paths: dict[str, dict[str, Any]] = {}
    for route in ROUTES:
        paths.setdefault(API_BASE + route["path"], {})[route["method"].lower()] = _operation(route)
    return {
        "openapi": "3.1.0",
        "info": {"title": "HomeSec engine API", "version": version,
                 "description": "REST API of the HomeSec engine; generated from the shared "
                                "schema package."},
        "paths": paths,
        "components": {
            "schemas": {name: model_schema(decl) for name, decl in sorted(MODELS.items())},
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
        },
    }
