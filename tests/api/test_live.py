"""The live camera over the API: snapshot JPEG and MPEG-TS restream from a real RTSP camera.

A real engine (run_sources=True) records from tests/videotools.RtspTestServer on loopback; the
picture and the restream must come from that one connection, and a viewer opens the restream
with PyAV the way Home Assistant's stream worker does.
"""

from __future__ import annotations

import asyncio
import io
import socket
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import av
import numpy as np
import pytest

from tests.engine_harness import RunningEngine, running_engine
from tests.videotools import RtspTestServer, Segment, scripted_frames, write_h264

from .conftest import API_KEY, assert_error

FPS = 10
OBJECT_RGB = (230, 230, 40)


@pytest.fixture
def camera_video(tmp_path: Path) -> Path:
    # Given a camera whose picture shows a moving yellow object most of the time (noisy, so
    # the stream carries a camera-like bitrate)
    frames = scripted_frames(320, 240, FPS, 6.0, [Segment(0.2, 5.8)], noise=6.0)
    return write_h264(tmp_path / "camera.mp4", frames, fps=FPS, bit_rate=1_500_000)


@pytest.fixture
async def rtsp_camera(camera_video: Path) -> AsyncIterator[RtspTestServer]:
    server = RtspTestServer(camera_video, loop=True)
    server.start()
    try:
        yield server
    finally:
        server.stop()


def cameras_for(server: RtspTestServer, tmp_path: Path, **rtsp: Any) -> list[dict[str, Any]]:
    folder = tmp_path / "drop"
    folder.mkdir(exist_ok=True)
    return [
        {"name": "porch", "source_backend": "rtsp",
         "source_config": {"url": server.url, "read_timeout_s": 1.0,
                           "reconnect_max_backoff_s": 1.0, **rtsp}},
        {"name": "yard", "source_backend": "demo",
         "source_config": {"interval_s": 3600, "subject": "person"}},
        {"name": "nas", "source_backend": "local_folder", "source_config": {"path": str(folder)}},
        {"name": "shed", "enabled": False, "source_backend": "demo", "source_config": {}},
    ]


async def live_engine(tmp_path: Path, server: RtspTestServer,
                      **rtsp: Any) -> AsyncIterator[RunningEngine]:
    async with running_engine(tmp_path, cameras=cameras_for(server, tmp_path, **rtsp),
                              api_key=API_KEY, run_sources=True) as engine:
        source = engine.runtime.sources["porch"]
        async with asyncio.timeout(15):
            while not (source.is_healthy() and source.live_frame() is not None):
                await asyncio.sleep(0.05)
        yield engine


@pytest.fixture
async def engine(tmp_path: Path, rtsp_camera: RtspTestServer) -> AsyncIterator[RunningEngine]:
    async for running in live_engine(tmp_path, rtsp_camera):
        yield running


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


def decode_jpeg(data: bytes) -> np.ndarray:
    with av.open(io.BytesIO(data), format="image2pipe") as container:
        frame = next(container.decode(video=0))
        return frame.to_ndarray(format="rgb24")


def object_pixels(rgb: np.ndarray) -> int:
    close = np.all(np.abs(rgb.astype(np.int16) - np.array(OBJECT_RGB)) < 50, axis=2)
    return int(close.sum())


async def get(http: aiohttp.ClientSession, engine: RunningEngine, path: str,
              **params: Any) -> tuple[int, bytes, aiohttp.ClientResponse]:
    async with http.get(f"{engine.api}{path}", headers=engine.headers, params=params) as resp:
        return resp.status, await resp.read(), resp


def open_restream(engine: RunningEngine, name: str = "porch") -> Any:
    """Open the restream as HA's stream worker does (PyAV, HTTP, the API key as a header)."""
    return av.open(f"{engine.api}/cameras/{name}/stream",
                   options={"headers": f"Authorization: Bearer {API_KEY}\r\n"},
                   timeout=(10, 5))


def decode_frames(engine: RunningEngine, count: int) -> list[tuple[int, int, bool]]:
    """(width, height, keyframe) of the first ``count`` frames a new viewer decodes."""
    frames = []
    with open_restream(engine) as container:
        assert container.format.name == "mpegts"
        for frame in container.decode(video=0):
            frames.append((frame.width, frame.height, frame.key_frame))
            if len(frames) >= count:
                break
    return frames


# --- snapshot -------------------------------------------------------------------------------


async def test_snapshot_is_the_cameras_current_picture_at_the_size_asked(
        engine: RunningEngine, http: aiohttp.ClientSession) -> None:
    # When the live picture of the RTSP camera is asked for at 160 px wide
    status, body, resp = await get(http, engine, "/cameras/porch/snapshot", width=160)
    # Then it is a JPEG, 160 x 120 (the aspect kept), never cached
    assert status == 200, body
    assert resp.content_type == "image/jpeg"
    assert resp.headers["Cache-Control"] == "no-store"
    rgb = decode_jpeg(body)
    assert rgb.shape[:2] == (120, 160)
    # And it shows what the camera sees: the yellow object
    assert object_pixels(rgb) > 50
    # And width and height together give exactly that size
    status, body, _ = await get(http, engine, "/cameras/porch/snapshot", width=64, height=64)
    assert status == 200 and decode_jpeg(body).shape[:2] == (64, 64)


async def test_snapshot_follows_the_camera_within_a_second(
        engine: RunningEngine, http: aiohttp.ClientSession) -> None:
    # Given the camera's live frame
    source = engine.runtime.sources["porch"]
    first = source.live_frame()
    # When a second passes
    await asyncio.sleep(1.0)
    # Then the picture served is a newer frame, and one that is less than a second old
    latest = source.live_frame()
    assert latest.at > first.at and latest.age_s < 1.0
    status, _, _ = await get(http, engine, "/cameras/porch/snapshot")
    assert status == 200


async def test_demo_camera_has_a_live_picture(
        engine: RunningEngine, http: aiohttp.ClientSession) -> None:
    # When the demo camera's picture is asked for at its own size
    status, body, _ = await get(http, engine, "/cameras/yard/snapshot")
    # Then it is the synthetic scene with its red "person"
    assert status == 200
    rgb = decode_jpeg(body)
    assert rgb.shape[:2] == (240, 320)
    red = np.all(np.abs(rgb.astype(np.int16) - np.array((200, 30, 30))) < 50, axis=2)
    assert red.sum() > 500


async def test_snapshot_bad_input_is_refused_with_the_reason(
        engine: RunningEngine, http: aiohttp.ClientSession) -> None:
    # An unknown camera is 404
    status, body, _ = await get(http, engine, "/cameras/nobody/snapshot")
    assert_error(status, _json(body), 404, "NOT_FOUND")
    # A folder source has no live picture: 404 that says so
    status, body, _ = await get(http, engine, "/cameras/nas/snapshot")
    detail = assert_error(status, _json(body), 404, "NOT_FOUND")["detail"]
    assert "no live picture" in detail and "local_folder" in detail
    # A disabled camera is 503 with the reason
    status, body, _ = await get(http, engine, "/cameras/shed/snapshot")
    assert "disabled" in assert_error(status, _json(body), 503, "CAMERA_UNAVAILABLE")["detail"]
    # A size out of range names the field
    status, body, _ = await get(http, engine, "/cameras/porch/snapshot", width=0,
                                height="tall")
    error = assert_error(status, _json(body), 400, "VALIDATION_ERROR")
    assert {e["path"] for e in error["errors"]} == {"width", "height"}
    # And without the API key nothing is shown
    async with http.get(f"{engine.api}/cameras/porch/snapshot") as resp:
        assert resp.status == 401


def _json(body: bytes) -> Any:
    import json

    return json.loads(body)


# --- restream -------------------------------------------------------------------------------


async def test_restream_opens_and_decodes_in_pyav(
        engine: RunningEngine, http: aiohttp.ClientSession) -> None:
    # When a viewer opens the restream as HA's stream worker does
    frames = await asyncio.to_thread(decode_frames, engine, 15)
    # Then it decodes the camera's own pictures (remuxed: the camera's size), from a keyframe
    assert frames[0] == (320, 240, True)
    assert all((w, h) == (320, 240) for w, h, _ in frames)
    # And a viewer joining while another one watches opens it the same way (it is given the
    # current GOP's bytes, from its keyframe)
    async with http.get(f"{engine.api}/cameras/porch/stream", headers=engine.headers) as other:
        assert await other.content.read(188)
        again = await asyncio.to_thread(decode_frames, engine, 5)
    assert again[0] == (320, 240, True)


async def test_restream_refuses_unknown_sources_and_bounds_viewers(
        tmp_path: Path, rtsp_camera: RtspTestServer, http: aiohttp.ClientSession) -> None:
    async for engine in live_engine(tmp_path, rtsp_camera, restream_max_viewers=1):
        # An unknown camera is 404; the demo and folder sources have no restream (404)
        for name in ("nobody", "yard", "nas"):
            status, body, _ = await get(http, engine, f"/cameras/{name}/stream")
            assert_error(status, _json(body), 404, "NOT_FOUND")
        # Given one viewer watching
        async with http.get(f"{engine.api}/cameras/porch/stream",
                            headers=engine.headers) as first:
            assert first.status == 200
            assert first.content_type == "video/mp2t"
            assert await first.content.read(188)
            # When a second one asks, over the bound of one
            status, body, _ = await get(http, engine, "/cameras/porch/stream")
            # Then it is told so
            detail = assert_error(status, _json(body), 503, "CAMERA_UNAVAILABLE")["detail"]
            assert "1 live viewers" in detail


async def test_viewer_that_never_reads_is_cut_off_and_recording_goes_on(
        tmp_path: Path, rtsp_camera: RtspTestServer, http: aiohttp.ClientSession) -> None:
    async for engine in live_engine(tmp_path, rtsp_camera, restream_max_lag_s=1.0):
        source = engine.runtime.sources["porch"]
        # Given a viewer whose socket takes a few KiB and then is never read
        port = int(engine.url.rsplit(":", 1)[1])
        stalled = socket.socket()
        stalled.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        stalled.connect(("127.0.0.1", port))
        stalled.sendall(f"GET /api/v1/cameras/porch/stream HTTP/1.1\r\nHost: x\r\n"
                        f"Authorization: Bearer {API_KEY}\r\n\r\n".encode())
        try:
            # When the camera keeps streaming
            async with asyncio.timeout(10):
                while not source.restream.viewers:
                    await asyncio.sleep(0.05)
            async with asyncio.timeout(30):
                while source.restream.viewers:
                    await asyncio.sleep(0.1)
            # Then the engine let go of that viewer
            assert source.restream.viewers == 0
            # And the connection was closed under it: draining it ends, not hangs
            stalled.setblocking(False)
            ended = await asyncio.wait_for(asyncio.to_thread(_drain_until_closed, stalled), 10)
            assert ended
        finally:
            stalled.close()
        # And the camera never stopped: healthy, its picture fresh, a new viewer served
        assert source.is_healthy() and source.live_frame().age_s < 1.0
        frames = await asyncio.to_thread(decode_frames, engine, 3)
        assert frames[0][2]


def _drain_until_closed(sock: socket.socket) -> bool:
    sock.setblocking(True)
    sock.settimeout(5)
    try:
        while sock.recv(65536):
            pass
    except ConnectionResetError:
        pass
    return True


async def test_camera_dropping_ends_the_stream_cleanly_and_snapshot_says_offline(
        engine: RunningEngine, rtsp_camera: RtspTestServer, http: aiohttp.ClientSession) -> None:
    source = engine.runtime.sources["porch"]
    # Given a viewer receiving the restream
    async with http.get(f"{engine.api}/cameras/porch/stream", headers=engine.headers) as resp:
        assert resp.status == 200
        received = len(await resp.content.read(4096))
        # When the camera goes away mid-stream
        rtsp_camera.stop()
        # Then the response ends (end of stream, no error), and what came was whole TS packets
        async with asyncio.timeout(20):
            rest = await resp.read()
        assert (received + len(rest)) % 188 == 0
    # And the camera is offline: the snapshot says so
    async with asyncio.timeout(10):
        while source.is_healthy():
            await asyncio.sleep(0.05)
    status, body, _ = await get(http, engine, "/cameras/porch/snapshot")
    assert "offline" in assert_error(status, _json(body), 503, "CAMERA_UNAVAILABLE")["detail"]
    status, body, _ = await get(http, engine, "/cameras/porch/stream")
    assert_error(status, _json(body), 503, "CAMERA_UNAVAILABLE")
