"""GET /api/v1/live-events: the recordings' events, newest first, per camera; bad input named."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from homesec_engine.records import ClipRecord, utcnow
from tests.engine_harness import RunningEngine

from .conftest import Api, assert_error, assert_valid


def _event(clip_id: str, camera: str, state: str) -> dict[str, object]:
    return {"clip_id": clip_id, "camera": camera, "state": state,
            "started_at": "2026-01-02T03:04:05Z", "ended_at": None, "duration_s": None,
            "detected_objects": ["person"], "zones": [], "objects": [], "activity_type": "person",
            "risk_level": "medium", "summary": None, "alerted": True,
            "snapshot_url": f"/api/v1/clips/{clip_id}/snapshot",
            "view_url": f"/api/v1/clips/{clip_id}/media", "end_reason": None}


async def test_events_are_listed_newest_first_and_by_camera(
    api: Api, engine: RunningEngine
) -> None:
    # Given two recordings with events on two cameras and one clip without an event
    repo = engine.runtime.repository
    now = utcnow()
    await repo.upsert_clip(ClipRecord(id="old", camera="front_door", created_at=now - timedelta(
        minutes=5), event=_event("old", "front_door", "ended"), event_state="ended"))
    await repo.upsert_clip(ClipRecord(id="new", camera="garage", created_at=now,
                                      event=_event("new", "garage", "active"),
                                      event_state="active"))
    await repo.upsert_clip(ClipRecord(id="quiet", camera="front_door", created_at=now))
    # When they are listed, all and then one camera's
    status, body, _ = await api.call("GET", "/live-events")
    status_one, one, _ = await api.call("GET", "/live-events", params={"camera": "front_door"})
    # Then the events come newest first, in the declared shape, and only those of the camera
    assert status == 200 and status_one == 200
    assert_valid("LiveEventList", body)
    assert [e["clip_id"] for e in body["events"]] == ["new", "old"]
    assert [e["clip_id"] for e in one["events"]] == ["old"]
    # And the clip itself carries its event
    _, clip, _ = await api.call("GET", "/clips/new")
    assert clip["event"]["state"] == "active"


async def test_a_bad_limit_is_refused_naming_the_field(api: Api) -> None:
    # When the limit is out of range
    status, body, _ = await api.call("GET", "/live-events", params={"limit": "0"})
    # Then the answer is 400 naming `limit`
    error = assert_error(status, body, 400, "VALIDATION_ERROR")
    assert any(e["path"] == "limit" for e in error["errors"]), error


async def test_the_pictures_link_answers_from_the_events_first_message(
    api: Api, engine: RunningEngine
) -> None:
    # Given a recording on which the live detector just confirmed a person (a real photo)
    import asyncio

    from homesec_engine.live.watch import Found
    from tests import realdata

    runtime = engine.runtime
    assert runtime.live is not None
    frame = realdata.skimage_photo("astronaut.png")
    with runtime.events.subscribe() as sub:
        runtime.live.recording("rec-pic", utcnow())
        runtime.live.found("front_door", Found("rec-pic", ["person"], ["person"], [], [], [],
                                               frame))
        # When the event's first message arrives
        while True:
            message = await asyncio.wait_for(sub.get(), timeout=10)
            if message["type"] == "event" and message["data"]["clip_id"] == "rec-pic":
                break
        started = message["data"]
        # Then its picture's link answers 200 with a JPEG at once, while the clip is still
        # being recorded (its video is not stored yet)
        status, body, resp = await api.call("GET", started["snapshot_url"].removeprefix(
            "/api/v1"))
    assert started["phase"] == "started"
    assert status == 200 and resp.headers["Content-Type"] == "image/jpeg"
    assert body[:2] == b"\xff\xd8"
    clip = await runtime.repository.get_clip("rec-pic")
    assert clip is not None and clip.storage_uri is None


async def test_a_clip_is_listed_while_recording_only_with_its_thumbnail_and_tier(
    api: Api, engine: RunningEngine, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a recording on which the live detector confirms a person, and a look at the clip
    # list at the moment its picture is being stored
    import asyncio

    from homesec_engine.live.watch import Found
    from tests import realdata

    runtime = engine.runtime
    assert runtime.live is not None
    storage_put = runtime.storage.put
    listed_while_storing: list[list[str]] = []

    async def clip_ids() -> list[str]:
        _, page, _ = await api.call("GET", "/clips", params={"camera": "front_door"})
        return [clip["id"] for clip in page["clips"]]

    async def put_looking_at_the_list(source: Any, key: str) -> Any:
        if key.startswith("rec-thumb"):
            listed_while_storing.append(await clip_ids())
        return await storage_put(source, key)

    monkeypatch.setattr(runtime.storage, "put", put_looking_at_the_list)
    with runtime.events.subscribe() as sub:
        runtime.live.recording("rec-thumb", utcnow())
        runtime.live.found("front_door", Found(
            "rec-thumb", ["person"], ["person"], [], [], [],
            realdata.skimage_photo("astronaut.png")))
        # When the event starts
        while True:
            message = await asyncio.wait_for(sub.get(), timeout=10)
            if message["type"] == "event" and message["data"]["clip_id"] == "rec-thumb":
                break
    # Then the clip was not listed before its picture was stored (the media browser would
    # show a "recording" item with a broken thumbnail, titled as the wrong tier)
    assert listed_while_storing == [[]]
    # And once listed it is a recording with its tier, and its thumbnail answers
    status, clip, _ = await api.call("GET", "/clips/rec-thumb")
    assert status == 200 and clip["event"]["state"] == "active" and clip["tier"] == "alert"
    status, _, resp = await api.call("GET", "/clips/rec-thumb/snapshot")
    assert status == 200 and resp.headers["Content-Type"] == "image/jpeg"
