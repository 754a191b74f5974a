"""A live stream viewer's slot is free as soon as the viewer leaves (issue 26, item 9).

A viewer that disconnected kept its slot until the camera's next packet was written to its
gone connection: seconds on a camera with a low frame rate, and meanwhile the next viewer
was refused (503, "already has N live viewers"). Real RTSP camera, real engine and API, a
real TCP client.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import aiohttp

from tests.api.conftest import API_KEY
from tests.engine_harness import running_engine
from tests.videotools import RtspTestServer, Segment, scripted_frames, write_h264

SECONDS_PER_FRAME = 8


async def test_a_viewer_that_leaves_frees_its_slot_for_the_next_one(tmp_path: Path) -> None:
    # Given a camera sending one picture every 8 s, allowing one live viewer at a time
    frames = scripted_frames(320, 240, 1, 4.0, [Segment(0, 4)])
    video = write_h264(tmp_path / "slow.mp4", frames, fps=1, gop=1)
    with RtspTestServer(video, loop=True, speed=1 / SECONDS_PER_FRAME) as server:
        camera = {"name": "porch", "source_backend": "rtsp",
                  "source_config": {"url": server.url, "restream_max_viewers": 1,
                                    "read_timeout_s": 30, "undecodable_timeout_s": 60}}
        async with running_engine(tmp_path, cameras=[camera], api_key=API_KEY,
                                  run_sources=True) as engine, aiohttp.ClientSession() as http:
            source = engine.runtime.sources["porch"]
            async with asyncio.timeout(60):
                while not (source.is_healthy() and source.live_frame() is not None):
                    await asyncio.sleep(0.05)
            url = f"{engine.api}/cameras/porch/stream"
            # And a viewer watching it, who then closes the player (its connection goes)
            async with aiohttp.ClientSession() as player:
                async with player.get(url, headers=engine.headers) as first:
                    assert first.status == 200
                    assert await first.content.read(188)
            # When the next viewer comes, well before the camera's next picture
            async with asyncio.timeout(SECONDS_PER_FRAME / 4):
                while source.restream.viewers:  # (the server notices the closed connection)
                    await asyncio.sleep(0.05)
            async with http.get(url, headers=engine.headers) as second:
                # Then it is let in: the first viewer's slot was freed when it left
                assert second.status == 200, await second.text()
                assert await second.content.read(188)
