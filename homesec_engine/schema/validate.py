"""Engine-side entry point for validation against the declarations."""

from __future__ import annotations

from functools import cache
from typing import Any

import voluptuous as vol

from . import vol_render


class SchemaValidationError(ValueError):
    """Invalid input; `errors` is a list of {path, message} naming each bad field."""

    def __init__(self, errors: list[dict[str, str]], prefix: str = "") -> None:
        if prefix:
            errors = [
                {"path": f"{prefix}{'' if e['path'].startswith('[') or not e['path'] else '.'}"
                         f"{e['path']}", "message": e["message"]}
                for e in errors
            ]
        self.errors = errors
        super().__init__("; ".join(f"{e['path'] or '(root)'}: {e['message']}" for e in errors))


@cache
def _validator(name: str, coerce: bool, partial: bool) -> Any:
    from . import MODELS  # the package's merged model table

    return vol_render.model_validator(MODELS, name, coerce=coerce, partial=partial)


def validate(name: str, data: Any, *, coerce: bool = False, partial: bool = False,
             prefix: str = "") -> dict[str, Any]:
    """Validate `data` against model `name`; defaults are filled in (unless partial)."""
    try:
        result: dict[str, Any] = _validator(name, coerce, partial)(data)
    except vol.Invalid as err:
        raise SchemaValidationError(vol_render.error_items(err), prefix) from err
    return result


def model_defaults(name: str) -> dict[str, Any]:
    """The declared defaults of model `name`, for code that must not restate them."""
    from . import MODELS

    return {key: decl["default"] for key, decl in MODELS[name]["fields"].items()
            if "default" in decl}
