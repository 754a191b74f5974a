"""The plugin registry: kind + name -> factory, for every replaceable part of the engine.

Kinds: source, storage, filter, analyzer, alert_policy, notifier. The built-in backends are
registered the first time a kind is used; a third party adds one with one registration::

    from homesec_engine.plugins import register

    @register("notifier", "ntfy")
    class NtfyNotifier(Notifier):
        ...

and then names it in the config (e.g. a notifier with `backend: ntfy`, when the schema allows
it). `create(kind, name, **kwargs)` calls the factory; an unknown name is an error that lists
the names that are known.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Any, TypeVar

KINDS = ("source", "storage", "filter", "analyzer", "alert_policy", "notifier")

# Where each kind's built-in backends live: module -> {name: attribute}, or a dict attribute
# that maps names to classes (the sources and storage packages keep such dicts).
_BUILTINS: dict[str, list[tuple[str, str | dict[str, str]]]] = {
    "source": [("homesec_engine.sources", "SOURCE_BACKENDS")],
    "storage": [("homesec_engine.storage", "STORAGE_BACKENDS")],
    "filter": [("homesec_engine.filters", "FILTER_BACKENDS")],
    "analyzer": [("homesec_engine.analyzers", "ANALYZER_BACKENDS")],
    "alert_policy": [("homesec_engine.policy", {"default": "AlertPolicyEngine"})],
    "notifier": [("homesec_engine.notifiers", "NOTIFIER_BACKENDS")],
}

F = TypeVar("F", bound=Callable[..., Any])


class UnknownPlugin(LookupError):
    def __init__(self, kind: str, name: str, known: list[str]) -> None:
        self.kind, self.name, self.known = kind, name, known
        names = ", ".join(known) if known else "none"
        super().__init__(f"unknown {kind} backend {name!r}; known {kind} backends: {names}")


_registry: dict[str, dict[str, Callable[..., Any]]] = {kind: {} for kind in KINDS}
_loaded: set[str] = set()


def _check_kind(kind: str) -> None:
    if kind not in _registry:
        raise ValueError(f"unknown plugin kind {kind!r}; kinds: {', '.join(KINDS)}")


def register(kind: str, name: str, factory: Callable[..., Any] | None = None) -> Any:
    """Register `factory` (usually a class) as `name` of `kind`; a decorator without it.

    A later registration of the same name replaces the earlier one (a plugin may override
    a built-in backend on purpose).
    """
    _check_kind(kind)
    if factory is not None:
        _registry[kind][name] = factory
        return factory

    def decorate(obj: F) -> F:
        _registry[kind][name] = obj
        return obj

    return decorate


def unregister(kind: str, name: str) -> None:
    _check_kind(kind)
    _registry[kind].pop(name, None)


def _load_builtins(kind: str) -> None:
    if kind in _loaded:
        return
    for module_name, spec in _BUILTINS[kind]:
        module = importlib.import_module(module_name)
        table = getattr(module, spec) if isinstance(spec, str) else {
            name: getattr(module, attr) for name, attr in spec.items()
        }
        for name, factory in table.items():
            _registry[kind].setdefault(name, factory)  # plugins registered first win
    _loaded.add(kind)  # only once every module imported: a failed import is retried


def names(kind: str) -> list[str]:
    _check_kind(kind)
    _load_builtins(kind)
    return sorted(_registry[kind])


def get(kind: str, name: str) -> Callable[..., Any]:
    _check_kind(kind)
    _load_builtins(kind)
    try:
        return _registry[kind][name]
    except KeyError:
        raise UnknownPlugin(kind, name, sorted(_registry[kind])) from None


def create(kind: str, name: str, /, *args: Any, **kwargs: Any) -> Any:
    """Build the `name` backend of `kind` with the given arguments."""
    return get(kind, name)(*args, **kwargs)
