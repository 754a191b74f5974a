"""The plugin registry: kind + name -> factory, for every replaceable part of the engine.

Kinds: source, storage, filter, analyzer, alert_policy, notifier. The registry owns the
backend names: the built-ins are declared once in the schema (schema/backends.py) and their
modules are imported only when one is built; a third party adds a backend with one
registration, optionally with the settings model that validates its part of the config::

    from homesec_engine import plugins
    from homesec_engine.schema.fields import model, str_field

    @plugins.register("source", "ftp", settings=model("Clips from an FTP drop.", {
        "host": str_field("FTP server", required=True)}))
    class FtpSource(ClipSource):
        ...

and then names it in the config (`source_backend: ftp`, its settings in `source_config`).
Config validation consults the registry (it is the schema's backend catalog), so the name
is accepted once registered; an unknown name is refused naming the field and listing the
registered names. The typed lookups (`source(name)`, `storage(name)`, ...) return factories
whose protocols say what they build, so the runtime is typed end to end.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, TypeVar, cast

from .schema.backends import BUILTIN_BACKENDS
from .schema.fields import Decl
from .schema.validate import use_backend_catalog

if TYPE_CHECKING:
    from .analyzers.base import Analyzer
    from .filters.base import ObjectFilter
    from .notifiers.base import Notifier
    from .policy import AlertPolicyEngine
    from .sources.base import ClipSource
    from .storage.base import Storage

KINDS = tuple(BUILTIN_BACKENDS)
SETTINGS_KINDS = ("source",)  # kinds whose plugins may bring a settings model

# Where each kind's built-in factories live: (module, attribute), the attribute being a dict
# name -> class (the backend packages keep such dicts) or, for one class, the class itself.
_BUILTIN_MODULES: dict[str, tuple[str, str]] = {
    "source": ("homesec_engine.sources", "SOURCE_BACKENDS"),
    "storage": ("homesec_engine.storage", "STORAGE_BACKENDS"),
    "filter": ("homesec_engine.filters", "FILTER_BACKENDS"),
    "analyzer": ("homesec_engine.analyzers", "ANALYZER_BACKENDS"),
    "alert_policy": ("homesec_engine.policy", "AlertPolicyEngine"),
    "notifier": ("homesec_engine.notifiers", "NOTIFIER_BACKENDS"),
}


# -- what each kind's factory builds ----------------------------------------------------------

class SourceFactory(Protocol):
    def __call__(self, camera: str, config: Mapping[str, Any], work_dir: Path, /
                 ) -> ClipSource: ...


class StorageFactory(Protocol):
    def __call__(self, config: Mapping[str, Any], /) -> Storage: ...


class FilterFactory(Protocol):
    def __call__(self, config: dict[str, Any], /) -> ObjectFilter: ...


class AnalyzerFactory(Protocol):
    def __call__(self, config: dict[str, Any], /) -> Analyzer: ...


class AlertPolicyFactory(Protocol):
    def __call__(self, policy: dict[str, Any], /) -> AlertPolicyEngine: ...


class NotifierFactory(Protocol):
    def __call__(self, config: dict[str, Any], /, *, name: str | None = ...,
                 backoff_s: float = ..., max_backoff_s: float = ...) -> Notifier: ...


F = TypeVar("F", bound=Callable[..., Any])


class UnknownPlugin(LookupError):
    def __init__(self, kind: str, name: str, known: list[str]) -> None:
        self.kind, self.name, self.known = kind, name, known
        names = ", ".join(known) if known else "none"
        super().__init__(f"unknown {kind} backend {name!r}; known {kind} backends: {names}")


class _Registry:
    """Registered factories and settings; also the schema's backend catalog."""

    def __init__(self) -> None:
        self.factories: dict[str, dict[str, Callable[..., Any]]] = {k: {} for k in KINDS}
        self.settings: dict[str, dict[str, Decl | None]] = {k: {} for k in KINDS}
        self._generation = 0

    @property
    def generation(self) -> int:
        return self._generation

    def registered(self, kind: str) -> Mapping[str, Decl | None]:
        return self.settings[kind]

    def add(self, kind: str, name: str, factory: Callable[..., Any],
            settings: Decl | None) -> None:
        self.factories[kind][name] = factory
        self.settings[kind][name] = settings
        self._generation += 1

    def remove(self, kind: str, name: str) -> None:
        self.factories[kind].pop(name, None)
        self.settings[kind].pop(name, None)
        self._generation += 1


_registry = _Registry()
use_backend_catalog(_registry)


def _check_kind(kind: str) -> None:
    if kind not in _registry.factories:
        raise ValueError(f"unknown plugin kind {kind!r}; kinds: {', '.join(KINDS)}")


def register(kind: str, name: str, factory: Callable[..., Any] | None = None, *,
             settings: Decl | None = None) -> Any:
    """Register `factory` (usually a class) as `name` of `kind`; a decorator without it.

    settings: a model declaration (schema.fields.model) for the backend's own settings;
    for a source it validates the camera's source_config. A registration under a built-in
    name replaces the built-in (a plugin may override one on purpose).
    """
    _check_kind(kind)
    if settings is not None and kind not in SETTINGS_KINDS:
        # Only a source has a config section of its own (source_config) to validate yet.
        raise ValueError(f"a {kind} plugin cannot declare settings; only: "
                         f"{', '.join(SETTINGS_KINDS)}")
    if factory is not None:
        _registry.add(kind, name, factory, settings)
        return factory

    def decorate(obj: F) -> F:
        _registry.add(kind, name, obj, settings)
        return obj

    return decorate


def unregister(kind: str, name: str) -> None:
    _check_kind(kind)
    _registry.remove(kind, name)


def names(kind: str) -> list[str]:
    """Every backend name of `kind`: the built-ins and the registered plugins."""
    _check_kind(kind)
    return sorted({*BUILTIN_BACKENDS[kind], *_registry.factories[kind]})


def _builtin(kind: str, name: str) -> Callable[..., Any]:
    module_name, attribute = _BUILTIN_MODULES[kind]
    table = getattr(importlib.import_module(module_name), attribute)
    return cast(Callable[..., Any], table[name] if isinstance(table, dict) else table)


def get(kind: str, name: str) -> Callable[..., Any]:
    _check_kind(kind)
    if name in _registry.factories[kind]:
        return _registry.factories[kind][name]
    if name in BUILTIN_BACKENDS[kind]:
        return _builtin(kind, name)
    raise UnknownPlugin(kind, name, names(kind))


def create(kind: str, name: str, /, *args: Any, **kwargs: Any) -> Any:
    """Build the `name` backend of `kind` with the given arguments (untyped; prefer the
    typed lookups below)."""
    return get(kind, name)(*args, **kwargs)


# -- typed lookups ----------------------------------------------------------------------------

def source(name: str) -> SourceFactory:
    return cast(SourceFactory, get("source", name))


def storage(name: str) -> StorageFactory:
    return cast(StorageFactory, get("storage", name))


def object_filter(name: str) -> FilterFactory:
    return cast(FilterFactory, get("filter", name))


def analyzer(name: str) -> AnalyzerFactory:
    return cast(AnalyzerFactory, get("analyzer", name))


def alert_policy(name: str) -> AlertPolicyFactory:
    return cast(AlertPolicyFactory, get("alert_policy", name))


def notifier(name: str) -> NotifierFactory:
    return cast(NotifierFactory, get("notifier", name))
