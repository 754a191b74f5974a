"""What differs between the Home Assistant releases we support.

The oldest is the `homeassistant` minimum in hacs.json, the newest is the one the tests pin in
requirements/ha-newest.txt. Everything that needs a version switch lives here, so the rest of
the integration reads as if there were one Home Assistant.
"""

from __future__ import annotations

from typing import Any, cast

from homeassistant.helpers import device_registry as dr
from homeassistant.helpers import llm
from homeassistant.helpers.device_registry import DeviceInfo

# Home Assistant validates with probatio (voluptuous-compatible) from 2026.x on; before that
# with voluptuous itself. Schemas handed to HA must be built with the library HA uses.
try:
    import probatio as vol  # type: ignore[import-not-found, unused-ignore]
except ImportError:  # pragma: no cover - the oldest lane
    import voluptuous as vol  # type: ignore[no-redef, unused-ignore]

# Newer HA keeps these enums in the platforms' const modules (and stops re-exporting them).
try:
    from homeassistant.components.binary_sensor.const import (  # type: ignore[import-not-found, unused-ignore]
        BinarySensorDeviceClass,
    )
except ImportError:  # pragma: no cover - the oldest lane
    from homeassistant.components.binary_sensor import (  # type: ignore[attr-defined, no-redef, unused-ignore]
        BinarySensorDeviceClass,
    )
try:
    from homeassistant.components.switch.const import (  # type: ignore[attr-defined, unused-ignore]
        SwitchDeviceClass,
    )
except ImportError:  # pragma: no cover - the oldest lane
    from homeassistant.components.switch import (  # type: ignore[attr-defined, no-redef, unused-ignore]
        SwitchDeviceClass,
    )

try:
    from homeassistant.components.camera.const import (  # type: ignore[attr-defined, unused-ignore]
        CameraEntityFeature,
    )
except ImportError:  # pragma: no cover - the oldest lane
    from homeassistant.components.camera import (  # type: ignore[attr-defined, no-redef, unused-ignore]
        CameraEntityFeature,
    )

# Newer HA types a repair flow's steps with its own result type.
try:
    from homeassistant.components.repairs import (  # type: ignore[attr-defined, unused-ignore]
        RepairsFlowResult,
    )
except ImportError:  # pragma: no cover - the oldest lane
    from homeassistant.data_entry_flow import (  # type: ignore[assignment, no-redef, unused-ignore]
        FlowResult as RepairsFlowResult,
    )

# Newer HA keeps the HTTP server's types in http.server (http re-exports them implicitly).
try:
    from homeassistant.components.http.server import (  # type: ignore[import-not-found, unused-ignore]
        StaticPathConfig,
    )
except ImportError:  # pragma: no cover - the oldest lane
    from homeassistant.components.http import (  # type: ignore[attr-defined, no-redef, unused-ignore]
        StaticPathConfig,
    )

# Newer HA wraps an LLM tool's answer in ToolResult; older HA takes the JSON object itself.
def tool_result(data: dict[str, Any], *, error: bool = False) -> Any:
    """An LLM tool's answer as this Home Assistant expects it."""
    result_type = getattr(llm, "ToolResult", None)
    if result_type is None:  # pragma: no cover - the oldest lane
        return data
    return result_type(data=data, error=error)


# Newer HA links a device to its parent by registry id (`via_device_id`); older HA by the
# parent's identifier (`via_device`), which newer HA reports as deprecated.
VIA_DEVICE_BY_ID = "via_device_id" in DeviceInfo.__annotations__

__all__ = ["vol", "BinarySensorDeviceClass", "SwitchDeviceClass", "CameraEntityFeature", "RepairsFlowResult", "StaticPathConfig", "child_device_info", "tool_result", "device_config_entry_ids", "parent_device_id"]


def child_device_info(parent_id: str, parent_identifier: tuple[str, str], **info: Any) -> DeviceInfo:
    """DeviceInfo for a device that hangs off a parent device (a camera off the engine hub)."""
    if VIA_DEVICE_BY_ID:
        info["via_device_id"] = parent_id
    else:
        info["via_device"] = parent_identifier
    return cast(DeviceInfo, info)


def device_config_entry_ids(device: object) -> set[str]:
    """The config entries a device belongs to (one on newer HA, a set on older HA)."""
    entry_id: str | None = getattr(device, "config_entry_id", None)
    if entry_id is not None:
        return {entry_id}
    return set(getattr(device, "config_entries", ()))


def parent_device_id(device: object) -> str | None:
    """The registry id of a device's parent (None for a top-level device)."""
    parent: str | None = getattr(device, "via_device_id", None)
    return parent
