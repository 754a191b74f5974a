"""Engine-side entry point for validation against the declarations.

Backend fields (`backend_kind`) accept the built-in names the schema declares plus the ones
a backend catalog reports: the engine's plugin registry installs itself as that catalog, so
the schema never imports the engine and a registered plugin is accepted with its settings.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from functools import cache
from typing import Any, Protocol

import voluptuous as vol

from . import vol_render
from .fields import Decl


class BackendCatalog(Protocol):
    """What validation needs from a plugin registry."""

    @property
    def generation(self) -> int:
        """Changes whenever a backend is registered or removed (validators are rebuilt)."""

    def registered(self, kind: str) -> Mapping[str, Decl | None]:
        """Backends of `kind` beyond the built-ins: name -> its settings model, if any."""


_catalog: BackendCatalog | None = None


def use_backend_catalog(catalog: BackendCatalog | None) -> None:
    """Validate backend names (and plugin settings) against `catalog` from now on."""
    global _catalog
    _catalog = catalog


def _generation() -> int:
    return _catalog.generation if _catalog is not None else 0


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


def _extend_choices(decl: Decl, catalog: BackendCatalog) -> Decl:
    if "backend_kind" in decl:
        extra = [n for n in catalog.registered(decl["backend_kind"]) if n not in decl["choices"]]
        return {**decl, "choices": [*decl["choices"], *extra]}
    if decl.get("type") == "list":
        return {**decl, "items": _extend_choices(decl["items"], catalog)}
    return decl


@cache
def _models(generation: int) -> Mapping[str, Decl]:
    """The declarations with the catalog's backends added (generation: the cache key)."""
    from . import MODELS  # the package's merged model table

    if _catalog is None:
        return MODELS
    catalog = _catalog
    models: dict[str, Decl] = {}
    for name, decl in MODELS.items():
        fields = {key: _extend_choices(f, catalog) for key, f in decl["fields"].items()}
        models[name] = {**decl, "fields": fields}
        variant: Decl | None = decl.get("variant")
        if variant is None:
            continue
        kind = decl["fields"].get(variant["discriminator"], {}).get("backend_kind")
        if kind:
            # A plugin's settings model validates the variant field (e.g. source_config).
            sub_models = dict(variant["models"])
            for backend, settings in catalog.registered(kind).items():
                if settings is not None:
                    sub_models[backend] = f"plugin:{kind}:{backend}"
                    models[sub_models[backend]] = copy.deepcopy(settings)
                else:
                    sub_models.pop(backend, None)  # a plugin replacing a built-in, unchecked
            models[name]["variant"] = {**variant, "models": sub_models}
    return models


@cache
def _validator(name: str, coerce: bool, partial: bool, generation: int) -> Any:
    return vol_render.model_validator(_models(generation), name, coerce=coerce,
                                      partial=partial)


def validate(name: str, data: Any, *, coerce: bool = False, partial: bool = False,
             prefix: str = "") -> dict[str, Any]:
    """Validate `data` against model `name`; defaults are filled in (unless partial)."""
    try:
        result: dict[str, Any] = _validator(name, coerce, partial, _generation())(data)
    except vol.Invalid as err:
        raise SchemaValidationError(vol_render.error_items(err), prefix) from err
    return result


def model_defaults(name: str) -> dict[str, Any]:
    """The declared defaults of model `name`, for code that must not restate them."""
    from . import MODELS

    return {key: decl["default"] for key, decl in MODELS[name]["fields"].items()
            if "default" in decl}
