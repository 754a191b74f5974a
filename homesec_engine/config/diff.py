"""What a config change changes, by camera and by section: the running engine applies each
part live (see EngineRuntime.apply_change) and restarts only for what it cannot."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

# Sections the running engine applies at once; any other section changed needs a restart.
# Retention is read by every pass, the tracking settings by every frame; of the filter, only
# the thresholds below are live (its model, input size and threads are loaded once:
# `filter.<field>` waits for the restart).
LIVE_SECTIONS = frozenset({"cameras", "alert_policy", "removed_cameras", "config_version",
                           "retention", "filter", "tracking"})
LIVE_FILTER_FIELDS = frozenset({"min_confidence", "class_min_confidence", "min_box_size",
                                "nms_iou", "min_hits", "sample_fps", "on_model_error"})
# Camera fields whose change means starting the camera's source again (seconds, not a
# restart of the engine); zones and motion masks go to the running source instead.
SOURCE_FIELDS = ("enabled", "source_backend", "source_config", "filter_backend")


@dataclass(slots=True)
class ConfigDiff:
    added: list[dict[str, Any]] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    restarted: list[dict[str, Any]] = field(default_factory=list)  # source settings changed
    zones: list[dict[str, Any]] = field(default_factory=list)  # zones changed
    masks: list[dict[str, Any]] = field(default_factory=list)  # motion masks changed
    changed: list[dict[str, Any]] = field(default_factory=list)  # camera_definition changed
    policy_changed: bool = False
    retention_changed: bool = False
    filter_changed: bool = False  # a threshold (LIVE_FILTER_FIELDS) or the tracking section
    restart_fields: list[str] = field(default_factory=list)


def camera_rules(config: dict[str, Any], name: str) -> dict[str, Any] | None:
    """A camera's own keep times (`retention.cameras`): the fields set; None when none is."""
    rules = ((config.get("retention") or {}).get("cameras") or {}).get(name)
    return {k: v for k, v in (rules or {}).items() if v is not None} or None


def camera_definition(config: dict[str, Any], camera: dict[str, Any]) -> dict[str, Any]:
    """All a user sets of a camera through its API: the camera and its own keep times
    (`retention`, as PUT /cameras/{name} takes them)."""
    return {**camera, "retention": camera_rules(config, camera["name"])}


def settings_changes(before: dict[str, Any], after: dict[str, Any],
                     sections: tuple[str, ...]) -> dict[tuple[str, str], Any]:
    """{(section, field): its value after} of the fields of `sections` that differ, except a
    camera's own keep times (`retention.cameras`: part of the camera's definition)."""
    changes = {}
    for section in sections:
        old, new = before.get(section) or {}, after.get(section) or {}
        for name in sorted(set(old) | set(new)):
            if old.get(name) != new.get(name) and (section, name) != ("retention", "cameras"):
                changes[(section, name)] = new.get(name)
    return changes


def changed_sections(before: dict[str, Any], after: dict[str, Any],
                     ignore: frozenset[str] = frozenset({"config_version"})) -> list[str]:
    """The top-level config keys whose values differ, except `ignore`."""
    keys = (set(before) | set(after)) - ignore
    return sorted(k for k in keys if before.get(k) != after.get(k))


def config_diff(before: dict[str, Any], after: dict[str, Any]) -> ConfigDiff:
    """Compare two validated configs."""
    diff = ConfigDiff()
    old = {c["name"]: c for c in before.get("cameras", [])}
    new = {c["name"]: c for c in after.get("cameras", [])}
    diff.removed = [name for name in old if name not in new]
    for name, camera in new.items():
        previous = old.get(name)
        if previous is None:
            diff.added.append(camera)
            continue
        if camera_definition(before, previous) != camera_definition(after, camera):
            diff.changed.append(camera)
        if any(previous.get(f) != camera.get(f) for f in SOURCE_FIELDS):
            diff.restarted.append(camera)
        if (previous.get("zones") or []) != (camera.get("zones") or []):
            diff.zones.append(camera)
        if (previous.get("motion_masks") or []) != (camera.get("motion_masks") or []):
            diff.masks.append(camera)
    diff.policy_changed = before.get("alert_policy") != after.get("alert_policy")
    diff.retention_changed = before.get("retention") != after.get("retention")
    filter_before, filter_after = before.get("filter") or {}, after.get("filter") or {}
    diff.filter_changed = before.get("tracking") != after.get("tracking") or any(
        filter_before.get(f) != filter_after.get(f) for f in LIVE_FILTER_FIELDS)
    diff.restart_fields = sorted([
        *changed_sections(before, after, LIVE_SECTIONS),
        *(f"filter.{name}" for name in changed_sections(filter_before, filter_after,
                                                         LIVE_FILTER_FIELDS))])
    return diff
