"""The media browser in real HA core against a real engine: a clip's caption carries its tier
(alert or detection), and the clip still being recorded shows its event's stored snapshot as
its thumbnail before its video exists."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import numpy as np
import pytest

from homeassistant.components import media_source
from homeassistant.core import HomeAssistant
from homeassistant.util import dt as dt_util
from pytest_homeassistant_custom_component.common import MockConfigEntry
from pytest_homeassistant_custom_component.typing import ClientSessionGenerator

from custom_components.homesec.media_source import day_bounds
from homesec_engine.live.watch import Found
from homesec_engine.records import ClipRecord, Detection
from tests.e2e.ha_harness import engine_for_ha
from tests.engine_harness import RunningEngine
from tests.integration.test_media_source import entry  # noqa: F401 - the same HA set-up
from tests.integration.test_views import on_this_server

ROOT = "media-source://homesec"
PERSON = [{"class": "person", "count": 1, "confidence": 0.9, "boxes": []}]
FOX = [{"class": "animal", "count": 1, "confidence": 0.8, "boxes": []}]


@pytest.fixture
async def engine(tmp_path: Path) -> AsyncIterator[RunningEngine]:
    async with engine_for_ha(tmp_path, api_key="tier-key") as eng:
        repo = eng.runtime.repository
        start = day_bounds(dt_util.now().date())[0]
        # A person at the door that alerted, a fox that was only a detection, and a quiet
        # clip where nothing of a trigger class moved (a parked car)
        await repo.upsert_clip(ClipRecord(
            id="courier", camera="front_door", status="done", alerted=True,
            created_at=start + timedelta(seconds=1), activity_type="person", objects=PERSON))
        await repo.upsert_clip(ClipRecord(
            id="fox", camera="front_door", status="done", alerted=False,
            created_at=start + timedelta(seconds=2), activity_type="animal", objects=FOX))
        await repo.upsert_clip(ClipRecord(
            id="parked", camera="front_door", status="done", alerted=False,
            created_at=start + timedelta(seconds=3), activity_type="other",
            objects=[{"class": "vehicle", "count": 0, "stationary": 1, "confidence": 0.7,
                      "boxes": []}]))
        yield eng


async def _today(hass: HomeAssistant,
                 entry: MockConfigEntry) -> dict[str, media_source.BrowseMediaSource]:
    day = dt_util.now().date().isoformat()
    node = await media_source.async_browse_media(
        hass, f"{ROOT}/{entry.entry_id}/front_door/day/{day}/1")
    return {c.media_content_id.rsplit("/", 1)[-1]: c for c in node.children or []}


async def test_captions_say_whether_a_clip_was_an_alert_or_a_detection(
    hass: HomeAssistant, entry: MockConfigEntry
) -> None:
    # When the user browses today's clips of the front door
    clips = await _today(hass, entry)
    # Then the courier is an alert, the fox a detection, and the parked car neither
    assert clips["courier"].title.endswith("person (alert)"), clips["courier"].title
    assert clips["fox"].title.endswith("animal (detection)"), clips["fox"].title
    assert "(" not in clips["parked"].title, clips["parked"].title


async def test_the_clip_being_recorded_shows_its_events_snapshot(
    hass: HomeAssistant, entry: MockConfigEntry, engine: RunningEngine,
    hass_client_no_auth: ClientSessionGenerator,
) -> None:
    # Given a person confirmed on a live frame of the front door's recording (the engine's
    # own event owner: the clip's row and its snapshot are written, the video is not yet)
    frame = np.zeros((240, 320, 3), dtype=np.uint8)
    frame[60:200, 140:180] = (200, 120, 80)
    person = Detection("person", 0.9, 0, (0.43, 0.25, 0.13, 0.58))
    events = engine.runtime.live
    assert events is not None
    with engine.runtime.events.subscribe() as sub:
        events.found("front_door", Found(
            clip_id="recording-now", classes=["person"], active=["person"], zones=[],
            objects=PERSON, detections=[person], rgb=frame))
        async with asyncio.timeout(20):
            while (await sub.get())["type"] != "event":
                pass
    # When the user browses today's clips
    clips = await _today(hass, entry)
    # Then the clip being recorded is listed and says so, with what was seen so far
    live = clips["recording-now"]
    assert live.title.endswith("person (alert) · recording"), live.title
    # And its thumbnail is the event's stored snapshot: a JPEG, through a signed URL
    assert live.thumbnail and "homesec_sig=" in live.thumbnail
    client = await hass_client_no_auth()
    resp = await client.get(on_this_server(live.thumbnail))
    assert resp.status == 200 and resp.content_type == "image/jpeg"
    body = await resp.read()
    assert body[:2] == b"\xff\xd8" and len(body) > 500
    # And once the event is over (here the stream was lost), it no longer says recording
    with engine.runtime.events.subscribe() as sub:
        events.closed("front_door", "recording-now", True)
        async with asyncio.timeout(20):
            while (await sub.get())["data"].get("phase") != "interrupted":
                pass
    clips = await _today(hass, entry)
    assert not clips["recording-now"].title.endswith("recording"), clips["recording-now"].title
