"""The signed media view: phones open alert snapshots and clips without a login; nothing else."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from homeassistant.core import HomeAssistant
from homeassistant.helpers import issue_registry as ir
from pytest_homeassistant_custom_component.common import MockConfigEntry
from pytest_homeassistant_custom_component.typing import ClientSessionGenerator

from custom_components.homesec.views import async_sign_url, async_signed_alert_urls, media_path
from homesec_engine.records import ClipRecord
from tests.e2e.ha_harness import engine_for_ha, homesec_entry
from tests.engine_harness import RunningEngine
from tests.videotools import Segment, make_motion_video

SNAPSHOT = b"\xff\xd8\xff\xe0 a jpeg snapshot of clip-a \xff\xd9"


async def store_clip(engine: RunningEngine, tmp_path: Path, clip_id: str, camera: str,
                     video: Path, created_at: datetime | None = None, **fields: Any) -> None:
    """Put a real clip (video + snapshot files, clip row) into the engine."""
    snapshot = tmp_path / f"{clip_id}.jpg"
    await asyncio.to_thread(snapshot.write_bytes, SNAPSHOT)
    uri = await engine.runtime.storage.put(video, f"{camera}/{clip_id}.mp4")
    await engine.runtime.storage.put(snapshot, f"{camera}/{clip_id}.jpg")
    await engine.runtime.repository.upsert_clip(ClipRecord(
        id=clip_id, camera=camera, status="done", storage_uri=uri,
        created_at=created_at or datetime.now(UTC), **fields,
    ))


def on_this_server(url: str) -> str:
    """The path+query of an absolute HA URL (the test client talks to HA itself)."""
    parts = urlsplit(url)
    return f"{parts.path}?{parts.query}"


@pytest.fixture
async def video(tmp_path: Path) -> Path:
    return await asyncio.to_thread(
        make_motion_video, tmp_path / "clip.mp4", [Segment(0.2, 0.8)], 1.0
    )


@pytest.fixture
async def engine(tmp_path: Path, video: Path) -> AsyncIterator[RunningEngine]:
    async with engine_for_ha(tmp_path, api_key="views-key") as eng:
        await store_clip(eng, tmp_path, "clip-a", "front_door", video)
        await store_clip(eng, tmp_path, "clip-b", "front_door", video)
        yield eng


@pytest.fixture
async def entry(hass: HomeAssistant, engine: RunningEngine) -> AsyncIterator[MockConfigEntry]:
    async with homesec_entry(hass, engine) as loaded:
        yield loaded


async def test_alert_urls_open_without_a_login(
    hass: HomeAssistant, entry: MockConfigEntry, video: Path,
    hass_client_no_auth: ClientSessionGenerator,
) -> None:
    # Given the signed URLs of an alert (as a notification carries them)
    urls = async_signed_alert_urls(hass, entry.entry_id, "clip-a")
    client = await hass_client_no_auth()
    # Then they are absolute links to Home Assistant (a phone can open them as they are)
    assert urls["snapshot_url"].startswith("http://10.10.10.10:8123/api/homesec/media/")
    # When a phone without an HA login opens them
    snap = await client.get(on_this_server(urls["snapshot_url"]))
    clip = await client.get(on_this_server(urls["clip_url"]))
    # Then it gets the snapshot and the whole video from the engine
    assert snap.status == 200 and snap.content_type == "image/jpeg"
    assert await snap.read() == SNAPSHOT
    assert clip.status == 200 and clip.content_type == "video/mp4"
    assert await clip.read() == await asyncio.to_thread(video.read_bytes)


async def test_range_requests_pass_through_for_seeking(
    hass: HomeAssistant, entry: MockConfigEntry, video: Path,
    hass_client_no_auth: ClientSessionGenerator,
) -> None:
    # Given a signed clip URL
    url = on_this_server(async_signed_alert_urls(hass, entry.entry_id, "clip-a")["clip_url"])
    client = await hass_client_no_auth()
    data = await asyncio.to_thread(video.read_bytes)
    # When the player asks for a byte range
    resp = await client.get(url, headers={"Range": "bytes=100-299"})
    # Then it gets exactly those bytes as a partial answer
    assert resp.status == 206
    assert resp.headers["Content-Range"] == f"bytes 100-299/{len(data)}"
    assert await resp.read() == data[100:300]


async def test_unsigned_tampered_and_expired_urls_are_refused(
    hass: HomeAssistant, entry: MockConfigEntry, hass_client_no_auth: ClientSessionGenerator,
) -> None:
    client = await hass_client_no_auth()
    path = media_path(entry.entry_id, "clip-a", "snapshot")
    good = async_sign_url(hass, path, timedelta(minutes=5))
    query = good.split("?", 1)[1]
    sig = query.split("homesec_sig=")[1]
    exp = int(query.split("homesec_exp=")[1].split("&")[0])
    refused = {
        # no signature at all
        "unsigned": (path, 401),
        # a valid signature moved to another clip, or to the other kind
        "other clip": (media_path(entry.entry_id, "clip-b", "snapshot") + "?" + query, 401),
        "other kind": (media_path(entry.entry_id, "clip-a", "clip") + "?" + query, 401),
        # the expiry pushed into the future without re-signing
        "longer expiry": (f"{path}?homesec_exp={exp + 3600}&homesec_sig={sig}", 401),
        # a properly signed URL whose time is up
        "expired": (async_sign_url(hass, path, timedelta(seconds=-1)), 403),
        # an expiry int() cannot read (non-ASCII digit, absurdly long) is refused, not a 500
        "superscript expiry": (f"{path}?homesec_exp=%C2%B2&homesec_sig={sig}", 401),
        "endless expiry": (f"{path}?homesec_exp={'9' * 5000}&homesec_sig={sig}", 401),
    }
    for name, (url, status) in refused.items():
        # When someone opens it without a login
        resp = await client.get(url)
        # Then nothing is served
        assert resp.status == status, name
        assert await resp.read() != SNAPSHOT, name
    # And the untouched URL still works (the refusals were not about something else)
    assert (await client.get(good)).status == 200


async def test_only_snapshots_and_clips_are_served(
    hass: HomeAssistant, entry: MockConfigEntry, hass_client_no_auth: ClientSessionGenerator,
) -> None:
    # Given a validly signed path to anything else under the view
    client = await hass_client_no_auth()
    for kind in ("status", "config", "media"):
        url = async_sign_url(
            hass, f"/api/homesec/media/{entry.entry_id}/clip-a/{kind}", timedelta(minutes=5)
        )
        # Then the view serves nothing
        assert (await client.get(url)).status == 404, kind


async def test_unknown_clip_or_entry_is_not_found(
    hass: HomeAssistant, entry: MockConfigEntry, hass_client_no_auth: ClientSessionGenerator,
) -> None:
    client = await hass_client_no_auth()
    missing_clip = async_signed_alert_urls(hass, entry.entry_id, "no-such-clip")
    missing_entry = async_signed_alert_urls(hass, "not-an-entry", "clip-a")
    assert (await client.get(on_this_server(missing_clip["clip_url"]))).status == 404
    assert (await client.get(on_this_server(missing_clip["snapshot_url"]))).status == 404
    assert (await client.get(on_this_server(missing_entry["clip_url"]))).status == 404


async def test_the_signing_key_survives_a_restart_and_is_not_the_engines(
    hass: HomeAssistant, entry: MockConfigEntry, engine: RunningEngine,
    hass_storage: dict[str, Any],
) -> None:
    # Given HA's stored signing key
    stored = hass_storage["homesec.media_signing_key"]["data"]["key"]
    # Then it is a random 256-bit key, unrelated to the engine's API key
    assert len(bytes.fromhex(stored)) == 32
    assert engine.api_key not in stored
    assert (engine.api_key or "").encode().hex() not in stored


async def test_links_answer_unavailable_while_homesec_is_unloaded(
    hass: HomeAssistant, engine: RunningEngine, hass_client_no_auth: ClientSessionGenerator,
) -> None:
    # Given a valid link of an alert, and then HomeSec is unloaded (e.g. being reconfigured)
    async with homesec_entry(hass, engine) as entry:
        url = on_this_server(async_signed_alert_urls(hass, entry.entry_id, "clip-a")["clip_url"])
    client = await hass_client_no_auth()
    # When the phone opens it
    resp = await client.get(url)
    # Then it is told to come back later rather than "not found" or a crash
    assert resp.status == 503


async def test_get_clips_links_are_signed_and_open_on_the_external_url(
    hass: HomeAssistant, entry: MockConfigEntry, video: Path,
    hass_client_no_auth: ClientSessionGenerator,
) -> None:
    # Given Home Assistant with an external URL
    await hass.config.async_update(external_url="https://home.example.net")
    # When an automation lists the clips
    page = await hass.services.async_call("homesec", "get_clips", {}, blocking=True,
                                          return_response=True)
    # Then every clip carries absolute, signed links on the external URL (not the engine's
    # relative view_url)
    clip = next(c for c in page["clips"] if c["id"] == "clip-a")
    for key in ("view_url", "clip_url", "snapshot_url"):
        assert clip[key].startswith("https://home.example.net/api/homesec/media/"), clip[key]
        assert "homesec_sig=" in clip[key] and "homesec_exp=" in clip[key]
    # And a phone without a login opens them
    client = await hass_client_no_auth()
    opened = await client.get(on_this_server(clip["view_url"]))
    assert opened.status == 200
    assert await opened.read() == await asyncio.to_thread(video.read_bytes)


async def test_a_repair_says_when_no_url_opens_on_a_phone(
    hass: HomeAssistant, entry: MockConfigEntry,
) -> None:
    # Given Home Assistant whose only URL is 0.0.0.0 (no external URL, no detected address)
    hass.config.api = None
    await hass.config.async_update(internal_url="http://0.0.0.0:8123")
    # When HomeSec polls
    await entry.runtime_data.coordinator.async_refresh()
    await hass.async_block_till_done()
    # Then a repair says alert links cannot open on a phone, naming what is set
    issue = ir.async_get(hass).async_get_issue("homesec", "no_phone_url")
    assert issue is not None and issue.translation_placeholders == {
        "external": "-", "internal": "http://0.0.0.0:8123"}
    # And no alert link is built on 0.0.0.0
    assert "0.0.0.0" not in async_signed_alert_urls(hass, entry.entry_id, "clip-a")["clip_url"]
    # When the user sets an external URL and HomeSec polls again
    await hass.config.async_update(external_url="https://home.example.net")
    await entry.runtime_data.coordinator.async_refresh()
    await hass.async_block_till_done()
    # Then the repair is gone and links use the external URL
    assert ir.async_get(hass).async_get_issue("homesec", "no_phone_url") is None
    assert async_signed_alert_urls(hass, entry.entry_id, "clip-a")["clip_url"].startswith(
        "https://home.example.net/")
