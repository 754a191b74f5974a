"""Assist tools (`homesec__*`) through HA's LLM API: the tools a conversation agent is handed
for the built-in Assist API, called as an agent calls them, answering from the real engine."""

from __future__ import annotations

import importlib.util
from datetime import datetime, timedelta
from types import SimpleNamespace
from typing import Any

import pytest

from homeassistant.core import Context, HomeAssistant
from homeassistant.helpers import llm
from homeassistant.setup import async_setup_component
from homeassistant.util import dt as dt_util
from pytest_homeassistant_custom_component.common import MockConfigEntry

from homesec_engine.records import ClipRecord
from tests.engine_harness import RunningEngine

# HA with the `llm` integration collects the tools into its Assist API; older HA gets them
# as the separate "homesec" LLM API.
HAS_LLM_PLATFORM = importlib.util.find_spec("homeassistant.components.llm") is not None
API_ID = llm.LLM_API_ASSIST if HAS_LLM_PLATFORM else "homesec"


def _person(count: int = 1) -> dict[str, Any]:
    return {"class": "person", "count": count, "confidence": 0.9, "boxes": []}


def _vehicle() -> dict[str, Any]:
    return {"class": "vehicle", "count": 1, "confidence": 0.8, "boxes": []}


def _clips(now: datetime) -> list[ClipRecord]:
    """Three front-door clips and one garage clip, aged relative to `now` (the test's own
    start, so a slow collection does not age them)."""
    return [
        ClipRecord(id="fd-old", camera="front_door", status="done",
                   created_at=now - timedelta(hours=30), activity_type="delivery",
                   summary="A courier leaves a parcel on the step", alerted=True,
                   objects=[_person()], zones=["porch"]),
        ClipRecord(id="fd-new", camera="front_door", status="done",
                   created_at=now - timedelta(minutes=12), activity_type="person",
                   risk_level="medium", summary="Two people ring the bell and wait",
                   alerted=True, objects=[_person(2)], zones=["porch"]),
        ClipRecord(id="fd-car", camera="front_door", status="done",
                   created_at=now - timedelta(hours=3), activity_type="vehicle",
                   summary="A car parks in the driveway", objects=[_vehicle()],
                   zones=["driveway"]),
        ClipRecord(id="garage-1", camera="garage", status="done",
                   created_at=now - timedelta(minutes=5), activity_type="animal",
                   summary="A cat crosses the floor"),
    ]


@pytest.fixture
def now() -> datetime:
    return dt_util.utcnow()


@pytest.fixture
async def entry(
    hass: HomeAssistant, engine: RunningEngine, loaded_entry: MockConfigEntry, now: datetime
) -> MockConfigEntry:
    """HomeSec loaded against the engine holding the clips, next to HA's llm integration."""
    for clip in _clips(now):
        await engine.runtime.repository.upsert_clip(clip)
    if HAS_LLM_PLATFORM:
        assert await async_setup_component(hass, "llm", {})
    return loaded_entry


def _context() -> llm.LLMContext:
    return llm.LLMContext(platform="test_agent", context=Context(), language="en",
                          assistant="conversation", device_id=None)


async def _assist(hass: HomeAssistant) -> llm.APIInstance:
    return await llm.async_get_api(hass, API_ID, _context())


async def _call(hass: HomeAssistant, tool: str, **args: Any) -> Any:
    """Call a tool as a conversation agent does, through the API instance; older HA answers
    with the data itself, newer HA wraps it in a ToolResult (read as .data / .error)."""
    api = await _assist(hass)
    result = await api.async_call_tool(llm.ToolInput(tool_name=tool, tool_args=args))
    if isinstance(result, dict):
        return SimpleNamespace(data=result, error="error" in result)
    return result


@pytest.mark.usefixtures("entry")
async def test_assist_is_handed_the_homesec_tools_and_how_to_answer(
    hass: HomeAssistant,
) -> None:
    # Given HomeSec loaded (next to HA's llm integration where HA has it)
    # When a conversation agent asks for the Assist API (older HA: the HomeSec API)
    api = await _assist(hass)
    # Then it gets the three HomeSec tools, prefixed with the domain and read-only
    ours = {tool.name: tool for tool in api.tools if tool.name.startswith("homesec__")}
    assert set(ours) == {"homesec__recent_events", "homesec__find_clips",
                         "homesec__camera_status"}
    if HAS_LLM_PLATFORM:
        assert all(tool.annotations.read_only for tool in ours.values())
    # And their parameters convert to the JSON schema an LLM is sent
    find = ours["homesec__find_clips"]
    assert set(find.parameters.schema) >= {"camera", "detected_class", "zone", "since"}
    # And the prompt tells the model to answer briefly from the tools' data
    assert "homesec__" in api.api_prompt and "short" in api.api_prompt


@pytest.mark.usefixtures("entry")
async def test_what_happened_at_the_front_door(hass: HomeAssistant) -> None:
    # Given three clips of the front door and one of the garage
    # When Assist asks for the front door's recent events, naming it as a person would
    result = await _call(hass, "homesec__recent_events", camera="Front door", limit=2)
    # Then it gets the newest two, newest first, each with when and what, and only those
    assert not result.error
    events = result.data["events"]
    assert [e["summary"] for e in events] == [
        "Two people ring the bell and wait", "A car parks in the driveway"]
    assert events[0]["minutes_ago"] in (11, 12, 13)
    assert events[0]["classes"] == ["person"] and events[0]["zones"] == ["porch"]
    assert events[0]["camera"] == "front_door"
    assert result.data["total_recorded"] == 3


@pytest.mark.usefixtures("entry")
async def test_find_clips_by_class_zone_and_time(hass: HomeAssistant, now: datetime) -> None:
    # When Assist looks for vehicles in the driveway today
    since = (now - timedelta(hours=6)).isoformat()
    cars = await _call(hass, "homesec__find_clips", detected_class="vehicle",
                       zone="driveway", since=since)
    # Then it finds the one car
    assert [c["clip_id"] for c in cars.data["clips"]] == ["fd-car"]
    # When it looks for people on the porch in the last day only
    people = await _call(hass, "homesec__find_clips", camera="front_door",
                         detected_class="person", zone="porch", since=since)
    # Then yesterday's delivery is left out
    assert [c["clip_id"] for c in people.data["clips"]] == ["fd-new"]
    # When nothing matches, it says so with an empty list rather than guessing
    none = await _call(hass, "homesec__find_clips", detected_class="package")
    assert none.data == {"clips": [], "count": 0}


@pytest.mark.usefixtures("entry")
async def test_camera_status(hass: HomeAssistant) -> None:
    # When Assist asks whether the cameras work
    result = await _call(hass, "homesec__camera_status")
    # Then it hears the engine's states: the front door offline (its source is not started
    # in this engine, so it sends no frames), the garage switched off
    states = {c["camera"]: c["state"] for c in result.data["cameras"]}
    assert states == {"front_door": "offline", "garage": "disabled"}
    # When it asks about one camera by its spoken name
    one = await _call(hass, "homesec__camera_status", camera="garage camera")
    # Then only that camera is in the answer
    assert [c["camera"] for c in one.data["cameras"]] == ["garage"]


@pytest.mark.usefixtures("entry")
async def test_bad_arguments_and_unknown_cameras_are_explained(hass: HomeAssistant) -> None:
    # When the model names a camera that does not exist
    result = await _call(hass, "homesec__recent_events", camera="backyard")
    # Then the tool answers with an error that lists the cameras there are
    assert result.error
    assert "backyard" in result.data["error"]
    assert "front_door" in result.data["error"] and "garage" in result.data["error"]
    # When it sends a limit out of range or a time that is not one
    too_many = await _call(hass, "homesec__recent_events", limit=500)
    bad_time = await _call(hass, "homesec__find_clips", since="last tuesday")
    # Then each error names the argument
    assert too_many.error and too_many.data["error"].startswith("limit")
    assert bad_time.error and bad_time.data["error"].startswith("since")
