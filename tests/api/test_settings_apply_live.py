"""Retention, the object filter's thresholds and the tracking settings changed through PATCH
/settings take effect in the running engine without a restart, seen in what it does: the next
clip of real footage is judged with the new threshold, the live event of a real RTSP camera
follows a new min_hits from its next frame, and a retention pass with the new keep time runs
at once. What cannot apply live (the model's threads) is named in the change's
`restart_fields`."""

from __future__ import annotations

import asyncio
import shutil
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from homesec_engine.events import Subscription
from homesec_engine.records import ClipFile, ClipQuery, ClipStatus, Detection
from tests.engine_harness import RunningEngine, running_engine
from tests.livestream import PersonStream, person_stream
from tests.videotools import RtspTestServer

CAMERA = "plaza"


@pytest.fixture(scope="module")
def plaza(tmp_path_factory: pytest.TempPathFactory) -> PersonStream:
    # Real footage: people walking across the plaza for 3 s.
    return person_stream(tmp_path_factory.mktemp("plaza"), empty_s=0.5, person_s=3.0,
                         after_s=0.5)


@pytest.fixture
async def engine(tmp_path: Path) -> AsyncIterator[RunningEngine]:
    # A camera judged by the shipped detector; retention's own passes an hour apart, so a
    # pass seen in the test is the one the change started.
    cameras = [{"name": CAMERA, "enabled": False, "source_backend": "demo",
                "source_config": {"interval_s": 3600}, "filter_backend": "detector"}]
    async with running_engine(tmp_path, cameras=cameras,
                              config={"retention": {"interval_s": 3600}}) as running:
        yield running


async def _patch(engine: RunningEngine, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    async with aiohttp.ClientSession() as session:
        async with session.patch(f"{engine.api}/settings", json=body) as resp:
            return resp.status, await resp.json()


async def _judge(engine: RunningEngine, plaza: PersonStream, tmp_path: Path, name: str,
                 started: datetime) -> list[str]:
    """A recording of the plaza through the engine's pipeline; the classes it kept."""
    pipeline = engine.runtime.pipeline
    assert pipeline is not None
    work = tmp_path / f"{name}.mp4"
    shutil.copy(plaza.path, work)
    out = await pipeline.process(ClipFile(CAMERA, work, started,
                                          started + timedelta(seconds=plaza.period_s)))
    clip = await engine.runtime.started_repository().get_clip(out.clip_id)
    assert clip is not None
    return list(clip.detected_objects or [])


async def test_a_raised_confidence_threshold_judges_the_next_clip_without_a_restart(
    engine: RunningEngine, plaza: PersonStream, tmp_path: Path
) -> None:
    # Given the engine sees the people walking across the plaza at its default threshold
    now = datetime.now(UTC)
    assert "person" in await _judge(engine, plaza, tmp_path, "before", now)
    # When the person threshold is raised above anything the detector gives, through the API
    status, result = await _patch(engine, {"filter": {"class_min_confidence": {"person": 1.0}}})
    # Then the change is applied at once, nothing waits for a restart
    assert status == 200, result
    assert result["restart_required"] is False and result["restart_fields"] == []
    # And the next recording of the same footage keeps no person
    assert "person" not in await _judge(engine, plaza, tmp_path, "after", now)
    # When it is lowered again, the next one keeps the people again
    status, result = await _patch(engine, {"filter": {"class_min_confidence": {"person": 0.5}}})
    assert status == 200 and result["restart_fields"] == []
    assert "person" in await _judge(engine, plaza, tmp_path, "again", now)


async def test_a_shorter_keep_time_deletes_old_clips_at_once_without_a_restart(
    engine: RunningEngine, plaza: PersonStream, tmp_path: Path
) -> None:
    # Given clips recorded three days ago and one today, kept 30 days (the default)
    now = datetime.now(UTC)
    for n in range(2):
        await _judge(engine, plaza, tmp_path, f"old{n}", now - timedelta(days=3, minutes=n))
    await _judge(engine, plaza, tmp_path, "today", now - timedelta(minutes=5))
    repository = engine.runtime.started_repository()
    clips, _ = await repository.list_clips(ClipQuery(camera=CAMERA, limit=10))
    assert len(clips) == 3
    # When every clip is to be kept one day only, through the API
    status, result = await _patch(engine, {"retention": {"keep_days": 1.0,
                                                         "alerted_keep_days": 1.0}})
    assert status == 200, result
    assert result["restart_required"] is False and result["restart_fields"] == []

    # Then a retention pass with the new keep time runs at once (the next regular one is an
    # hour away): the old clips go, today's stays
    async def kept() -> list[str]:
        found, _ = await repository.list_clips(ClipQuery(camera=CAMERA, limit=10))
        return [c.created_at.date().isoformat() for c in found]

    for _ in range(100):
        if len(await kept()) == 1:
            break
        await asyncio.sleep(0.1)
    assert await kept() == [(now - timedelta(minutes=5)).date().isoformat()]
    assert engine.runtime.retention is not None
    assert engine.runtime.retention.config["keep_days"] == 1.0


async def test_new_tracking_settings_reach_a_tracker_made_before_the_change(
    engine: RunningEngine,
) -> None:
    # Given a camera's tracker, made by its filter before the change (as a live camera's is)
    tracker = engine.runtime.filter_for(CAMERA).tracker()
    # When at most one object is to be followed per camera, through the API
    status, result = await _patch(engine, {"tracking": {"max_tracks": 1}})
    # Then it applies at once
    assert status == 200 and result["restart_fields"] == [], result
    # And that tracker follows one of two people in its next frame, the other counted as
    # left out
    people = [Detection("person", 0.9, box=(0.1, 0.2, 0.1, 0.3)),
              Detection("person", 0.9, box=(0.6, 0.2, 0.1, 0.3))]
    tracker.update(people, 0.0)
    assert tracker.status()["dropped_detections"] == 1
    # When a tracking value is out of range Then the answer names the field
    status, result = await _patch(engine, {"tracking": {"max_tracks": 0}})
    assert status == 400 and "tracking.max_tracks" in str(result)
    assert tracker.settings.max_tracks == 1


async def test_what_waits_for_a_restart_is_named_and_bad_values_are_refused(
    engine: RunningEngine,
) -> None:
    # When the model's inference threads and a threshold change together
    status, result = await _patch(engine, {"filter": {"threads": 1, "min_confidence": 0.6}})
    # Then only the threads wait for a restart (the model is loaded once), the threshold is
    # in use at once
    assert status == 200, result
    assert result["restart_required"] is True
    assert result["restart_fields"] == ["filter.threads"]
    assert engine.runtime.filter_for(CAMERA).min_confidence == 0.6
    # When a threshold is out of range, the answer names the field and nothing changes
    status, result = await _patch(engine, {"filter": {"min_confidence": 2}})
    assert status == 400
    assert "filter.min_confidence" in str(result)
    assert engine.runtime.filter_for(CAMERA).min_confidence == 0.6



async def _next_clip_done(engine: RunningEngine, after: set[str]) -> str:
    """The id of the next clip of the plaza camera, once it is judged and stored."""
    repository = engine.runtime.started_repository()
    async with asyncio.timeout(90):
        while True:
            clips, _ = await repository.list_clips(ClipQuery(camera=CAMERA, limit=50))
            done = [c for c in clips if c.id not in after and c.status == ClipStatus.DONE]
            if done:
                return done[-1].id
            await asyncio.sleep(0.2)


async def _started_events(live: Subscription, seen: list[dict[str, Any]]) -> set[str]:
    """The clips whose live event started, from what was pushed so far."""
    while not live.queue.empty():
        seen.append(live.queue.get_nowait())
    return {m["data"]["clip_id"] for m in seen
            if m["type"] == "event" and m["data"]["phase"] == "started"}


@pytest.fixture(scope="module")
def passing_people(tmp_path_factory: pytest.TempPathFactory) -> PersonStream:
    # Real footage, looped by the camera: 3 s of the empty plaza, people walking for 3 s
    # (about 15 live looks at 5 frames a second), 6 s empty again.
    return person_stream(tmp_path_factory.mktemp("passing"), empty_s=3.0, person_s=3.0,
                         after_s=6.0)


async def test_a_new_min_hits_applies_to_the_live_camera_from_its_next_frame(
    tmp_path: Path, passing_people: PersonStream
) -> None:
    # Given a real RTSP camera looping people walking across the plaza, live events at the
    # default min_hits
    plaza = passing_people
    with RtspTestServer(plaza.path, loop=True) as server:
        cameras = [{"name": CAMERA, "source_backend": "rtsp", "source_config": {
            "url": server.url, "pre_roll_s": 1, "post_roll_s": 1, "min_motion_s": 0.3,
            "live_fps": 5}}]
        async with running_engine(tmp_path, cameras=cameras, run_sources=True) as engine:
            seen: list[dict[str, Any]] = []
            with engine.runtime.events.subscribe() as live:
                first = await _next_clip_done(engine, set())
                assert first in await _started_events(live, seen)
                # When a person must be seen in 30 looks before it counts, through the API
                status, result = await _patch(engine, {"filter": {"min_hits": 30}})
                assert status == 200 and result["restart_fields"] == [], result
                # Then the camera's next pass of people, recorded as usual, starts no live
                # event (its tracker is the one it had; no restart)
                known = {first}
                strict = await _next_clip_done(engine, known)
                known.add(strict)
                if strict in await _started_events(live, seen):  # recording at the change
                    strict = await _next_clip_done(engine, known)
                    known.add(strict)
                assert strict not in await _started_events(live, seen)
                clip = await engine.runtime.started_repository().get_clip(strict)
                assert clip is not None and (clip.duration_s or 0) > plaza.person_s / 2
                # When two looks are enough again Then the next people start a live event
                status, result = await _patch(engine, {"filter": {"min_hits": 2}})
                assert status == 200 and result["restart_fields"] == [], result
                again = await _next_clip_done(engine, known)
                known.add(again)
                if again not in await _started_events(live, seen):  # recording at the change
                    again = await _next_clip_done(engine, known)
                assert again in await _started_events(live, seen)


async def test_a_cameras_own_keep_time_changed_through_the_camera_api_applies_at_once(
    tmp_path: Path, plaza: PersonStream
) -> None:
    # Given two cameras with clips recorded three days ago and today, every clip kept 30 days
    cameras = [{"name": name, "enabled": False, "source_backend": "demo",
                "source_config": {"interval_s": 3600}, "filter_backend": "detector"}
               for name in (CAMERA, "yard")]
    async with running_engine(tmp_path, cameras=cameras,
                              config={"retention": {"interval_s": 3600}}) as engine:
        pipeline = engine.runtime.pipeline
        assert pipeline is not None
        now = datetime.now(UTC)
        for camera in (CAMERA, "yard"):
            for name, when in (("old", now - timedelta(days=3)),
                               ("today", now - timedelta(minutes=5))):
                work = tmp_path / f"{camera}-{name}.mp4"
                shutil.copy(plaza.path, work)
                await pipeline.process(ClipFile(camera, work, when,
                                                when + timedelta(seconds=plaza.period_s)))
        repository = engine.runtime.started_repository()

        async def kept(camera: str) -> list[str]:
            found, _ = await repository.list_clips(ClipQuery(camera=camera, limit=10))
            return sorted(c.created_at.date().isoformat() for c in found)

        assert len(await kept(CAMERA)) == 2 and len(await kept("yard")) == 2
        # When the plaza camera alone is to keep its clips one day, through the camera API
        async with aiohttp.ClientSession() as session:
            async with session.put(f"{engine.api}/cameras/{CAMERA}", json={
                    "retention": {"keep_days": 1.0, "alerted_keep_days": 1.0}}) as resp:
                status, result = resp.status, await resp.json()
        # Then nothing waits for a restart, and the camera shows its own keep times
        assert status == 200, result
        assert result["restart_required"] is False and result["restart_fields"] == []
        assert result["camera"]["retention"] == {"keep_days": 1.0, "alerted_keep_days": 1.0}
        # And a retention pass runs at once (the next regular one is an hour away): the
        # plaza's old clip goes, the yard keeps both of its clips
        for _ in range(100):
            if len(await kept(CAMERA)) == 1:
                break
            await asyncio.sleep(0.1)
        assert await kept(CAMERA) == [(now - timedelta(minutes=5)).date().isoformat()]
        assert len(await kept("yard")) == 2
        # When the camera's own keep times are dropped (null) Then it follows the global ones
        async with aiohttp.ClientSession() as session:
            async with session.put(f"{engine.api}/cameras/{CAMERA}",
                                   json={"retention": None}) as resp:
                assert resp.status == 200
                assert (await resp.json())["camera"]["retention"] is None
        # When a keep time is out of range Then the answer names the field, nothing changes
        async with aiohttp.ClientSession() as session:
            async with session.put(f"{engine.api}/cameras/yard",
                                   json={"retention": {"keep_days": 0}}) as resp:
                assert resp.status == 400
                assert "retention.keep_days" in await resp.text()
        assert len(await kept("yard")) == 2
