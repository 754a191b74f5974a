"""Load and merge YAML config files.

Files merge left to right, the rightmost winning: dicts deep-merge, lists union. A list of
dicts that carry a `name` (cameras) is a set keyed by name: an item whose name is already
present replaces it whole, so a run-time camera edit can drop keys. `removed_cameras` hides
cameras named by earlier files (a union can only add, so removal needs its own list).
Each file is read with the line of every setting, so a schema error names where it was set.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import yaml

from ..schema import SchemaValidationError, validate
from .provenance import Layer, locate, yaml_lines
from .references import policy_reference_errors


class ConfigError(Exception):
    """The config cannot be used; the message names the file, line or field."""


class ConfigFileError(ConfigError):
    def __init__(self, path: Path, message: str, line: int | None = None) -> None:
        self.path, self.line = path, line
        where = f"{path}:{line}" if line is not None else str(path)
        super().__init__(f"{where}: {message}")


def read_yaml(path: Path) -> dict[str, Any]:
    """One YAML file -> dict; an empty file is {}. Errors carry file and line."""
    return read_layer(path).data


def read_layer(path: Path) -> Layer:
    """One YAML file with the line of every setting, so schema errors can name it."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError as err:
        raise ConfigFileError(path, "file not found") from err
    except OSError as err:
        raise ConfigFileError(path, f"cannot read: {err.strerror}") from err
    try:
        data = yaml.safe_load(text)
    except yaml.MarkedYAMLError as err:
        mark = err.problem_mark or err.context_mark
        line = mark.line + 1 if mark is not None else None
        problem = err.problem or err.context or "invalid YAML"
        column = f", column {mark.column + 1}" if mark is not None else ""
        raise ConfigFileError(path, f"invalid YAML{column}: {problem}", line) from err
    except yaml.YAMLError as err:
        raise ConfigFileError(path, f"invalid YAML: {err}") from err
    if data is None:
        return Layer(str(path), {})
    if not isinstance(data, dict):
        raise ConfigFileError(path, "the top level must be a mapping of settings", 1)
    return Layer(str(path), data, yaml_lines(text))


def _is_named_list(items: list[Any]) -> bool:
    return bool(items) and all(isinstance(i, dict) and "name" in i for i in items)


def _union(left: list[Any], right: list[Any]) -> list[Any]:
    if _is_named_list(left) or _is_named_list(right):
        merged = {item["name"]: item for item in left if isinstance(item, dict)}
        for item in right:
            merged[item["name"]] = copy.deepcopy(item)
        return list(merged.values())
    out = list(left)
    out.extend(copy.deepcopy(item) for item in right if item not in out)
    return out


def merge(left: dict[str, Any], right: dict[str, Any]) -> dict[str, Any]:
    """Merge `right` over `left` without touching either."""
    out = copy.deepcopy(left)
    for key, value in right.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = merge(out[key], value)
        elif isinstance(value, list) and isinstance(out.get(key), list):
            out[key] = _union(out[key], value)
        else:
            out[key] = copy.deepcopy(value)
    return out


def merge_all(layers: Iterable[dict[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for layer in layers:
        out = merge(out, layer)
    return out


def apply_removals(raw: dict[str, Any]) -> dict[str, Any]:
    removed = set(raw.get("removed_cameras") or [])
    if removed and isinstance(raw.get("cameras"), list):
        raw = dict(raw)
        raw["cameras"] = [
            c for c in raw["cameras"] if not (isinstance(c, dict) and c.get("name") in removed)
        ]
    return raw


def validate_config(raw: dict[str, Any], layers: list[Layer] | None = None, *,
                    before: dict[str, Any] | None = None) -> dict[str, Any]:
    """The validated config; given the layers it merged from, errors name file and line.

    Beyond the schema, the alert policy's rules must name cameras and zones that exist
    (config/references.py); `before`, the config a run-time change starts from, lets the
    error for a rule the change would orphan say to remove the rule first.
    """
    raw = apply_removals(raw)
    try:
        config = validate("Config", raw)
        dangling = policy_reference_errors(config, before)
        if dangling:
            raise SchemaValidationError(dangling)
        return config
    except SchemaValidationError as err:
        problems = []
        for item in err.errors:
            where = locate(layers, raw, item["path"]) if layers else None
            problem = f"{item['path'] or '(root)'}: {item['message']}"
            problems.append(f"{where}: {problem}" if where else problem)
        raise ConfigError("invalid config: " + "; ".join(problems)) from err
