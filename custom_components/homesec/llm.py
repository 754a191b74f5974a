"""Assist tools (HA's LLM API): what happened at a camera, which clips match, how cameras are.

Home Assistant collects them from this `llm` platform into its Assist API (tool names carry
the `homesec__` prefix it asks for); a Home Assistant without the `llm` integration gets them
as a separate "HomeSec" LLM API instead (async_register_fallback_api). Answers are the
engine's own records, trimmed to what a spoken answer needs, with local times and minutes ago
(a model is poor at time arithmetic), so the assistant answers short and from the data.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final

from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers import llm
from homeassistant.util import dt as dt_util

from .api import HomeSecError
from .compat import tool_result, vol
from .const import DOMAIN
from .coordinator import HomeSecConfigEntry
from .generated.api_models import Clip, ClipQuery
from .generated.schema_data import ACTIVITY_TYPES, DETECTION_CLASSES
from .value_functions import camera_health

PROMPT: Final = (
    "HomeSec records the security cameras. For questions about what happened at a camera, "
    "recorded clips or whether a camera works, call the homesec__ tools and answer in one or "
    "two short sentences from what they return only: give the time as said in `time` or "
    "`minutes_ago` and the summary; when a tool finds nothing, say so."
)
MAX_RESULTS: Final = 20
# Clips are read a page at a time; class and zone are filtered here, so read a few pages.
_SCAN_PAGES: Final = 3
_PAGE_SIZE: Final = 100

_CAMERA_FIELD: Final = "camera"


def _camera_param(required: bool = False) -> Any:
    marker = vol.Required if required else vol.Optional
    return marker(_CAMERA_FIELD, description="Camera name, e.g. front_door (all when absent)")


def _loaded_entry(hass: HomeAssistant) -> HomeSecConfigEntry | None:
    entries: list[HomeSecConfigEntry] = hass.config_entries.async_loaded_entries(DOMAIN)
    return entries[0] if entries else None


def _error(message: str) -> Any:
    return tool_result({"error": message}, error=True)


def camera_name(entry: HomeSecConfigEntry, spoken: str | None) -> str | None:
    """The engine's name of a camera as a person says it ("Front door" -> front_door)."""
    if spoken is None:
        return None
    wanted = "_".join(spoken.strip().lower().replace("-", " ").split())
    for name in entry.runtime_data.coordinator.camera_names:
        if name == wanted or name.removesuffix("_camera") == wanted.removesuffix("_camera"):
            return name
    raise LookupError(spoken)


def _when(created: str, now: datetime) -> dict[str, Any]:
    moment = dt_util.parse_datetime(created)
    if moment is None:
        return {"time": created}
    return {
        "time": dt_util.as_local(moment).strftime("%Y-%m-%d %H:%M"),
        "minutes_ago": max(0, int((now - moment).total_seconds() // 60)),
    }


def _brief(clip: Clip, now: datetime) -> dict[str, Any]:
    """One clip as a spoken answer needs it."""
    classes = sorted({str(o["class"]) for o in clip.get("objects") or []}
                     or set(clip.get("detected_objects") or []))
    item: dict[str, Any] = {
        "camera": clip["camera"],
        **_when(clip["created_at"], now),
        "activity": clip.get("activity_type"),
        "summary": clip.get("summary"),
        "classes": classes,
        "risk": clip.get("risk_level"),
        "alerted": clip["alerted"],
        "clip_id": clip["id"],
    }
    if clip.get("zones"):
        item["zones"] = list(clip["zones"])
    if clip.get("duration_s") is not None:
        item["duration_s"] = round(float(clip["duration_s"] or 0), 1)
    return {k: v for k, v in item.items() if v is not None}


def _matches(clip: Clip, detected_class: str | None, zone: str | None) -> bool:
    if detected_class is not None:
        found = {o["class"] for o in clip.get("objects") or []}
        if detected_class not in found | set(clip.get("detected_objects") or []):
            return False
    return zone is None or zone in (clip.get("zones") or [])


class HomeSecTool(llm.Tool):
    """A HomeSec tool: validates its arguments, resolves the camera, turns errors into text."""

    integration = DOMAIN
    if hasattr(llm, "ToolAnnotations"):
        annotations = llm.ToolAnnotations(read_only=True, destructive=False,
                                          idempotent=True, open_world=False)

    async def async_call(
        self, hass: HomeAssistant, tool_input: llm.ToolInput, llm_context: llm.LLMContext
    ) -> Any:
        entry = _loaded_entry(hass)
        if entry is None:
            return _error("HomeSec is not set up or its engine is not reachable")
        try:
            args = self.parameters(tool_input.tool_args)
        except vol.Invalid as err:
            path = ".".join(str(p) for p in err.path) or "arguments"
            return _error(f"{path}: {err.msg}")
        try:
            args[_CAMERA_FIELD] = camera_name(entry, args.get(_CAMERA_FIELD))
        except LookupError as err:
            known = ", ".join(entry.runtime_data.coordinator.camera_names) or "none"
            return _error(f"there is no camera named {err.args[0]}; cameras: {known}")
        try:
            return tool_result(await self.answer(entry, args))
        except HomeSecInputError as err:
            return _error(str(err))
        except HomeSecError as err:
            return _error(f"the HomeSec engine did not answer: {err}")

    async def answer(self, entry: HomeSecConfigEntry, args: dict[str, Any]) -> dict[str, Any]:
        raise NotImplementedError


class RecentEventsTool(HomeSecTool):
    """What happened lately, per camera, with the summaries."""

    name = f"{DOMAIN}__recent_events"
    title = "HomeSec recent events"
    description = (
        "The latest recorded events (newest first) of one camera or of all cameras, with "
        "what was seen and the summary. Use for 'what happened at the front door?'."
    )
    parameters = vol.Schema({
        _camera_param(): str,
        vol.Optional("limit", default=5, description="How many events (1-20)"):
            vol.All(int, vol.Range(min=1, max=MAX_RESULTS)),
    })

    async def answer(self, entry: HomeSecConfigEntry, args: dict[str, Any]) -> dict[str, Any]:
        query: ClipQuery = {"page_size": args["limit"]}
        if args[_CAMERA_FIELD]:
            query["camera"] = args[_CAMERA_FIELD]
        page = await entry.runtime_data.client.list_clips(query)
        now = dt_util.utcnow()
        return {"events": [_brief(clip, now) for clip in page["clips"]],
                "total_recorded": page["total"]}


class FindClipsTool(HomeSecTool):
    """Clips by camera, detected class, zone and time."""

    name = f"{DOMAIN}__find_clips"
    title = "HomeSec find clips"
    description = (
        "Finds recorded clips by camera, detected class (person, vehicle, animal, package), "
        "zone and time window (ISO 8601 times; local time when no offset is given). Use for "
        "'was there a car in the driveway last night?'."
    )
    parameters = vol.Schema({
        _camera_param(): str,
        vol.Optional("detected_class", description="What was detected"):
            vol.In(DETECTION_CLASSES),
        vol.Optional("activity_type", description="What happened"): vol.In(ACTIVITY_TYPES),
        vol.Optional("zone", description="A camera zone's name"): str,
        vol.Optional("since", description="From this time"): str,
        vol.Optional("until", description="Before this time"): str,
        vol.Optional("limit", default=10, description="How many clips (1-20)"):
            vol.All(int, vol.Range(min=1, max=MAX_RESULTS)),
    })

    async def answer(self, entry: HomeSecConfigEntry, args: dict[str, Any]) -> dict[str, Any]:
        query: ClipQuery = {"page_size": _PAGE_SIZE}
        if args[_CAMERA_FIELD]:
            query["camera"] = args[_CAMERA_FIELD]
        if "activity_type" in args:
            query["activity_type"] = args["activity_type"]
        if "since" in args:
            query["since"] = _iso_time(args["since"], "since")
        if "until" in args:
            query["until"] = _iso_time(args["until"], "until")
        found: list[Clip] = []
        for page_number in range(1, _SCAN_PAGES + 1):
            query["page"] = page_number
            page = await entry.runtime_data.client.list_clips(query)
            found += [c for c in page["clips"]
                      if _matches(c, args.get("detected_class"), args.get("zone"))]
            if len(found) >= args["limit"] or page_number * _PAGE_SIZE >= page["total"]:
                break
        now = dt_util.utcnow()
        return {"clips": [_brief(clip, now) for clip in found[: args["limit"]]],
                "count": len(found[: args["limit"]])}


def _iso_time(value: str, field: str) -> str:
    moment = dt_util.parse_datetime(value)
    if moment is None:
        raise HomeSecInputError(f"{field}: not an ISO 8601 time: {value}")
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt_util.get_default_time_zone())
    return dt_util.as_utc(moment).isoformat()


class HomeSecInputError(HomeSecError):
    """A tool argument the schema lets through but the engine could not use."""


class CameraStatusTool(HomeSecTool):
    """Whether cameras work, and their latest alert."""

    name = f"{DOMAIN}__camera_status"
    title = "HomeSec camera status"
    description = (
        "Whether one camera or every camera is online, offline, degraded or switched off, "
        "with its latest alert. Use for 'is the garage camera working?'."
    )
    parameters = vol.Schema({_camera_param(): str})

    async def answer(self, entry: HomeSecConfigEntry, args: dict[str, Any]) -> dict[str, Any]:
        coordinator = entry.runtime_data.coordinator
        now = dt_util.utcnow()
        cameras = []
        for name in coordinator.camera_names:
            if args[_CAMERA_FIELD] not in (None, name):
                continue
            camera = coordinator.camera(name)
            if camera is None:
                continue
            item: dict[str, Any] = {"camera": name,
                                    "state": camera_health(camera) if coordinator.last_update_success
                                    else "engine unreachable"}
            if heartbeat := camera.get("last_heartbeat"):
                item["last_seen"] = _when(str(heartbeat), now)
            if alert := camera.get("last_alert"):
                item["last_alert"] = {**_when(alert["timestamp"], now),
                                      "activity": alert.get("activity_type"),
                                      "summary": alert.get("summary")}
            cameras.append(item)
        return {"cameras": cameras}


TOOLS: Final[tuple[Callable[[], HomeSecTool], ...]] = (
    RecentEventsTool, FindClipsTool, CameraStatusTool)


@dataclass(slots=True)
class HomeSecTools:
    """What HA's `llm` platform protocol reads (its LLMTools: tools and a prompt); declared
    here so the integration does not depend on the `llm` integration older HA lacks."""

    tools: list[llm.Tool]
    prompt: str | None = None


@callback
def async_get_tools(
    hass: HomeAssistant, llm_context: llm.LLMContext, api_id: str
) -> HomeSecTools | None:
    """The HomeSec tools for HA's Assist API (None while HomeSec is not loaded)."""
    if _loaded_entry(hass) is None:
        return None
    return HomeSecTools(tools=[tool() for tool in TOOLS], prompt=PROMPT)


class HomeSecLLMAPI(llm.API):
    """The tools as their own LLM API, for a Home Assistant without the `llm` platform."""

    async def async_get_api_instance(self, llm_context: llm.LLMContext) -> llm.APIInstance:
        return llm.APIInstance(api=self, api_prompt=PROMPT, llm_context=llm_context,
                               tools=[tool() for tool in TOOLS])


@callback
def async_register_fallback_api(hass: HomeAssistant) -> None:
    """Register the HomeSec LLM API where HA has no `llm` integration to collect tools."""
    if importlib.util.find_spec("homeassistant.components.llm") is not None:
        return  # this HA collects the tools from the `llm` platform above
    if not any(api.id == DOMAIN for api in llm.async_get_apis(hass)):
        llm.async_register_api(hass, HomeSecLLMAPI(hass=hass, id=DOMAIN, name="HomeSec"))
