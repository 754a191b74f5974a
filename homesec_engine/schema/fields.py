"""The field vocabulary of the shared schema package.

A declaration is plain data (dicts of str/int/float/bool/list), so the very same declarations
can be rendered into voluptuous validators, an OpenAPI document and the integration's
generated module. These helpers only make declarations readable; they add no behaviour.

Field keys: type, required, default, nullable, description, selector, min, max, min_len,
min_message (below min), max_len, pattern, pattern_message, choices, env_var, url_schemes, items,
values, model, unique_by, backend_kind (a backend name: plugins registered in the engine extend
`choices`). Types: str, url, int, float, bool, datetime, object, list, map, model, polygon.
"""

from __future__ import annotations

import copy
from typing import Any

from .backends import BUILTIN_BACKENDS

Decl = dict[str, Any]

# A secret is configured as the *name* of the environment variable that holds it.
ENV_VAR_PATTERN = r"^[A-Z_][A-Z0-9_]{0,127}$"
ENV_VAR_MESSAGE = (
    "must be the name of an environment variable (e.g. HOMESEC_API_KEY) that holds the "
    "secret, not the secret itself"
)
SLUG_PATTERN = r"^[a-z0-9_]{1,64}$"
SLUG_MESSAGE = "must be 1-64 characters of lowercase letters, digits and underscores"
# JSON bodies nest at most this deep (config bodies nest a few levels; deeper is hostile).
MAX_BODY_DEPTH = 32


def _decl(type_: str, description: str, required: bool, extra: dict[str, Any]) -> Decl:
    decl: Decl = {"type": type_, "description": description, "required": required}
    decl.update({k: v for k, v in extra.items() if v is not None})
    return decl


def str_field(
    description: str,
    *,
    required: bool = False,
    default: str | None = None,
    nullable: bool = False,
    pattern: str | None = None,
    pattern_message: str | None = None,
    min_len: int | None = None,
    max_len: int | None = None,
    choices: list[str] | None = None,
    selector: str | None = None,
) -> Decl:
    return _decl(
        "str",
        description,
        required,
        {
            "default": default,
            "nullable": nullable or None,
            "pattern": pattern,
            "pattern_message": pattern_message,
            "min_len": min_len,
            "max_len": max_len,
            "choices": choices,
            "selector": selector or ("select" if choices else "text"),
        },
    )


def slug_field(description: str, *, required: bool = True) -> Decl:
    return str_field(
        description, required=required, pattern=SLUG_PATTERN, pattern_message=SLUG_MESSAGE
    )


def backend_field(kind: str, description: str, *, required: bool = False,
                  default: str | None = None, nullable: bool = False) -> Decl:
    """The name of a `kind` backend: the built-ins as choices, plus the engine's plugins."""
    decl = str_field(description, required=required, default=default, nullable=nullable,
                     choices=BUILTIN_BACKENDS[kind])
    decl["backend_kind"] = kind
    return decl


def env_var_field(description: str, *, required: bool = False, default: str | None = None) -> Decl:
    decl = str_field(
        description,
        required=required,
        default=default,
        nullable=not required,
        pattern=ENV_VAR_PATTERN,
        pattern_message=ENV_VAR_MESSAGE,
    )
    decl["env_var"] = True
    return decl


def url_field(
    description: str,
    *,
    schemes: list[str],
    required: bool = False,
    default: str | None = None,
    nullable: bool = False,
    env_field: str | None = None,
) -> Decl:
    """A URL; credentials inside it are refused (they belong in the env var `env_field`)."""
    return _decl(
        "url",
        description,
        required,
        {
            "default": default,
            "nullable": nullable or None,
            "url_schemes": schemes,
            "env_field": env_field,
            "selector": "url",
        },
    )


def int_field(
    description: str,
    *,
    required: bool = False,
    default: int | None = None,
    min: int | None = None,
    max: int | None = None,
    nullable: bool = False,
    min_message: str | None = None,
) -> Decl:
    return _decl(
        "int",
        description,
        required,
        {"default": default, "min": min, "max": max, "nullable": nullable or None,
         "min_message": min_message, "selector": "number"},
    )


def float_field(
    description: str,
    *,
    required: bool = False,
    default: float | None = None,
    min: float | None = None,
    max: float | None = None,
    nullable: bool = False,
    min_message: str | None = None,
) -> Decl:
    return _decl(
        "float",
        description,
        required,
        {"default": default, "min": min, "max": max, "nullable": nullable or None,
         "min_message": min_message, "selector": "number"},
    )


def bool_field(
    description: str, *, required: bool = False, default: bool | None = None,
    nullable: bool = False,
) -> Decl:
    return _decl(
        "bool", description, required,
        {"default": default, "nullable": nullable or None, "selector": "boolean"},
    )


def datetime_field(description: str, *, required: bool = False, nullable: bool = False) -> Decl:
    """ISO 8601 timestamp; naive values are read as UTC."""
    return _decl("datetime", description, required, {"nullable": nullable or None})


def list_field(
    description: str,
    items: Decl,
    *,
    required: bool = False,
    default: list[Any] | None = None,
    unique_by: str | None = None,
    max_len: int | None = None,
) -> Decl:
    return _decl(
        "list",
        description,
        required,
        {"items": items, "default": default, "unique_by": unique_by, "max_len": max_len},
    )


def map_field(description: str, values: Decl, *, required: bool = False,
              default: dict[str, Any] | None = None, key_pattern: str | None = None) -> Decl:
    """A dict from names (e.g. camera names) to values of one declaration."""
    return _decl(
        "map", description, required,
        {"values": values, "default": default, "pattern": key_pattern},
    )


def polygon_field(description: str, *, required: bool = True, max_points: int = 64) -> Decl:
    """A polygon in frame fractions: [[x, y], ...], at least 3 points enclosing an area."""
    return _decl("polygon", description, required, {"max_len": max_points})


def model_field(description: str, model: str, *, required: bool = False,
                nullable: bool = False, default: dict[str, Any] | None = None) -> Decl:
    return _decl(
        "model", description, required,
        {"model": model, "nullable": nullable or None, "default": default},
    )


def object_field(description: str, *, required: bool = False, nullable: bool = False) -> Decl:
    """A free-form JSON object whose shape another rule decides (see model `variant`)."""
    return _decl("object", description, required, {"nullable": nullable or None})


def model(
    description: str,
    fields: dict[str, Decl],
    *,
    one_of_required: list[list[str]] | None = None,
    variant: dict[str, Any] | None = None,
    extra: str = "forbid",
) -> Decl:
    """A model: named fields plus model-level rules.

    one_of_required: each group needs exactly one of its fields set (e.g. url / url_env).
    variant: {"discriminator": "source_backend", "field": "source_config",
              "models": {"rtsp": "RtspSourceConfig", ...}} validates one field by another's value.
    extra: "forbid" reports unknown keys; "allow" keeps them (response models read leniently).
    """
    decl: Decl = {"description": description, "fields": fields, "extra": extra}
    if one_of_required:
        decl["one_of_required"] = one_of_required
    if variant:
        decl["variant"] = variant
    return decl


def derive(
    base: Decl,
    description: str,
    *,
    only: list[str] | None = None,
    drop: list[str] | None = None,
    optional: bool | list[str] = False,
    required: list[str] | None = None,
    add: dict[str, Decl] | None = None,
    rules: bool = True,
    extra: str | None = None,
) -> Decl:
    """A variant of `base` (create / update / view / query form), stated as its differences.

    only / drop: which of the base's fields the variant has (in the base's order);
    optional: True makes every field optional without defaults (an update body: what is not
      sent stays as it is), or a list names the fields that become optional;
    required: fields that become required (a view always has them);
    add: fields only this variant has (e.g. config_version), after the base's;
    rules: keep the base's model-level rules (variant, one_of_required) where their fields
      are all still there;
    extra: override the base's handling of unknown keys.
    A field added to the base reaches every variant that does not drop it.
    """
    names = [n for n in base["fields"] if (only is None or n in only) and n not in (drop or [])]
    unknown = set(only or []) | set(drop or []) | set(required or [])
    unknown -= set(base["fields"])
    if unknown:
        raise ValueError(f"derive(): the base has no field {sorted(unknown)}")
    fields: dict[str, Decl] = {}
    for name in names:
        decl = copy.deepcopy(base["fields"][name])
        if optional is True or (isinstance(optional, list) and name in optional):
            decl["required"] = False
            decl.pop("default", None)
        if required and name in required:
            decl["required"] = True
            decl.pop("default", None)
        fields[name] = decl
    fields.update(copy.deepcopy(add or {}))
    out: Decl = {"description": description, "fields": fields,
                 "extra": extra or base.get("extra", "forbid")}
    if rules:
        if (variant := base.get("variant")) and {variant["discriminator"], variant["field"]} <= set(fields):
            out["variant"] = copy.deepcopy(variant)
        groups = [g for g in base.get("one_of_required", []) if set(g) <= set(fields)]
        if groups:
            out["one_of_required"] = copy.deepcopy(groups)
    return out
