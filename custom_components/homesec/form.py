"""Flow forms rendered from the shared schema's model declarations.

The generated declarations carry a selector hint per field; this module turns them into
Home Assistant selectors and validates the submitted data with the generated validator, so
the flows accept exactly what the engine's schema accepts.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from homeassistant.helpers.selector import (
    BooleanSelector,
    NumberSelector,
    NumberSelectorConfig,
    NumberSelectorMode,
    SelectSelector,
    SelectSelectorConfig,
    SelectSelectorMode,
    Selector,
    TextSelector,
    TextSelectorConfig,
    TextSelectorType,
)

from .compat import vol
from .generated.schema_data import MODELS
from .generated.vol_render import model_validator


def selector_for(decl: Mapping[str, Any]) -> Selector[Any]:
    """The HA selector for one field declaration (by its selector hint, else its type)."""
    hint = decl.get("selector") or {"int": "number", "float": "number", "bool": "boolean"}.get(
        decl["type"], "text"
    )
    if hint == "number":
        config = NumberSelectorConfig(
            step=1 if decl["type"] == "int" else "any", mode=NumberSelectorMode.BOX
        )
        if "min" in decl:
            config["min"] = decl["min"]
        if "max" in decl:
            config["max"] = decl["max"]
        return NumberSelector(config)
    if hint == "boolean":
        return BooleanSelector()
    if hint == "select":
        return SelectSelector(
            SelectSelectorConfig(
                options=list(decl.get("choices", [])), mode=SelectSelectorMode.DROPDOWN
            )
        )
    if hint == "password":
        return TextSelector(TextSelectorConfig(type=TextSelectorType.PASSWORD))
    return TextSelector()


def form_schema(
    model: str,
    fields: Iterable[str] | None = None,
    values: Mapping[str, Any] | None = None,
) -> vol.Schema:
    """A flow form for (some fields of) a model, pre-filled with `values` or defaults."""
    declared: dict[str, Any] = MODELS[model]["fields"]
    values = values or {}
    schema: dict[vol.Marker, Any] = {}
    for key in fields or declared:
        decl = declared[key]
        default = values.get(key, decl.get("default"))
        if decl.get("required"):
            marker: vol.Marker = vol.Required(
                key, description={"suggested_value": values.get(key)}
            )
        elif decl.get("nullable"):  # a suggestion: emptied, the field is unset
            marker = vol.Optional(key, description={"suggested_value": default})
        elif default is not None:
            marker = vol.Optional(key, default=default)
        else:
            marker = vol.Optional(key)
        schema[marker] = selector_for(decl)
    return vol.Schema(schema)


def validate_form(
    model: str, user_input: Mapping[str, Any]
) -> tuple[dict[str, Any], dict[str, str]]:
    """(clean data, errors) — errors map each bad field to `invalid_<field>`."""
    fields = set(MODELS[model]["fields"])
    try:
        clean = model_validator(MODELS, model)(dict(user_input))
    except vol.Invalid as err:
        problems = err.errors if isinstance(err, vol.MultipleInvalid) else [err]
        errors: dict[str, str] = {}
        for problem in problems:
            field = str(problem.path[0]) if problem.path else ""
            if field in fields:
                errors[field] = f"invalid_{field}"
            else:
                errors["base"] = "invalid_input"
        return {}, errors
    return clean, {}
