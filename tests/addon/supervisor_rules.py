"""A small checker for the Supervisor's add-on rules (see shared/reference/addon-supervisor.md).

Each function returns a list of problems (empty = accepted), phrased like the Supervisor's
own messages where it has one, so a failing test says what the store would say.
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path
from typing import Any

ARCHES = {"aarch64", "amd64", "armhf", "armv7", "i386"}
DEPRECATED_ARCHES = {"armhf", "armv7", "i386"}
SLUG = re.compile(r"^[-_.A-Za-z0-9]+$")
WATCHDOG = re.compile(r"^(?:https?|\[PROTO:\w+\]|tcp):\/\/\[HOST\]:(\[PORT:\d+\]|\d+).*$")
WEBUI = re.compile(r"^(?:https?|\[PROTO:\w+\]):\/\/\[HOST\]:\[PORT:\d+\].*$")
MAP_TYPES = {"data", "config", "ssl", "local_apps", "addons", "backup", "share", "media",
             "homeassistant_config", "all_app_configs", "all_addon_configs", "app_config",
             "addon_config"}
LEGACY_MAP_TYPES = {"addons", "all_addon_configs", "addon_config"}
# Types new Supervisors know but older ones drop silently ("invalid map entry ... Skipping").
NEW_MAP_TYPES = {"app_config", "all_app_configs", "local_apps"}
MAP_ENTRY = re.compile(r"^(?P<type>[a-z_]+)(?::(?P<mode>rw|ro))?$")
SERVICE = re.compile(r"^(mqtt|mysql):(provide|want|need)$")
STARTUP = {"initialize", "system", "services", "application", "once"}
BACKUP = {"hot", "cold"}
DOCKER_IMAGE_BUILD = re.compile(
    r"^([a-zA-Z\-\.:\d{}]+/)*?([\-\w{}]+)/([\-\w{}]+)(:[\.\-\w{}]+)?$")

# One element of the options type language (supervisor/addons/options.py), then `?`.
_NUM = r"(?:\d+)?"
_FNUM = r"(?:[\d.]+)?"
SCHEMA_ELEMENT = re.compile(
    r"^(?:bool|email|url|port"
    r"|device(?:\(subsystem=[a-z]+\))?"
    rf"|str(?:\({_NUM},{_NUM}\))?"
    rf"|password(?:\({_NUM},{_NUM}\))?"
    rf"|int(?:\({_NUM},{_NUM}\))?"
    rf"|float(?:\({_FNUM},{_FNUM}\))?"
    r"|match\(.*\)"
    r"|list\(.+\)"
    r")\??$"
)
BOOL_KEYS = ("init", "ingress", "ingress_stream", "panel_admin", "homeassistant_api",
             "hassio_api", "host_network", "auth_api", "apparmor", "stdin", "udev", "tmpfs")


def check_schema_element(typ: Any, where: str, *, in_list: bool = False) -> list[str]:
    """One schema value: a type string, `[type]`, `{key: type}` or `[{...}]`."""
    if isinstance(typ, str):
        return [] if SCHEMA_ELEMENT.match(typ) else [f"{where}: unknown type '{typ}'"]
    if isinstance(typ, list):
        if in_list:
            return [f"{where}: a list may not directly contain a list"]
        if len(typ) != 1:
            return [f"{where}: a list schema holds exactly one element type"]
        return check_schema_element(typ[0], f"{where}[]", in_list=True)
    if isinstance(typ, dict):
        problems: list[str] = []
        for key, value in typ.items():
            if not isinstance(key, str):
                problems.append(f"{where}: key {key!r} is not a string")
            problems += check_schema_element(value, f"{where}.{key}")
        return problems
    return [f"{where}: unknown type {typ!r}"]


def _value_fits(typ: str, value: Any) -> bool:
    """Does an option default satisfy its (scalar) type? Mirrors the Supervisor's coercions."""
    base = typ.rstrip("?")
    if base.startswith("list("):
        return str(value) in base[5:-1].split("|")
    if base.startswith(("str", "password")):
        match = re.match(r"^\w+\((\d*),(\d*)\)$", base)
        if match and match.group(1) and len(str(value)) < int(match.group(1)):
            return False
        return isinstance(value, (str, int, float)) and not isinstance(value, bool)
    if base == "bool":
        return isinstance(value, bool)
    if base.startswith("int"):
        return isinstance(value, int) and not isinstance(value, bool)
    if base.startswith("float"):
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    if base == "port":
        return isinstance(value, int) and 1 <= value <= 65535
    if base.startswith("match("):
        return re.match(base[6:-1], str(value)) is not None
    return True


def check_options(options: dict[str, Any], schema: dict[str, Any]) -> list[str]:
    problems: list[str] = []
    for key, typ in schema.items():
        element = typ[0] if isinstance(typ, list) and typ else typ
        optional = isinstance(element, str) and element.endswith("?")
        if key not in options and not optional:
            problems.append(f"Missing option '{key}' in root")
    for key, value in options.items():
        if key not in schema:
            problems.append(f"Option '{key}' does not exist in the schema")
        elif isinstance(schema[key], str) and not _value_fits(schema[key], value):
            problems.append(f"Option '{key}' default {value!r} does not fit '{schema[key]}'")
    return problems


def check_addon_config(cfg: dict[str, Any]) -> list[str]:
    problems: list[str] = []
    for key in ("name", "version", "slug", "description", "arch"):
        if key not in cfg:
            problems.append(f"required key '{key}' is missing")
    for key in ("name", "description"):
        if key in cfg and not isinstance(cfg[key], str):
            problems.append(f"'{key}' must be a string")
    if "version" in cfg and not isinstance(cfg["version"], str):
        problems.append("'version' must be a quoted string (YAML turns 1.10 into 1.1)")
    if "slug" in cfg and not (isinstance(cfg["slug"], str) and SLUG.match(cfg["slug"])):
        problems.append(f"slug {cfg.get('slug')!r} does not match {SLUG.pattern}")
    arch = cfg.get("arch", [])
    if not isinstance(arch, list) or not arch:
        problems.append("'arch' must be a non-empty list")
    else:
        problems += [f"arch '{a}' is not one of {sorted(ARCHES)}" for a in arch
                     if a not in ARCHES]
        problems += [f"arch '{a}' is deprecated" for a in arch if a in DEPRECATED_ARCHES]
    if "url" in cfg and not re.match(r"^https?://[^\s/]+", str(cfg["url"])):
        problems.append("'url' must be a URL")
    if "startup" in cfg and cfg["startup"] not in STARTUP:
        problems.append(f"startup '{cfg['startup']}' is not one of {sorted(STARTUP)}")
    if "backup" in cfg and cfg["backup"] not in BACKUP:
        problems.append(f"backup '{cfg['backup']}' is not hot or cold")
    for key in BOOL_KEYS:
        if key in cfg and not isinstance(cfg[key], bool):
            problems.append(f"'{key}' must be true or false")
    if "watchdog" in cfg and not WATCHDOG.match(str(cfg["watchdog"])):
        problems.append(f"watchdog {cfg['watchdog']!r} does not match {WATCHDOG.pattern}")
    if "webui" in cfg and not WEBUI.match(str(cfg["webui"])):
        problems.append(f"webui {cfg['webui']!r} does not match {WEBUI.pattern}")
    port = cfg.get("ingress_port", 8099)
    if not isinstance(port, int) or not (port == 0 or 1 <= port <= 65535):
        problems.append(f"ingress_port {port!r} is not a port or 0")
    if "timeout" in cfg and not (isinstance(cfg["timeout"], int) and 10 <= cfg["timeout"] <= 300):
        problems.append("timeout must be 10..300")
    for entry in cfg.get("map", []):
        if isinstance(entry, dict):
            if entry.get("type") not in MAP_TYPES:
                problems.append(f"invalid map entry: {entry}")
            continue
        match = MAP_ENTRY.match(str(entry))
        if not match or match.group("type") not in MAP_TYPES:
            problems.append(f"invalid map entry: {entry}")
    if "discovery" in cfg and not (isinstance(cfg["discovery"], list)
                                   and all(isinstance(s, str) for s in cfg["discovery"])):
        problems.append("'discovery' must be a list of strings")
    problems += [f"invalid service '{s}'" for s in cfg.get("services", [])
                 if not SERVICE.match(str(s))]
    schema = cfg.get("schema", {})
    if schema is not False:
        if not isinstance(schema, dict):
            problems.append("'schema' must be a mapping or false")
        else:
            for key, typ in schema.items():
                problems += check_schema_element(typ, key)
            problems += check_options(cfg.get("options", {}) or {}, schema)
    return problems


def map_types(cfg: dict[str, Any]) -> dict[str, bool]:
    """map entries -> {type: read_write}."""
    out: dict[str, bool] = {}
    for entry in cfg.get("map", []):
        if isinstance(entry, dict):
            out[entry["type"]] = not entry.get("read_only", True)
        else:
            match = MAP_ENTRY.match(entry)
            assert match is not None
            out[match.group("type")] = match.group("mode") == "rw"
    return out


def check_build(build: dict[str, Any]) -> list[str]:
    problems: list[str] = []
    build_from = build.get("build_from", {})
    images = build_from.values() if isinstance(build_from, dict) else [build_from]
    if isinstance(build_from, dict):
        problems += [f"build_from arch '{a}' is unknown" for a in build_from if a not in ARCHES]
    problems += [f"image '{i}' does not match the build image pattern" for i in images
                 if not isinstance(i, str) or not DOCKER_IMAGE_BUILD.match(i)]
    for section in ("args", "labels"):
        for key, value in (build.get(section) or {}).items():
            if not isinstance(key, str) or not isinstance(value, str):
                problems.append(f"{section}.{key}: value {value!r} must be a string")
    return problems


def check_translations(translations: dict[str, Any], schema: dict[str, Any]) -> list[str]:
    problems: list[str] = []
    configuration = translations.get("configuration", {}) or {}
    for key in schema:
        entry = configuration.get(key)
        if not isinstance(entry, dict) or not isinstance(entry.get("name"), str):
            problems.append(f"option '{key}' has no translated name")
        elif not isinstance(entry.get("description"), str) or not entry["description"].strip():
            problems.append(f"option '{key}' has no translated description")
    problems += [f"translation for unknown option '{k}'" for k in configuration
                 if k not in schema]
    return problems


def repo_files(repo: Path) -> list[Path]:
    """The files a clone of the repository would hold (tracked + new, not ignored)."""
    try:
        listing = subprocess.run(
            ["git", "ls-files", "--cached", "--others", "--exclude-standard", "-z"],
            cwd=repo, capture_output=True, check=True).stdout.decode()
    except (OSError, subprocess.CalledProcessError):
        return [p for p in repo.rglob("*") if p.is_file()]
    return [repo / name for name in listing.split("\0") if name]


def addon_config_files(repo: Path) -> list[Path]:
    """What the store's scan (store/data.py) takes for add-on configs: every
    config.{yaml,yml,json} outside dot-dirs and rootfs/."""
    found = []
    for path in repo_files(repo):
        if not path.name.startswith("config.") or path.suffix not in (".yaml", ".yml", ".json"):
            continue
        parts = path.relative_to(repo).parts
        if any(p.startswith(".") for p in parts) or "rootfs" in parts:
            continue
        found.append(path)
    return sorted(found)
