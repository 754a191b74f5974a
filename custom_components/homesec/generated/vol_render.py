# GENERATED: copy of homesec_engine/schema/vol_render.py (its voluptuous import comes
# from ..compat). Do not edit.
"""Render schema declarations into voluptuous validators.

SELF-CONTAINED ON PURPOSE: this module imports only the standard library and voluptuous.
The generator copies it verbatim into the Home Assistant integration, so the engine and the
integration validate with the same code over the same declarations (parity by construction).
"""

from __future__ import annotations

import copy
import re
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any
from urllib.parse import unquote, urlsplit

from ..compat import vol

Decl = dict[str, Any]
Models = Mapping[str, Decl]

_TRUE = {"true", "1", "yes", "on"}
_FALSE = {"false", "0", "no", "off"}


def _str(decl: Decl) -> Callable[[Any], Any]:
    pattern = re.compile(decl["pattern"]) if "pattern" in decl else None
    choices = decl.get("choices")

    def check(value: Any) -> str:
        if not isinstance(value, str):
            raise vol.Invalid("expected a string")
        if "min_len" in decl and len(value) < decl["min_len"]:
            raise vol.Invalid(f"must be at least {decl['min_len']} characters")
        if "max_len" in decl and len(value) > decl["max_len"]:
            raise vol.Invalid(f"must be at most {decl['max_len']} characters")
        if pattern is not None and not pattern.fullmatch(value):
            raise vol.Invalid(decl.get("pattern_message", f"must match {decl['pattern']}"))
        if choices is not None and value not in choices:
            raise vol.Invalid(f"must be one of: {', '.join(choices)}")
        return value

    return check


# Secrets in a URL's path, query or fragment, as vendor URLs carry them
# (/user=admin&password=..., ?token=..., #pwd=...): a parameter whose name (lower case, without
# "-" and "_") is one of these, or ends with one of the longer ones (loginPassword, api_key).
_SECRET_NAMES = frozenset({"p", "pw", "pwd", "pass", "passwd", "password", "passphrase",
                           "token", "key", "secret", "auth", "sig", "signature", "credential",
                           "credentials"})
_SECRET_ENDINGS = ("password", "passwd", "pwd", "token", "secret", "key", "auth",
                   "credential", "credentials", "passphrase")
_PARAM = re.compile(r"(?:^|[/?&;#])([^/?&;#=]+)=")


def _secret_part(parts: Any) -> str | None:
    """The part of a split URL that carries credentials, in words (never the secret)."""
    if "@" in parts.netloc:
        return "user info before '@'"
    text = unquote(f"{parts.path}?{parts.query}#{parts.fragment}")
    for match in _PARAM.finditer(text):
        name = match.group(1).lower().replace("-", "").replace("_", "")
        if name in _SECRET_NAMES or name.endswith(_SECRET_ENDINGS):
            return f"a '{match.group(1)}=' parameter"
    return None


def _url(decl: Decl) -> Callable[[Any], Any]:
    schemes = decl.get("url_schemes", [])
    where = decl.get("env_field") or "the matching *_env field"
    refusal = ("must not contain credentials; put the full URL in an environment variable "
               f"and name it in {where}")

    def check(value: Any) -> str:
        if not isinstance(value, str):
            raise vol.Invalid("expected a URL string")
        try:
            parts = urlsplit(value)
            port = parts.port  # raises on a malformed port
        except ValueError as err:
            raise vol.Invalid(f"is not a valid URL ({err})") from err
        del port
        if parts.scheme not in schemes or not parts.hostname:
            raise vol.Invalid(f"must be a URL starting with {' or '.join(s + '://' for s in schemes)}")
        secret = _secret_part(parts)
        if secret is not None:
            raise vol.Invalid(f"{refusal} (it holds {secret})")
        return value

    return check


_NUMBER_TEXT = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?",
                          re.ASCII)


def _number(decl: Decl, kind: type, coerce: bool) -> Callable[[Any], Any]:
    lo, hi = decl.get("min"), decl.get("max")
    label = "an integer" if kind is int else "a number"

    def check(raw: Any) -> int | float:
        if coerce and isinstance(raw, str):
            # ASCII only: int()/float() would also take Unicode digits and blanks around.
            if not _NUMBER_TEXT.fullmatch(raw):
                raise vol.Invalid(f"expected {label}")
            try:
                raw = kind(raw)
            except ValueError as err:
                raise vol.Invalid(f"expected {label}") from err
        if isinstance(raw, bool) or not isinstance(raw, (int, float)):
            raise vol.Invalid(f"expected {label}")
        value: int | float = raw
        if kind is int and not isinstance(value, int):
            if not float(value).is_integer():
                raise vol.Invalid("expected an integer")
            value = int(value)
        if kind is float:
            value = float(value)
            if value != value or value in (float("inf"), float("-inf")):
                raise vol.Invalid("expected a finite number")
        if lo is not None and value < lo:
            raise vol.Invalid(decl.get("min_message") or f"must be at least {lo}")
        if hi is not None and value > hi:
            raise vol.Invalid(f"must be at most {hi}")
        return value

    return check


def _bool(coerce: bool) -> Callable[[Any], Any]:
    def check(value: Any) -> bool:
        if isinstance(value, bool):
            return value
        if coerce and isinstance(value, str) and value.lower() in _TRUE | _FALSE:
            return value.lower() in _TRUE
        raise vol.Invalid("expected true or false")

    return check


def _datetime(value: Any) -> datetime:
    if isinstance(value, datetime):
        parsed = value
    elif isinstance(value, str):
        try:
            parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError as err:
            raise vol.Invalid("expected an ISO 8601 date and time") from err
    else:
        raise vol.Invalid("expected an ISO 8601 date and time")
    try:
        return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)
    except OverflowError as err:  # an offset that pushes the time past year 1 or 9999
        raise vol.Invalid("is outside the supported date range") from err


def _object(value: Any) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise vol.Invalid("expected an object")
    return value


# A polygon must enclose at least this share of the frame: three points on a line (or a
# sliver no detection's foot point could ever land in) is a mistake, not a zone.
MIN_POLYGON_AREA = 1e-4


def _polygon(decl: Decl) -> Callable[[Any], Any]:
    max_points = decl.get("max_len", 64)

    def point(value: Any, index: int) -> list[float]:
        if not isinstance(value, (list, tuple)) or len(value) != 2:
            raise vol.Invalid("expected a point [x, y]", [index])
        out: list[float] = []
        for axis, raw in enumerate(value):
            if isinstance(raw, bool) or not isinstance(raw, (int, float)) or raw != raw:
                raise vol.Invalid("expected a number", [index, axis])
            if not 0.0 <= raw <= 1.0:
                raise vol.Invalid("must be a fraction of the frame between 0 and 1",
                                  [index, axis])
            out.append(float(raw))
        return out

    def check(value: Any) -> list[list[float]]:
        if not isinstance(value, list):
            raise vol.Invalid("expected a list of points [[x, y], ...]")
        if len(value) < 3:
            raise vol.Invalid("needs at least 3 points")
        if len(value) > max_points:
            raise vol.Invalid(f"must have at most {max_points} points")
        points = [point(p, i) for i, p in enumerate(value)]
        area = 0.0
        for (x0, y0), (x1, y1) in zip(points, points[1:] + points[:1]):
            area += x0 * y1 - x1 * y0
        if abs(area) / 2 < MIN_POLYGON_AREA:
            raise vol.Invalid("the points enclose no area (they lie on a line or coincide)")
        return points

    return check


def _list(decl: Decl, item: Callable[[Any], Any]) -> Callable[[Any], Any]:
    unique_by = decl.get("unique_by")

    def check(value: Any) -> list[Any]:
        if not isinstance(value, list):
            raise vol.Invalid("expected a list")
        if "max_len" in decl and len(value) > decl["max_len"]:
            raise vol.Invalid(f"must have at most {decl['max_len']} items")
        out: list[Any] = []
        errors: list[vol.Invalid] = []
        for index, entry in enumerate(value):
            try:
                out.append(item(entry))
            except vol.MultipleInvalid as err:
                errors.extend(vol.Invalid(e.msg, [index, *e.path]) for e in err.errors)
            except vol.Invalid as err:
                errors.append(vol.Invalid(err.msg, [index, *err.path]))
        if errors:
            raise vol.MultipleInvalid(errors)
        if unique_by:
            seen: set[Any] = set()
            for index, entry in enumerate(out):
                key = entry.get(unique_by) if isinstance(entry, dict) else None
                if key in seen:
                    raise vol.Invalid(f"duplicate {unique_by} {key!r}", [index, unique_by])
                seen.add(key)
        return out

    return check


def _map(decl: Decl, value_check: Callable[[Any], Any]) -> Callable[[Any], Any]:
    pattern = re.compile(decl["pattern"]) if "pattern" in decl else None

    def check(value: Any) -> dict[str, Any]:
        if not isinstance(value, dict):
            raise vol.Invalid("expected an object")
        out: dict[str, Any] = {}
        errors: list[vol.Invalid] = []
        for key, entry in value.items():
            if not isinstance(key, str) or (pattern is not None and not pattern.fullmatch(key)):
                errors.append(vol.Invalid("is not a valid name", [key]))
                continue
            try:
                out[key] = value_check(entry)
            except vol.MultipleInvalid as err:
                errors.extend(vol.Invalid(e.msg, [key, *e.path]) for e in err.errors)
            except vol.Invalid as err:
                errors.append(vol.Invalid(err.msg, [key, *err.path]))
        if errors:
            raise vol.MultipleInvalid(errors)
        return out

    return check


def _nullable(check: Callable[[Any], Any]) -> Callable[[Any], Any]:
    def allow_none(value: Any) -> Any:
        return None if value is None else check(value)

    return allow_none


def field_validator(decl: Decl, models: Models, coerce: bool = False) -> Callable[[Any], Any]:
    """One field declaration -> a validator callable."""
    kind = decl["type"]
    check: Callable[[Any], Any]
    if kind == "str":
        check = _str(decl)
    elif kind == "url":
        check = _url(decl)
    elif kind == "int":
        check = _number(decl, int, coerce)
    elif kind == "float":
        check = _number(decl, float, coerce)
    elif kind == "bool":
        check = _bool(coerce)
    elif kind == "datetime":
        check = _datetime
    elif kind == "object":
        check = _object
    elif kind == "list":
        check = _list(decl, field_validator(decl["items"], models, coerce))
    elif kind == "map":
        check = _map(decl, field_validator(decl["values"], models, coerce))
    elif kind == "model":
        check = model_validator(models, decl["model"], coerce=coerce)
    elif kind == "polygon":
        check = _polygon(decl)
    else:  # pragma: no cover - declarations are checked by the schema tests
        raise ValueError(f"unknown field type {kind!r}")
    return _nullable(check) if decl.get("nullable") else check


def _default(value: Any) -> Callable[[], Any]:
    return lambda: copy.deepcopy(value)


def model_validator(
    models: Models, name: str, *, coerce: bool = False, partial: bool = False
) -> Callable[[Any], dict[str, Any]]:
    """A model declaration -> a validator returning a new dict with defaults filled in.

    partial: every field optional and no defaults (for update bodies).
    """
    decl = models[name]
    schema: dict[Any, Any] = {}
    for key, fdecl in decl["fields"].items():
        validator = field_validator(fdecl, models, coerce)
        if partial:
            schema[vol.Optional(key)] = validator
        elif fdecl.get("required"):
            schema[vol.Required(key, msg="is required")] = validator
        elif "default" in fdecl:
            schema[vol.Optional(key, default=_default(fdecl["default"]))] = validator
        else:
            schema[vol.Optional(key)] = validator
    extra = vol.ALLOW_EXTRA if decl.get("extra") == "allow" else vol.PREVENT_EXTRA
    base = vol.Schema(schema, extra=extra)
    variant = decl.get("variant")
    groups = decl.get("one_of_required", [])
    variant_checks = {
        backend: model_validator(models, sub, coerce=coerce)
        for backend, sub in (variant or {}).get("models", {}).items()
    }

    def check(value: Any) -> dict[str, Any]:
        if not isinstance(value, dict):
            raise vol.Invalid("expected an object")
        try:
            out: dict[str, Any] = base(value)
        except vol.MultipleInvalid as err:
            raise vol.MultipleInvalid([_reword(e) for e in err.errors]) from err
        if not partial:
            for group in groups:
                present = [k for k in group if out.get(k) is not None]
                if len(present) != 1:
                    raise vol.Invalid(f"set exactly one of: {', '.join(group)}", [group[0]])
        if variant and variant["field"] in out and variant["discriminator"] in out:
            sub_check = variant_checks.get(out[variant["discriminator"]])
            if sub_check is not None:
                try:
                    out[variant["field"]] = sub_check(out[variant["field"]])
                except vol.MultipleInvalid as err:
                    raise vol.MultipleInvalid(
                        [vol.Invalid(e.msg, [variant["field"], *e.path]) for e in err.errors]
                    ) from err
                except vol.Invalid as err:
                    raise vol.Invalid(err.msg, [variant["field"], *err.path]) from err
        return out

    return check


def _reword(err: vol.Invalid) -> vol.Invalid:
    """Voluptuous's stock messages, said the way our users read them."""
    # voluptuous says "extra keys not allowed"; probatio (what voluptuous resolves to inside
    # newer Home Assistant) raises ExtraKeysInvalid with close matches as `candidates`.
    extra = err.msg == "extra keys not allowed" or (
        getattr(err, "default_code", None) == "extra_keys_not_allowed"
    )
    if not extra:
        return err
    candidates = [str(c) for c in getattr(err, "candidates", None) or ()]
    hint = f", did you mean {' or '.join(repr(c) for c in candidates)}?" if candidates else ""
    return vol.Invalid(f"is not a known field{hint}", err.path)


def format_path(path: list[Any]) -> str:
    """['cameras', 0, 'source_config', 'url'] -> 'cameras[0].source_config.url'."""
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out


def error_items(err: vol.Invalid) -> list[dict[str, str]]:
    """A voluptuous error -> [{path, message}], one item per problem."""
    errors = err.errors if isinstance(err, vol.MultipleInvalid) else [err]
    return [{"path": format_path(list(e.path)), "message": str(e.msg)} for e in errors]
