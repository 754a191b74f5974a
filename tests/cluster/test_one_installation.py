"""Two engines as one installation: either one serves a clip the other recorded (from the
object store), shows the other's cameras as that engine reports them, forwards their live
picture, and pushes the other's live messages on its WebSocket (LISTEN/NOTIFY)."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import aiohttp

from tests.engine.lifecycle.conftest import S3Server

from tests.faults.engine_process import http

from .engines import ClusterEngine, clips, running_cluster, wait_for

CAMS = ["front", "back"]


def _held_apart(engines: list[ClusterEngine]) -> dict[str, str] | None:
    """{camera: engine id} once each engine holds one camera."""
    held = {e.workdir.name: e.held() for e in engines}
    if all(len(cams) == 1 for cams in held.values()):
        return {next(iter(cams)): engine for engine, cams in held.items()}
    return None


def _copied_clip_since(database: str, camera: str, before: set[str]) -> str | None:
    """A clip of `camera` in the object store that is not in `before` (the clips from
    before the two engines spread the cameras, when either may have recorded it)."""
    for clip in clips(database):
        if clip.camera == camera and clip.offsite_state == "done" and clip.id not in before:
            return clip.id
    return None


async def _message_about(url: str, camera: str, timeout: float) -> dict[str, object]:
    async with aiohttp.ClientSession() as http, http.ws_connect(url) as ws:
        async with asyncio.timeout(timeout):
            async for frame in ws:
                message = json.loads(frame.data)
                data = message.get("data") or {}
                if message.get("type") in ("alert", "event", "camera_health") and \
                        data.get("camera") == camera:
                    return dict(message)
    raise AssertionError("the WebSocket closed")


def test_any_engine_serves_every_clip_and_every_cameras_messages(
        tmp_path: Path, cluster_db: str, s3_server: S3Server, s3_env: dict[str, str]) -> None:
    # Given two engines sharing two cameras, one camera each
    with running_cluster(tmp_path, ["e1", "e2"], database=cluster_db, cameras=CAMS,
                         s3_endpoint=s3_server.endpoint, bucket=s3_server.bucket,
                         credentials=s3_env) as engines:
        holder = wait_for(lambda: _held_apart(engines), 60, "one camera on each engine")
        e1, e2 = engines
        other_camera = next(c for c, engine in holder.items() if engine == "e2")
        before = {clip.id for clip in clips(cluster_db)}

        # When a client of e1 asks for a clip e2 recorded
        clip_id = wait_for(lambda: _copied_clip_since(cluster_db, other_camera, before), 60,
                           f"a clip of {other_camera} that e2 recorded, in the object store")
        expected = s3_server.objects()[f"homesec/{clip_id}.mp4"]

        async def fetch() -> tuple[int, bytes, int, bytes]:
            async with aiohttp.ClientSession() as http:
                async with http.get(f"{e1.url}/clips/{clip_id}/media") as whole:
                    body = await whole.read()
                async with http.get(f"{e1.url}/clips/{clip_id}/media",
                                    headers={"Range": "bytes=0-99"}) as part:
                    return whole.status, body, part.status, await part.read()

        status, body, part_status, part = asyncio.run(fetch())
        # Then e1 serves it from the object store, whole and by range
        assert (status, body) == (200, expected)
        assert (part_status, part) == (206, expected[:100])

        # And e1 lists e2's camera as healthy, as e2 reported it
        def listed_healthy() -> bool:
            _status, body = http("GET", f"{e1.url}/cameras")
            return any(c["name"] == other_camera and c["healthy"] for c in body["cameras"])

        wait_for(listed_healthy, 30, f"{other_camera} listed healthy by e1")

        # And e1 shows e2's camera's live picture, forwarded from e2
        async def picture() -> tuple[int, str, bytes]:
            async with aiohttp.ClientSession() as http_session, http_session.get(
                    f"{e1.url}/cameras/{other_camera}/snapshot?width=64") as resp:
                return resp.status, resp.headers["Content-Type"], await resp.read()

        status, content_type, jpeg = asyncio.run(picture())
        assert (status, content_type) == (200, "image/jpeg")
        assert jpeg.startswith(b"\xff\xd8")

        # And a client of e1's WebSocket hears about the camera e2 records
        message = asyncio.run(_message_about(f"{e1.url}/events", other_camera, 60))
        assert message["type"] in ("alert", "event", "camera_health")
        assert e2.held() == {other_camera}
