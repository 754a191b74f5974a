"""Client and media-link edges: read-only routes, the half-open breaker, links while the
engine is down, and links signed before a Home Assistant restart.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import aiohttp
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry
from pytest_homeassistant_custom_component.typing import ClientSessionGenerator

from custom_components.homesec.api import (
    CircuitBreaker,
    HomeSecCircuitOpenError,
    HomeSecClient,
    HomeSecConnectionError,
)
from custom_components.homesec.const import DOMAIN
from custom_components.homesec.views import async_signed_alert_urls, media_path
from homeassistant.core import HomeAssistant
from homesec_engine.records import ClipRecord
from tests.engine_harness import RunningEngine, running_engine

from .conftest import API_KEY, engine_port, entry_data
from .scripted_engine import scripted_engine, status_body

BAD_GATEWAY = (502, {"detail": "bad gateway", "error_code": "INTERNAL_ERROR"})


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as s:
        yield s


async def test_read_only_routes_return_the_engines_data(
    session: aiohttp.ClientSession, engine: RunningEngine
) -> None:
    # Given the engine with its two cameras (one enabled)
    client = HomeSecClient(session, "127.0.0.1", engine_port(engine), API_KEY)
    # When the client reads the stats, the configuration and the diagnostics
    stats = await client.get_stats()
    config = await client.get_config()
    diagnostics = await client.get_diagnostics()
    # Then they are the engine's: camera counts, the cameras in the config, and no secret
    assert stats["cameras_total"] == 2
    assert stats["clips_today"] == 0
    assert [c["name"] for c in config["config"]["cameras"]] == ["front_door", "garage"]
    assert config["config_version"] == 1
    assert API_KEY not in repr(config) and API_KEY not in repr(diagnostics)
    assert isinstance(diagnostics, dict) and diagnostics


async def test_after_the_cool_down_one_probe_goes_through(
    session: aiohttp.ClientSession,
) -> None:
    now = [0.0]
    breaker = CircuitBreaker(threshold=2, cooldown=30.0, clock=lambda: now[0])
    async with scripted_engine() as engine:
        engine.answer("GET /api/v1/status", default=BAD_GATEWAY)
        client = HomeSecClient(session, engine.host, engine.port, API_KEY, attempts=1,
                               backoff=0.0, breaker=breaker)
        # Given a breaker opened by two failures
        for _ in range(2):
            with pytest.raises(HomeSecConnectionError):
                await client.get_status()
        assert breaker.state == "open"
        # When the cool-down is over Then diagnostics show it half-open
        now[0] = 31.0
        assert breaker.state == "half_open"
        # When two calls come at once Then only the first reaches the engine (the probe)
        engine.answer("GET /api/v1/status", default=(200, status_body()))
        sent = len(engine.requests)
        probe, other = await asyncio.gather(
            client.get_status(), client.get_status(), return_exceptions=True
        )
        assert isinstance(other, HomeSecCircuitOpenError)
        assert not isinstance(probe, BaseException)
        assert probe["health"]["status"] == "healthy"
        assert len(engine.requests) == sent + 1
        # And its success closes the breaker
        assert breaker.state == "closed"


def _relative(url: str) -> str:
    """The path and query of a (possibly absolute) HA URL: the test client talks to HA."""
    parts = urlsplit(url)
    return f"{parts.path}?{parts.query}"


async def test_alert_links_while_the_engine_is_down_answer_bad_gateway(
    hass: HomeAssistant, tmp_path: Path, database_url: str,
    hass_client_no_auth: ClientSessionGenerator,
) -> None:
    # Given HomeSec loaded, and then its engine stops
    async with running_engine(tmp_path, api_key=API_KEY, database_url=database_url) as eng:
        entry = MockConfigEntry(domain=DOMAIN, title="HomeSec", data=entry_data(eng),
                                unique_id="down")
        entry.add_to_hass(hass)
        assert await hass.config_entries.async_setup(entry.entry_id)
        await hass.async_block_till_done()
    urls = async_signed_alert_urls(hass, entry.entry_id, "clip-a")
    client = await hass_client_no_auth()
    # When a phone opens the alert's snapshot and clip links
    snap = await client.get(_relative(urls["snapshot_url"]))
    clip = await client.get(_relative(urls["clip_url"]))
    # Then both say the upstream failed (502), not "not found" and not a crash
    assert snap.status == 502
    assert clip.status == 502
    await hass.config_entries.async_unload(entry.entry_id)


async def test_links_signed_before_a_restart_still_open(
    hass: HomeAssistant, engine: RunningEngine, config_entry: MockConfigEntry,
    hass_storage: dict[str, Any], hass_client_no_auth: ClientSessionGenerator,
    tmp_path: Path,
) -> None:
    # Given the signing key HA stored before it restarted, and a link signed with it then
    key = bytes(range(32))
    hass_storage["homesec.media_signing_key"] = {
        "version": 1, "minor_version": 1, "key": "homesec.media_signing_key",
        "data": {"key": key.hex()},
    }
    path = media_path(config_entry.entry_id, "clip-old", "snapshot")
    expires = int(time.time()) + 600
    sig = hmac.new(key, f"{path}\n{expires}".encode(), hashlib.sha256).hexdigest()
    # And the clip's snapshot in the engine
    snapshot = tmp_path / "clip-old.jpg"
    await asyncio.to_thread(snapshot.write_bytes, b"\xff\xd8 old alert \xff\xd9")
    uri = await engine.runtime.storage.put(snapshot, "front_door/clip-old.jpg")
    await engine.runtime.repository.upsert_clip(ClipRecord(
        id="clip-old", camera="front_door", status="done",
        storage_uri=uri.removesuffix(".jpg") + ".mp4",
    ))
    # When HA starts again with HomeSec and the phone opens the old link
    config_entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(config_entry.entry_id)
    await hass.async_block_till_done()
    client = await hass_client_no_auth()
    resp = await client.get(f"{path}?homesec_exp={expires}&homesec_sig={sig}")
    # Then the snapshot opens (the key was loaded, not replaced)
    assert resp.status == 200
    assert await resp.read() == b"\xff\xd8 old alert \xff\xd9"
    assert hass_storage["homesec.media_signing_key"]["data"]["key"] == key.hex()
    await hass.config_entries.async_unload(config_entry.entry_id)
