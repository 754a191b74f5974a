"""WebRTC live view over the API: a real aiortc viewer gets the RTSP camera's video.

A real engine records from tests/videotools.RtspTestServer on loopback (as tests/api/test_live.py);
the viewer's SDP offer goes to POST /cameras/{name}/webrtc and the video it decodes must be the
camera's picture, sent from the engine's one camera connection in one of its viewer slots.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiortc import RTCPeerConnection

from tests.engine_harness import RunningEngine
from tests.videotools import RtspTestServer
from tests.webrtc_client import offer_sdp, real_network, webrtc_viewer  # noqa: F401

from .conftest import assert_error
from .test_live import (  # noqa: F401 - fixtures
    camera_video,
    http,
    live_engine,
    object_pixels,
    rtsp_camera,
)


@pytest.fixture
async def engine(tmp_path: Path, rtsp_camera: RtspTestServer,
                 real_network: None) -> AsyncIterator[RunningEngine]:
    # Given a camera that allows two live viewers
    async for running in live_engine(tmp_path, rtsp_camera, restream_max_viewers=2):
        yield running


async def post_offer(http: aiohttp.ClientSession, engine: RunningEngine, body: Any,
                     name: str = "porch") -> tuple[int, Any]:
    async with http.post(f"{engine.api}/cameras/{name}/webrtc", json=body,
                         headers=engine.headers) as resp:
        return resp.status, await resp.json()


def exchange_with(http: aiohttp.ClientSession, engine: RunningEngine) -> Any:
    async def exchange(offer: str) -> str:
        status, body = await post_offer(http, engine, {"type": "offer", "sdp": offer})
        assert status == 200, body
        # (the answer carries its ICE candidates, and only H.264: the camera's packets are
        # sent as they are, never transcoded to VP8)
        assert body["type"] == "answer" and "a=candidate" in body["sdp"]
        codecs = {line.split(" ")[1].split("/")[0] for line in body["sdp"].splitlines()
                  if line.startswith("a=rtpmap:")}
        assert codecs <= {"H264", "rtx"} and "H264" in codecs
        return str(body["sdp"])

    return exchange


async def test_webrtc_viewer_sees_the_camera_live(
        engine: RunningEngine, http: aiohttp.ClientSession) -> None:
    source = engine.runtime.sources["porch"]
    # When a WebRTC viewer offers to receive the porch camera's video
    async with webrtc_viewer(exchange_with(http, engine)) as viewer:
        # Then it decodes frames of the camera's own size showing the yellow object
        shown = []
        for _ in range(15):
            _, frame = await viewer.next_frame()
            shown.append(object_pixels(frame.to_ndarray(format="rgb24")))
            assert (frame.width, frame.height) == (320, 240)
        assert max(shown) > 50
        # And the viewer takes one of the camera's restream viewer slots
        assert source.restream.viewers == 1
    # And when the viewer leaves, its slot is freed
    async with asyncio.timeout(20):
        while source.restream.viewers:
            await asyncio.sleep(0.1)


async def test_webrtc_viewers_are_bounded_by_the_cameras_slots(
        engine: RunningEngine, http: aiohttp.ClientSession) -> None:
    # Given two WebRTC viewers watching the porch camera (its two slots)
    async with webrtc_viewer(exchange_with(http, engine)) as first, \
            webrtc_viewer(exchange_with(http, engine)) as second:
        await first.next_frame()
        await second.next_frame()
        # When a third viewer offers
        pc = RTCPeerConnection()
        try:
            status, body = await post_offer(http, engine,
                                            {"type": "offer", "sdp": await offer_sdp(pc)})
        finally:
            await pc.close()
        # Then it is refused with 503 saying the camera's viewers are all taken
        assert "live viewers" in assert_error(status, body, 503, "CAMERA_UNAVAILABLE")["detail"]


async def test_a_bad_offer_is_refused_naming_the_field(
        engine: RunningEngine, http: aiohttp.ClientSession) -> None:
    # A body without the SDP names the field
    status, body = await post_offer(http, engine, {"type": "offer"})
    error = assert_error(status, body, 400, "VALIDATION_ERROR")
    assert [e["path"] for e in error["errors"]] == ["sdp"]
    # Text that is not SDP names the field and says why
    status, body = await post_offer(http, engine, {"type": "offer", "sdp": "hello"})
    error = assert_error(status, body, 400, "VALIDATION_ERROR")
    assert error["errors"][0]["path"] == "sdp" and "v=0" in error["errors"][0]["message"]
    # An offer without H.264 (the camera's codec) says so
    vp8_only = ("v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\n"
                "m=video 9 UDP/TLS/RTP/SAVPF 96\r\nc=IN IP4 0.0.0.0\r\n"
                "a=rtpmap:96 VP8/90000\r\na=recvonly\r\n")
    status, body = await post_offer(http, engine, {"type": "offer", "sdp": vp8_only})
    error = assert_error(status, body, 400, "VALIDATION_ERROR")
    assert error["errors"][0]["path"] == "sdp" and "H.264" in error["errors"][0]["message"]
    # And no viewer slot was taken by any of them
    assert engine.runtime.sources["porch"].restream.viewers == 0
    # A folder camera has no live stream: 404 that says so
    status, body = await post_offer(http, engine, {"type": "offer", "sdp": vp8_only.replace(
        "VP8", "H264")}, name="nas")
    assert "no live stream" in assert_error(status, body, 404, "NOT_FOUND")["detail"]
    # And without the API key nothing is answered
    async with http.post(f"{engine.api}/cameras/porch/webrtc",
                         json={"type": "offer", "sdp": "v=0"}) as resp:
        assert resp.status == 401


async def test_without_the_webrtc_extra_the_camera_says_so_and_keeps_its_restream(
        engine: RunningEngine, http: aiohttp.ClientSession,
        monkeypatch: pytest.MonkeyPatch) -> None:
    # Given an engine installed without its webrtc extra (aiortc not importable)
    from homesec_engine.sources import webrtc

    monkeypatch.setattr(webrtc, "available", lambda: False)
    # Then the camera says it has no WebRTC live view (HA then offers HLS alone)
    async with http.get(f"{engine.api}/cameras/porch", headers=engine.headers) as resp:
        camera = await resp.json()
    assert camera["live_stream"] is True and camera["live_webrtc"] is False
    # And an offer is refused with 503 naming the extra to install
    offer = ("v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\n"
             "m=video 9 UDP/TLS/RTP/SAVPF 96\r\na=rtpmap:96 H264/90000\r\na=recvonly\r\n")
    status, body = await post_offer(http, engine, {"type": "offer", "sdp": offer})
    assert "webrtc extra" in assert_error(status, body, 503, "CAMERA_UNAVAILABLE")["detail"]
