"""Two engines as one installation: either one serves a clip the other recorded (from the
object store) and pushes the other's live messages on its WebSocket (LISTEN/NOTIFY)."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import aiohttp

from tests.engine.lifecycle.conftest import S3Server

from .engines import ClusterEngine, clips, running_cluster, wait_for

CAMS = ["front", "back"]


def _held_apart(engines: list[ClusterEngine]) -> dict[str, str] | None:
    """{camera: engine id} once each engine holds one camera."""
    held = {e.workdir.name: e.held() for e in engines}
    if all(len(cams) == 1 for cams in held.values()):
        return {next(iter(cams)): engine for engine, cams in held.items()}
    return None


def _copied_clip(database: str, camera: str) -> str | None:
    done = [c for c in clips(database) if c.camera == camera and c.offsite_state == "done"]
    return done[0].id if done else None


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

        # When a client of e1 asks for a clip e2 recorded
        clip_id = wait_for(lambda: _copied_clip(cluster_db, other_camera), 60,
                           f"a clip of {other_camera} in the object store")
        expected = next(v for k, v in s3_server.objects().items() if clip_id in k)
        assert not list((e1.workdir / "data" / "clips").rglob(f"*{clip_id}*"))

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

        # And a client of e1's WebSocket hears about the camera e2 records
        message = asyncio.run(_message_about(f"{e1.url}/events", other_camera, 60))
        assert message["type"] in ("alert", "event", "camera_health")
        assert e2.held() == {other_camera}
