"""Which config file (and line) set a field, after several files have merged.

A schema error names a path in the merged config (`cameras[0].source_config.interval_s`).
The merge renumbers lists (cameras are keyed by name, plain lists are unions), so the path
is followed through each layer by meaning: a named item by its name, a plain list item by
its value. The rightmost layer that sets the field wins, as in the merge itself.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

import yaml

KeyPath = tuple[str | int, ...]
_TOKEN = re.compile(r"\[(\d+)\]|\.?([^.\[\]]+)")


@dataclass(slots=True)
class Layer:
    """One merged source: its name for messages, its data and the line of each path in it."""

    source: str
    data: dict[str, Any]
    lines: dict[KeyPath, int] = field(default_factory=dict)


def yaml_lines(text: str) -> dict[KeyPath, int]:
    """{path: 1-based line} for every mapping key and list item of a YAML document."""
    lines: dict[KeyPath, int] = {}

    def walk(node: yaml.Node, path: KeyPath) -> None:
        if isinstance(node, yaml.MappingNode):
            for key, value in node.value:
                if isinstance(key, yaml.ScalarNode):
                    lines.setdefault((*path, key.value), key.start_mark.line + 1)
                    walk(value, (*path, key.value))
        elif isinstance(node, yaml.SequenceNode):
            for index, item in enumerate(node.value):
                lines.setdefault((*path, index), item.start_mark.line + 1)
                walk(item, (*path, index))

    root = yaml.compose(text, Loader=yaml.SafeLoader)
    if root is not None:
        walk(root, ())
    return lines


def parse_path(text: str) -> KeyPath:
    """'cameras[0].source_config.url' -> ('cameras', 0, 'source_config', 'url')."""
    return tuple(int(index) if index else key for index, key in _TOKEN.findall(text))


# A step through a list, by meaning rather than position.
@dataclass(frozen=True, slots=True)
class _Named:
    name: Any


@dataclass(frozen=True, slots=True)
class _Value:
    value: Any


def _by_meaning(merged: Any, path: KeyPath) -> list[Any]:
    """The path with list indexes replaced by the item's name or value in `merged`."""
    steps: list[Any] = []
    node = merged
    for part in path:
        if isinstance(part, int) and isinstance(node, list) and part < len(node):
            item = node[part]
            steps.append(_Named(item["name"]) if isinstance(item, dict) and "name" in item
                         else _Value(item))
            node = item
        else:
            steps.append(part)
            node = node.get(part) if isinstance(node, dict) else None
    return steps


def _in_layer(layer: Layer, steps: list[Any]) -> tuple[KeyPath, bool, bool]:
    """The longest prefix of `steps` this layer sets, as its own path.

    Also: whether it sets the whole path, and whether it owns what it sets (a named item,
    which the merge takes whole from the rightmost layer that has it).
    """
    node: Any = layer.data
    concrete: list[str | int] = []
    owns = False
    for step in steps:
        if isinstance(step, (_Named, _Value)):
            if not isinstance(node, list):
                return tuple(concrete), False, owns
            matches = [i for i, item in enumerate(node)
                       if (isinstance(item, dict) and item.get("name") == step.name
                           if isinstance(step, _Named) else item == step.value)]
            if not matches:
                return tuple(concrete), False, owns
            owns = owns or isinstance(step, _Named)
            concrete.append(matches[-1])  # a later duplicate is the one the merge kept
            node = node[matches[-1]]
        else:
            if not isinstance(node, dict) or step not in node:
                return tuple(concrete), False, owns
            concrete.append(step)
            node = node[step]
    return tuple(concrete), True, owns


def locate(layers: list[Layer], merged: dict[str, Any], path: str) -> str | None:
    """'file:line' (or 'file') of the layer that set `path`; None when no layer did.

    A field nobody set (a missing required one) is placed at the deepest parent a layer did
    set, e.g. the camera whose `source_backend` is missing.
    """
    steps = _by_meaning(merged, parse_path(path))
    best: tuple[int, Layer, KeyPath] | None = None
    for layer in reversed(layers):  # rightmost first: it wins the merge
        concrete, whole, owns = _in_layer(layer, steps)
        if (whole or owns) and concrete:
            best = (len(concrete), layer, concrete)
            break
        if concrete and (best is None or len(concrete) > best[0]):
            best = (len(concrete), layer, concrete)
    if best is None:
        return None
    _, layer, concrete = best
    for end in range(len(concrete), 0, -1):  # the nearest line recorded for it
        line = layer.lines.get(concrete[:end])
        if line is not None:
            return f"{layer.source}:{line}"
    return layer.source
