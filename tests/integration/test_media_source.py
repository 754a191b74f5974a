"""Browsing and playing clips in HA's media browser, with a few hundred clips in the engine."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import date, timedelta
from pathlib import Path

import pytest

from homeassistant.components import media_source
from homeassistant.components.media_player.errors import BrowseError
from homeassistant.components.media_source import Unresolvable
from homeassistant.core import HomeAssistant
from homeassistant.helpers import device_registry as dr
from homeassistant.setup import async_setup_component
from homeassistant.util import dt as dt_util
from pytest_homeassistant_custom_component.common import MockConfigEntry
from pytest_homeassistant_custom_component.typing import ClientSessionGenerator

from custom_components.homesec.const import DOMAIN
from custom_components.homesec.media_source import day_bounds
from homesec_engine.records import ClipRecord
from tests.e2e.ha_harness import engine_for_ha, homesec_entry
from tests.engine_harness import RunningEngine
from tests.integration.test_views import store_clip
from tests.videotools import Segment, make_motion_video

ROOT = "media-source://homesec"
# front_door: 120 clips today, 130 yesterday, 10 three days ago, 5 twenty days ago.
PLAN = {0: 120, 1: 130, 3: 10, 20: 5}


def _today() -> date:
    """Today in HA's time zone (set by the hass fixture, so not at import time)."""
    return dt_util.now().date()


def _clip_id(days_ago: int, index: int) -> str:
    return f"d{days_ago:02d}-{index:03d}"


@pytest.fixture
async def engine(tmp_path: Path) -> AsyncIterator[RunningEngine]:
    async with engine_for_ha(tmp_path, api_key="media-key") as eng:
        repo = eng.runtime.repository
        for days_ago, count in PLAN.items():
            start = day_bounds(_today() - timedelta(days=days_ago))[0]
            for index in range(count):
                await repo.upsert_clip(ClipRecord(
                    id=_clip_id(days_ago, index), camera="front_door", status="done",
                    created_at=start + timedelta(seconds=30 * index + 1),
                    activity_type="person", risk_level="low",
                ))
        for index in range(3):
            await repo.upsert_clip(ClipRecord(
                id=f"garage-{index}", camera="garage", status="done",
                created_at=day_bounds(_today())[0] + timedelta(minutes=index),
            ))
        video = await asyncio.to_thread(
            make_motion_video, tmp_path / "v.mp4", [Segment(0.1, 0.5)], 0.6
        )
        await store_clip(eng, tmp_path, "playable", "garage", video,
                         created_at=day_bounds(_today())[0] + timedelta(hours=1))
        yield eng


@pytest.fixture
async def entry(hass: HomeAssistant, engine: RunningEngine) -> AsyncIterator[MockConfigEntry]:
    assert await async_setup_component(hass, "media_source", {})
    async with homesec_entry(hass, engine) as loaded:
        yield loaded


def _day_title(days_ago: int) -> str:
    return f"{(_today() - timedelta(days=days_ago)).isoformat()} ({PLAN[days_ago]})"


async def test_browse_cameras_days_and_clips_page_by_page(
    hass: HomeAssistant, entry: MockConfigEntry
) -> None:
    client = entry.runtime_data.client
    # When the user opens HomeSec in the media browser
    root = await media_source.async_browse_media(hass, ROOT)
    # Then every camera is a folder, titled with its device's name
    assert [c.title for c in root.children] == ["Front door", "Garage"]

    # When they open front_door
    before = client.request_count
    camera = await media_source.async_browse_media(hass, root.children[0].media_content_id)
    # Then the days with clips are listed newest first with their counts, and older days
    # behind one more entry (one small count query per day shown, not a listing of clips)
    titles = [c.title for c in camera.children]
    assert titles == [_day_title(0), _day_title(1), _day_title(3), "Older days"]
    assert client.request_count - before == 15

    older = await media_source.async_browse_media(hass, camera.children[-1].media_content_id)
    assert [c.title for c in older.children] == [_day_title(20)]

    # When they open today: 50 clips per page, newest first, and a "More clips" entry
    today = await media_source.async_browse_media(hass, camera.children[0].media_content_id)
    clips = [c for c in today.children if c.can_play]
    assert len(clips) == 50
    assert today.children[-1].title == "More clips" and today.children[-1].can_expand
    assert clips[0].media_content_id.endswith(f"/clip/{_clip_id(0, 119)}")
    assert all(c.media_content_type == "video/mp4" for c in clips)
    assert all("/snapshot?homesec_exp=" in (c.thumbnail or "") for c in clips)
    # And following "More clips" twice reaches the last 20 clips and the end
    page2 = await media_source.async_browse_media(hass, today.children[-1].media_content_id)
    page3 = await media_source.async_browse_media(hass, page2.children[-1].media_content_id)
    assert [c.title for c in page3.children if not c.can_play] == []
    assert len(page3.children) == 20
    assert page3.children[-1].media_content_id.endswith(f"/clip/{_clip_id(0, 0)}")
    seen = {c.media_content_id for p in (today, page2, page3) for c in p.children if c.can_play}
    assert len(seen) == 120


async def test_a_day_only_shows_that_days_clips(
    hass: HomeAssistant, entry: MockConfigEntry
) -> None:
    # When the user opens yesterday's clips of front_door
    day = (_today() - timedelta(days=1)).isoformat()
    page = await media_source.async_browse_media(
        hass, f"{ROOT}/{entry.entry_id}/front_door/day/{day}/3"
    )
    # Then page 3 holds clips 30..0 of yesterday and nothing of other days or cameras
    ids = [c.media_content_id.rsplit("/", 1)[1] for c in page.children if c.can_play]
    assert ids == [_clip_id(1, i) for i in range(29, -1, -1)]


async def test_play_a_clip_through_a_signed_url(
    hass: HomeAssistant, entry: MockConfigEntry, hass_client_no_auth: ClientSessionGenerator,
    tmp_path: Path,
) -> None:
    # Given the playable clip in garage's today folder
    garage_today = await media_source.async_browse_media(
        hass, f"{ROOT}/{entry.entry_id}/garage/day/{_today().isoformat()}/1"
    )
    playable = next(c for c in garage_today.children if c.media_content_id.endswith("playable"))
    # When the browser resolves it
    media = await media_source.async_resolve_media(hass, playable.media_content_id, None)
    # Then it gets a signed, expiring MP4 URL that plays without a login
    assert media.mime_type == "video/mp4"
    assert "homesec_sig=" in media.url and "homesec_exp=" in media.url
    client = await hass_client_no_auth()
    resp = await client.get(media.url)
    assert resp.status == 200
    assert await resp.read() == await asyncio.to_thread((tmp_path / "v.mp4").read_bytes)
    # And the same path without its signature does not play
    assert (await client.get(media.url.split("?")[0])).status == 401


async def test_unknown_items_are_refused(hass: HomeAssistant, entry: MockConfigEntry) -> None:
    with pytest.raises(BrowseError):
        await media_source.async_browse_media(hass, f"{ROOT}/{entry.entry_id}/x/y/z")
    with pytest.raises(BrowseError):
        await media_source.async_browse_media(hass, f"{ROOT}/not-an-entry/front_door")
    with pytest.raises(Unresolvable):
        await media_source.async_resolve_media(hass, f"{ROOT}/{entry.entry_id}/front_door", None)


def test_day_bounds_follow_home_assistants_time_zone() -> None:
    # Given HA's time zone US/Pacific, where 2026-03-08 has only 23 hours (DST starts)
    previous = dt_util.get_default_time_zone()
    dt_util.set_default_time_zone(dt_util.get_time_zone("US/Pacific"))
    try:
        start, end = day_bounds(date(2026, 3, 8))
    finally:
        dt_util.set_default_time_zone(previous)
    # Then the day runs from local midnight to local midnight: 23 real hours
    assert dt_util.as_utc(end) - dt_util.as_utc(start) == timedelta(hours=23)
    pacific = dt_util.get_time_zone("US/Pacific")
    assert start.astimezone(pacific).hour == 0 and end.astimezone(pacific).hour == 0


async def test_folders_follow_the_device_name_and_captions_stay_short(
    hass: HomeAssistant, entry: MockConfigEntry
) -> None:
    # Given the user renamed the front door camera's device to "Porch"
    registry = dr.async_get(hass)
    device = next(d for d in dr.async_entries_for_config_entry(registry, entry.entry_id)
                  if (DOMAIN, f"{entry.entry_id}_front_door") in d.identifiers)
    registry.async_update_device(device.id, name_by_user="Porch")
    # When they browse HomeSec
    root = await media_source.async_browse_media(hass, ROOT)
    porch = await media_source.async_browse_media(hass, root.children[0].media_content_id)
    today = await media_source.async_browse_media(hass, porch.children[0].media_content_id)
    # Then the folders carry the name they gave it
    assert [c.title for c in root.children] == ["Porch", "Garage"]
    assert porch.title == "Porch"
    assert today.title == f"Porch {_today().isoformat()}"
    # And a clip's caption is its time and what happened, short enough for a card
    caption = today.children[0].title
    assert caption.endswith(" person") and len(caption) <= 16, caption
