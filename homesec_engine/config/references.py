"""The alert policy's per-camera and per-zone rules name cameras and zones that exist.

The schema checks each section on its own; this checks the one place where a section names
what another owns: `alert_policy.cameras.<camera>` names a camera and
`alert_policy.cameras.<camera>.zones.<zone>` one of that camera's zones. A rule naming
something that is not there would never apply, silently, so it is refused naming the field.

A run-time change that would leave a rule pointing at nothing (removing or renaming a zone
that a rule names; removing a camera whose rules are in the config file) is refused the same
way, and says to remove the rule first: the user's rule is never dropped behind their back.
A camera removed at run time takes its own run-time rules with it (config/manager.py).
"""

from __future__ import annotations

from typing import Any

# Where a user changes the alert policy, for the "remove the rule first" advice.
_WHERE = "the alert policy (PUT /api/v1/alert-policy, or the config file that sets it)"


def _zones_by_camera(config: dict[str, Any] | None) -> dict[str, list[str]]:
    return {camera["name"]: [zone["name"] for zone in camera.get("zones") or []]
            for camera in (config or {}).get("cameras") or []}


def _listing(names: list[str], none: str) -> str:
    return ", ".join(names) if names else none


def policy_reference_errors(config: dict[str, Any],
                            before: dict[str, Any] | None = None) -> list[dict[str, str]]:
    """The policy rules of the validated `config` that name a missing camera or zone, as
    {path, message}. `before` (the config a run-time change starts from) tells a rule the
    change would orphan, whose message says to remove the rule first, from a mistyped one."""
    cameras = _zones_by_camera(config)
    had = _zones_by_camera(before)
    errors: list[dict[str, str]] = []
    for name, override in sorted((config.get("alert_policy") or {}).get("cameras", {}).items()):
        path = f"alert_policy.cameras.{name}"
        if name not in cameras:
            if name in had:
                message = (f"camera {name} has rules in the config file's alert_policy: "
                           f"remove them there first, then remove the camera")
            else:
                message = (f'no camera named "{name}" '
                           f"(cameras: {_listing(sorted(cameras), 'none')})")
            errors.append({"path": path, "message": message})
            continue
        zones = cameras[name]
        for zone in sorted((override or {}).get("zones") or {}):
            if zone in zones:
                continue
            if zone in had.get(name, ()):
                message = (f'this rule names zone "{zone}" of camera {name}: remove the rule '
                           f"from {_WHERE} first, then remove or rename the zone")
            else:
                message = (f'camera {name} has no zone "{zone}" '
                           f"(its zones: {_listing(zones, 'none')})")
            errors.append({"path": f"{path}.zones.{zone}", "message": message})
    return errors
