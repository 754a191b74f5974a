"""The camera platform in real HA core, against a real engine recording a real RTSP camera.

The camera is tests/videotools.RtspTestServer on loopback; the engine holds its one
connection. HA's camera entity must serve the engine's live JPEG and give a stream source that
PyAV (as HA's stream worker) opens and decodes; HA's own stream component must produce HLS
segments from it.
"""

from __future__ import annotations

import asyncio
import io
from datetime import timedelta
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import av
import pytest
from freezegun.api import FrozenDateTimeFactory
from pytest_homeassistant_custom_component.common import MockConfigEntry, async_fire_time_changed
from pytest_homeassistant_custom_component.typing import ClientSessionGenerator

from custom_components.homesec.views import STREAM_URL_TTL, async_sign_url, stream_path
from homeassistant.components import camera
from homeassistant.components.camera import CameraEntityFeature
from homeassistant.const import STATE_UNAVAILABLE
from homeassistant.core import HomeAssistant
from homeassistant.core_config import async_process_ha_core_config
from homeassistant.setup import async_setup_component
from tests.engine_harness import RunningEngine, running_engine
from tests.videotools import RtspTestServer, Segment, scripted_frames, write_h264

from .conftest import API_KEY, wait_for

PORCH = "camera.porch_live_view"
YARD = "camera.yard_live_view"


@pytest.fixture
async def rtsp_camera(tmp_path: Path) -> AsyncIterator[RtspTestServer]:
    # Given a real RTSP camera on loopback showing a moving object
    frames = scripted_frames(320, 240, 10, 6.0, [Segment(0.2, 5.8)], noise=4.0)
    video = await asyncio.to_thread(write_h264, tmp_path / "camera.mp4", frames, 10)
    server = RtspTestServer(video, loop=True)
    await asyncio.to_thread(server.start)
    try:
        yield server
    finally:
        await asyncio.to_thread(server.stop)


@pytest.fixture
async def engine(tmp_path: Path, database_url: str,
                 rtsp_camera: RtspTestServer) -> AsyncIterator[RunningEngine]:
    cameras: list[dict[str, Any]] = [
        {"name": "porch", "source_backend": "rtsp",
         "source_config": {"url": rtsp_camera.url, "read_timeout_s": 1.0,
                           "reconnect_max_backoff_s": 1.0}},
        {"name": "yard", "source_backend": "demo", "source_config": {"interval_s": 3600}},
    ]
    async with running_engine(tmp_path, cameras=cameras, api_key=API_KEY,
                              database_url=database_url, run_sources=True) as running:
        source = running.runtime.sources["porch"]
        async with asyncio.timeout(15):
            while source.live_frame() is None:
                await asyncio.sleep(0.05)
        yield running


@pytest.fixture
async def loaded_entry(hass: HomeAssistant, config_entry: MockConfigEntry,
                       engine: RunningEngine) -> AsyncIterator[MockConfigEntry]:
    """HA with stream and HomeSec set up (views register before the HTTP server starts)."""
    assert await async_setup_component(hass, "http", {})
    assert await async_setup_component(hass, "stream", {})
    config_entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(config_entry.entry_id)
    await hass.async_block_till_done()
    yield config_entry
    await hass.config_entries.async_unload(config_entry.entry_id)
    await hass.async_block_till_done()


@pytest.fixture
async def ha_base(hass: HomeAssistant, loaded_entry: MockConfigEntry,
                  hass_client_no_auth: ClientSessionGenerator) -> str:
    """HA's HTTP server listening on loopback, known to HA as its internal URL."""
    client = await hass_client_no_auth()
    base = str(client.make_url("")).rstrip("/")
    await async_process_ha_core_config(hass, {"internal_url": base})
    return base


def decode_stream(url: str, count: int) -> list[tuple[int, int]]:
    """Open ``url`` as HA's stream worker does (PyAV) and decode ``count`` frames."""
    sizes = []
    with av.open(url, timeout=(10, 5)) as container:
        for frame in container.decode(video=0):
            sizes.append((frame.width, frame.height))
            if len(sizes) >= count:
                break
    return sizes


def jpeg_width(data: bytes) -> int:
    with av.open(io.BytesIO(data), format="image2pipe") as container:
        return int(next(container.decode(video=0)).width)


async def test_camera_serves_the_live_picture_and_a_stream_pyav_decodes(
        hass: HomeAssistant, ha_base: str, loaded_entry: MockConfigEntry) -> None:
    # Then the RTSP camera has a camera entity that streams
    state = hass.states.get(PORCH)
    assert state is not None and state.state == "streaming"
    assert state.attributes["supported_features"] & CameraEntityFeature.STREAM
    # And its still image is the engine's live JPEG at the size asked
    image = await camera.async_get_image(hass, PORCH, width=160)
    assert image.content_type == "image/jpeg"
    assert jpeg_width(image.content) == 160
    # And its stream source is a signed URL on HA itself that PyAV opens and decodes
    source = await camera.async_get_stream_source(hass, PORCH)
    assert source is not None and source.startswith(ha_base + "/api/homesec/stream/")
    assert API_KEY not in source
    sizes = await asyncio.to_thread(decode_stream, source, 10)
    assert sizes == [(320, 240)] * 10


async def test_ha_stream_worker_makes_hls_segments_from_the_restream(
        hass: HomeAssistant, ha_base: str, loaded_entry: MockConfigEntry) -> None:
    # When HA's stream component opens the camera (as the frontend's live view does)
    entity = hass.data[camera.DATA_COMPONENT].get_entity(PORCH)
    stream = await entity.async_create_stream()
    assert stream is not None
    hls = stream.add_provider("hls")
    await stream.start()
    try:
        # Then its worker produces HLS segments from the engine's restream
        await wait_for(lambda: len(hls.sequences) >= 2, timeout=30)
        segment = hls.get_segment(hls.sequences[0])
        assert segment is not None and segment.complete and segment.duration > 0
    finally:
        await stream.remove_provider(hls)  # also stops its idle timer
        await stream.stop()


async def test_demo_camera_has_a_picture_but_no_stream(
        hass: HomeAssistant, ha_base: str, loaded_entry: MockConfigEntry) -> None:
    # The demo camera shows its synthetic picture, and offers no stream it cannot give
    state = hass.states.get(YARD)
    assert state is not None and state.state == "idle"
    assert not state.attributes["supported_features"] & CameraEntityFeature.STREAM
    image = await camera.async_get_image(hass, YARD)
    assert jpeg_width(image.content) == 320
    assert await camera.async_get_stream_source(hass, YARD) is None


async def test_stream_url_signatures_are_checked(
        hass: HomeAssistant, ha_base: str, loaded_entry: MockConfigEntry,
        hass_client_no_auth: ClientSessionGenerator) -> None:
    client = await hass_client_no_auth()
    source = await camera.async_get_stream_source(hass, PORCH)
    assert source is not None
    parts = urlsplit(source)
    query = {k: v[0] for k, v in parse_qs(parts.query).items()}
    yard_path = stream_path(loaded_entry.entry_id, "yard")
    cases = {
        # a forged signature
        "forged": f"{parts.path}?{urlencode({**query, 'homesec_sig': '0' * 64})}",
        # porch's signature on another camera's path
        "other camera": f"{yard_path}?{parts.query}",
        # a signature that expired a minute ago
        "expired": async_sign_url(hass, parts.path, -timedelta(minutes=1)),
        # no signature at all
        "unsigned": parts.path,
    }
    for case, url in cases.items():
        resp = await client.get(url)
        assert resp.status == 401, case
        resp.release()
    # And the genuine URL opens the stream
    resp = await client.get(f"{parts.path}?{parts.query}")
    assert resp.status == 200 and resp.content_type == "video/mp2t"
    assert len(await resp.content.readexactly(188 * 4)) == 188 * 4
    resp.close()


async def test_camera_dropping_ends_the_stream_and_the_entity_shows_it(
        hass: HomeAssistant, ha_base: str, loaded_entry: MockConfigEntry,
        rtsp_camera: RtspTestServer, hass_client_no_auth: ClientSessionGenerator) -> None:
    client = await hass_client_no_auth()
    source = await camera.async_get_stream_source(hass, PORCH)
    assert source is not None
    parts = urlsplit(source)
    # Given a viewer receiving the relayed stream
    resp = await client.get(f"{parts.path}?{parts.query}")
    assert resp.status == 200
    await resp.content.readexactly(188)
    # When the camera drops mid-stream
    await asyncio.to_thread(rtsp_camera.stop)
    # Then the stream ends (the read completes instead of hanging)
    async with asyncio.timeout(20):
        await resp.read()
    resp.release()
    # And the camera entity shows it unavailable (pushed by the engine's event stream)
    await wait_for(lambda: hass.states.get(PORCH).state == STATE_UNAVAILABLE, timeout=15)
    # And no picture is served while it is
    with pytest.raises(Exception):
        await camera.async_get_image(hass, PORCH)


async def test_turning_the_camera_off_and_on_switches_it_in_the_engine(
        hass: HomeAssistant, ha_base: str, loaded_entry: MockConfigEntry,
        engine: RunningEngine) -> None:
    def engine_enabled() -> bool:
        cams = engine.runtime.config_manager.get_config()["cameras"]
        return bool(next(c for c in cams if c["name"] == "porch")["enabled"])

    # When the camera entity is turned off
    await hass.services.async_call("camera", "turn_off", {"entity_id": PORCH}, blocking=True)
    # Then the engine's camera is disabled, and the entity stays available to be turned on
    assert not engine_enabled()
    await wait_for(lambda: hass.states.get(PORCH).state != STATE_UNAVAILABLE)
    # When it is turned on again
    await hass.services.async_call("camera", "turn_on", {"entity_id": PORCH}, blocking=True)
    # Then the engine's camera is enabled again
    assert engine_enabled()


async def test_stream_url_is_renewed_before_it_expires(
        hass: HomeAssistant, ha_base: str, loaded_entry: MockConfigEntry,
        freezer: FrozenDateTimeFactory) -> None:
    # Given the camera's stream, created from its signed URL (its worker not started)
    entity = hass.data[camera.DATA_COMPONENT].get_entity(PORCH)
    stream = await entity.async_create_stream()
    assert stream is not None
    first = stream.source
    first_expiry = int(parse_qs(urlsplit(first).query)["homesec_exp"][0])
    # When half the URL's lifetime has passed
    freezer.tick(STREAM_URL_TTL / 2 + timedelta(seconds=1))
    async_fire_time_changed(hass)
    await hass.async_block_till_done()
    # Then the stream (for its next connection) and the entity carry a URL that lives longer
    renewed = await camera.async_get_stream_source(hass, PORCH)
    assert renewed is not None and renewed != first
    assert stream.source == renewed
    renewed_expiry = int(parse_qs(urlsplit(renewed).query)["homesec_exp"][0])
    assert renewed_expiry > first_expiry
