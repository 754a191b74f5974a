"""ConfigManager: run-time config changes, written to the override file.

The override file is the source of truth for everything changed at run time; the base files
are bootstrap-only. Every change is validated against the whole merged config (one that
would leave an alert-policy rule naming a camera or zone that is gone is refused: see
references.py), written atomically (temp file, fsync, rename, with a `.bak` of the previous
file) and bumps the integer `config_version`. A change made against a stale version is
refused. The alert policy in the override file replaces the base files' policy whole (PUT
semantics).

A running engine sets `on_change`: it applies each change at once (cameras start, stop and
take new zones; a new policy judges the next clip) and answers the fields it could not
apply, which alone make the change wait for a restart. Without it (the engine not running)
every camera change waits for the next start.
"""

from __future__ import annotations

import asyncio
import copy
import os
import shutil
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from ..fsutil import fsync_dir
from ..schema import validate
from ..schema.config import CONFIG_MODELS
from .diff import changed_sections
from .loader import ConfigError, merge_all, read_layer, validate_config
from .provenance import Layer


class ConfigVersionConflict(ConfigError):
    def __init__(self, current_version: int, given: int) -> None:
        self.current_version = current_version
        super().__init__(
            f"config_version {given} is stale: the config changed elsewhere "
            f"(current version {current_version}); reload and try again"
        )


class CameraExists(ConfigError):
    def __init__(self, name: str) -> None:
        self.name = name
        super().__init__(f"a camera named {name!r} already exists")


class CameraNotFound(ConfigError):
    def __init__(self, name: str) -> None:
        self.name = name
        super().__init__(f"no camera named {name!r}")


@dataclass(slots=True)
class ChangeResult:
    restart_required: bool
    config_version: int
    camera: dict[str, Any] | None = None
    restart_fields: list[str] = field(default_factory=list)  # what waits for the restart


# (config before, config after) -> the fields that need a restart to apply.
ChangeApplier = Callable[[dict[str, Any], dict[str, Any]], Awaitable[list[str]]]


def _backup(path: Path) -> None:
    """Keep the current file as `<name>.bak`, itself replaced atomically (never half a copy)."""
    tmp = path.with_name(f".{path.name}.bak.tmp")
    tmp.unlink(missing_ok=True)
    try:
        os.link(path, tmp)  # same inode: no bytes copied, nothing half-written
    except OSError:
        shutil.copy2(path, tmp)
    os.replace(tmp, path.with_name(path.name + ".bak"))


def atomic_write(path: Path, text: str, *, before_rename: Callable[[], None] | None = None) -> None:
    """Write `text` to `path` so a crash leaves either the old or the new file, never half.

    The previous file is kept as `<name>.bak`. `before_rename` is a test hook that runs
    after the temp file is durable and before it replaces the target.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    with open(tmp, "w", encoding="utf-8") as handle:
        handle.write(text)
        handle.flush()
        os.fsync(handle.fileno())
    if path.exists():
        _backup(path)
    if before_rename is not None:
        before_rename()
    os.replace(tmp, path)
    fsync_dir(path.parent)


# The sections PATCH /settings changes field by field.
SETTINGS_SECTIONS = ("retention", "filter", "tracking")

# Keys a run-time change sets as a whole: the override file's value replaces the base
# files' (a deep merge would keep the base's list items and per-camera entries, so a new
# policy could never drop them).
REPLACED_WHOLE = ("alert_policy",)


def merge_overrides(base: dict[str, Any], overrides: dict[str, Any]) -> dict[str, Any]:
    """The merged config: `overrides` over `base`, REPLACED_WHOLE keys taken as they are."""
    replaced = [key for key in REPLACED_WHOLE if key in overrides]
    if replaced:
        base = {key: value for key, value in base.items() if key not in replaced}
    return merge_all([base, overrides])


def _as_merged(base: list[Layer], override: Layer) -> list[Layer]:
    """The layers as merge_overrides sees them: a REPLACED_WHOLE key leaves the base files."""
    replaced = [key for key in REPLACED_WHOLE if key in override.data]
    if replaced:
        base = [Layer(layer.source, {k: v for k, v in layer.data.items() if k not in replaced},
                      layer.lines) for layer in base]
    return [*base, override]


def _set_camera_rules(overrides: dict[str, Any], camera: str,
                      rules: dict[str, Any] | None) -> None:
    """A camera's own keep times in the override file: the fields given replace the old ones
    (None: the global value again, also over a base file's); `rules` None: every field."""
    retention = overrides.setdefault("retention", {})
    cameras = retention.setdefault("cameras", {})
    given = dict.fromkeys(CONFIG_MODELS["RetentionRules"]["fields"]) if rules is None else rules
    cameras[camera] = {**(cameras.get(camera) or {}), **given}


def _drop_camera_rules(overrides: dict[str, Any], camera: str) -> None:
    """A removed camera's own rules set at run time (its alert-policy override, its keep
    times) go with it: the user removed the camera, and an HA user could not remove them
    first. Rules in the base config file stay; validation then refuses the removal, naming
    them (config/references.py)."""
    policy = overrides.get("alert_policy")
    if policy and camera in (policy.get("cameras") or {}):
        cameras = {k: v for k, v in policy["cameras"].items() if k != camera}
        overrides["alert_policy"] = {**policy, "cameras": cameras}
    retention = overrides.get("retention") or {}
    if camera in (retention.get("cameras") or {}):
        cameras = {k: v for k, v in retention["cameras"].items() if k != camera}
        overrides["retention"] = {**retention, "cameras": cameras}


def _put_camera(overrides: dict[str, Any], camera: dict[str, Any]) -> None:
    """`camera` whole in the override file (replacing one of its name), not removed."""
    overrides["cameras"] = [
        c for c in overrides.get("cameras", []) if c.get("name") != camera["name"]
    ] + [camera]
    overrides["removed_cameras"] = [
        n for n in overrides.get("removed_cameras", []) if n != camera["name"]]


class ConfigManager:
    """Owns the merged config and every run-time change to it."""

    def __init__(
        self,
        config_paths: list[Path],
        overrides_path: Path,
        *,
        embedded_default: dict[str, Any] | None = None,
    ) -> None:
        self._paths = list(config_paths)
        self._overrides_path = overrides_path
        self._embedded = embedded_default or {}
        self._base: dict[str, Any] = {}
        self._overrides: dict[str, Any] = {}
        self._config: dict[str, Any] = {}
        self._lock = asyncio.Lock()
        self.restart_pending = False
        self.on_change: ChangeApplier | None = None
        self.before_rename: Callable[[], None] | None = None  # test hook, see atomic_write

    @property
    def overrides_path(self) -> Path:
        return self._overrides_path

    @property
    def config_version(self) -> int:
        return int(self._config.get("config_version", 1))

    def files_config(self) -> dict[str, Any]:
        """The config files merged, without the run-time changes (a copy, not validated)."""
        return copy.deepcopy(self._base)

    def get_config(self) -> dict[str, Any]:
        """The validated, merged config (a copy: callers cannot change it by accident)."""
        return copy.deepcopy(self._config)

    def load_sync(self) -> dict[str, Any]:
        layers = [Layer("(embedded default)", self._embedded)]
        layers += [read_layer(p) for p in self._paths]
        self._base = merge_all(layer.data for layer in layers)
        override = (read_layer(self._overrides_path) if self._overrides_path.exists()
                    else Layer(str(self._overrides_path), {}))
        self._overrides = override.data
        self._config = validate_config(merge_overrides(self._base, self._overrides),
                                       _as_merged(layers, override))
        return self.get_config()

    async def load(self) -> dict[str, Any]:
        return await asyncio.to_thread(self.load_sync)

    # -- mutations ---------------------------------------------------------------------

    async def add_camera(self, camera: dict[str, Any], expected_version: int | None = None
                         ) -> ChangeResult:
        camera = validate("Camera", camera, prefix="camera")

        def change(overrides: dict[str, Any]) -> None:
            if any(c["name"] == camera["name"] for c in self._config["cameras"]):
                raise CameraExists(camera["name"])
            _put_camera(overrides, camera)

        result = await self._mutate(change, expected_version, restart_required=True)
        result.camera = self._camera(camera["name"])
        return result

    async def update_camera(self, name: str, changes: dict[str, Any],
                            expected_version: int | None = None) -> ChangeResult:
        """Change the fields sent; `retention` (the camera's own keep times) goes to
        `retention.cameras`, where retention reads it (at once: the next pass)."""
        changes = validate("CameraUpdate", changes, partial=True)
        changes.pop("config_version", None)
        has_rules = "retention" in changes
        rules = changes.pop("retention", None)

        def change(overrides: dict[str, Any]) -> None:
            current = self._camera(name)
            if current is None:
                raise CameraNotFound(name)
            if has_rules:
                _set_camera_rules(overrides, name, rules)
                if not changes:
                    return
            updated = {**current, **changes}
            updated = validate("Camera", updated, prefix="camera")
            overrides["cameras"] = [
                c for c in overrides.get("cameras", []) if c.get("name") != name
            ] + [updated]

        result = await self._mutate(change, expected_version, restart_required=True)
        result.camera = self._camera(name)
        return result

    async def put_camera(self, definition: dict[str, Any]) -> ChangeResult:
        """The camera as a whole (diff.camera_definition: its own keep times under
        `retention`), added or replacing the one of its name (cluster mode: as another
        engine's API left it)."""
        definition = dict(definition)
        rules = definition.pop("retention", None)
        camera = validate("Camera", definition, prefix="camera")
        fields = dict.fromkeys(CONFIG_MODELS["RetentionRules"]["fields"])

        def change(overrides: dict[str, Any]) -> None:
            _put_camera(overrides, camera)
            _set_camera_rules(overrides, camera["name"], {**fields, **(rules or {})})

        result = await self._mutate(change, None, restart_required=True)
        result.camera = self._camera(camera["name"])
        return result

    async def remove_camera(self, name: str, expected_version: int | None = None
                            ) -> ChangeResult:
        def change(overrides: dict[str, Any]) -> None:
            if self._camera(name) is None:
                raise CameraNotFound(name)
            overrides["cameras"] = [
                c for c in overrides.get("cameras", []) if c.get("name") != name
            ]
            if any(c.get("name") == name for c in self._base.get("cameras", [])):
                overrides["removed_cameras"] = sorted(
                    set(overrides.get("removed_cameras", [])) | {name}
                )
            _drop_camera_rules(overrides, name)

        return await self._mutate(change, expected_version, restart_required=True)

    async def set_alert_policy(self, policy: dict[str, Any],
                               expected_version: int | None = None) -> ChangeResult:
        policy = validate("AlertPolicy", policy, prefix="alert_policy")

        def change(overrides: dict[str, Any]) -> None:
            overrides["alert_policy"] = policy

        # The runtime applies a new policy live: no restart needed.
        return await self._mutate(change, expected_version, restart_required=False)

    async def update_settings(self, settings: dict[str, Any],
                              expected_version: int | None = None) -> ChangeResult:
        """Change fields of `retention`, `filter` and `tracking` (what is not sent stays): the
        running engine applies retention, the filter's thresholds and the tracking settings
        at once; the change result names the fields that wait for a restart
        (`filter.model_path`, ...)."""
        sections = {name: dict(values) for name, values in settings.items()
                    if name in SETTINGS_SECTIONS and values}

        def change(overrides: dict[str, Any]) -> None:
            for name, values in sections.items():
                overrides[name] = {**(overrides.get(name) or {}), **values}

        return await self._mutate(change, expected_version, restart_required=True)

    # -- internals ---------------------------------------------------------------------

    def _camera(self, name: str) -> dict[str, Any] | None:
        cameras: list[dict[str, Any]] = self._config.get("cameras", [])
        for camera in cameras:
            if camera["name"] == name:
                return copy.deepcopy(camera)
        return None

    async def _mutate(self, change: Callable[[dict[str, Any]], None],
                      expected_version: int | None, *, restart_required: bool) -> ChangeResult:
        async with self._lock:
            current = self.config_version
            if expected_version is not None and expected_version != current:
                raise ConfigVersionConflict(current, expected_version)
            overrides = copy.deepcopy(self._overrides)
            change(overrides)
            overrides["config_version"] = current + 1
            config = validate_config(merge_overrides(self._base, overrides),
                                     before=self._config)
            text = yaml.safe_dump(overrides, sort_keys=True, allow_unicode=True)
            await asyncio.to_thread(
                atomic_write, self._overrides_path, text, before_rename=self.before_rename
            )
            before, self._overrides, self._config = self._config, overrides, config
            if self.on_change is not None:
                fields = await self.on_change(copy.deepcopy(before), copy.deepcopy(config))
            else:
                fields = list(changed_sections(before, config)) if restart_required else []
            self.restart_pending = self.restart_pending or bool(fields)
            return ChangeResult(restart_required=bool(fields),
                                config_version=config["config_version"], restart_fields=fields)
