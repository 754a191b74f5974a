"""kill -9 in the middle of an event (issue 26, item 6).

The recording in progress used to be lost (its `.part` file was an MP4 without an index: the
clip ended in `error`, its media 404) although its video was on disk, and the event's end was
published at the next start before any client could hear it. Now the recording is written in
fragments, so the restarted engine makes what reached the disk a playable clip, under the id
its event has, and the event's end is kept for the WebSocket clients that connect after the
start. Real footage of people over real RTSP, a real engine process killed with SIGKILL, a real
WebSocket client.
"""

from __future__ import annotations

import asyncio
import io
import json
import sqlite3
import time
import urllib.request
from pathlib import Path
from typing import Any

import aiohttp
import av

from tests.livestream import person_stream
from tests.videotools import RtspTestServer

from .engine_process import EngineProcess, http


def _active_event(db: Path) -> str | None:
    try:
        with sqlite3.connect(db) as conn:
            row = conn.execute("SELECT id FROM clips WHERE event_state = 'active'").fetchone()
    except sqlite3.Error:  # not created yet
        return None
    return str(row[0]) if row else None


def _kill_mid_event(engine: EngineProcess, db: Path, work: Path) -> str:
    """Wait until the started engine has an event active and its recording a few seconds on
    disk, then SIGKILL it; the event's clip id."""
    engine.wait_healthy()
    deadline = time.monotonic() + 90
    while (clip_id := _active_event(db)) is None:
        assert time.monotonic() < deadline, "no event started"
        time.sleep(0.2)
    time.sleep(4)  # people still walking: the recording goes on
    assert list(work.glob("*.part")), "no recording in progress"
    engine.kill()
    return clip_id


def _frames(video: bytes) -> tuple[int, float]:
    with av.open(io.BytesIO(video)) as container:
        stream = container.streams.video[0]
        times = [float(f.time) for f in container.decode(stream) if f.time is not None]
    return len(times), max(times) - min(times)


async def test_a_recording_cut_off_by_kill_9_becomes_a_playable_clip_and_its_event_ends(
        tmp_path: Path) -> None:
    # Given a camera recording people walking across a plaza (20 s of them), with a live
    # event open, when the engine is killed with SIGKILL
    plaza = await asyncio.to_thread(person_stream, tmp_path, empty_s=3.0, person_s=20.0,
                                    after_s=2.0)
    camera: dict[str, Any] = {
        "name": "plaza", "enabled": True, "source_backend": "rtsp",
        "source_config": {"pre_roll_s": 1, "post_roll_s": 2, "min_motion_s": 0.3,
                          "live_fps": 5}}
    cameras = [{"name": "demo", "enabled": False, "source_backend": "demo",
                "source_config": {}}, camera]
    db, work = tmp_path / "data" / "homesec.db", tmp_path / "data" / "work" / "plaza"
    with RtspTestServer(plaza.path) as server:
        camera["source_config"]["url"] = server.url
        killed = EngineProcess(tmp_path, config={"cameras": cameras})
        killed.start()
        clip_id = await asyncio.to_thread(_kill_mid_event, killed, db, work)
    # When the engine starts again (the camera now off) and Home Assistant connects later
    camera["enabled"] = False
    engine = EngineProcess(tmp_path, config={"cameras": cameras})
    engine.start()
    try:
        await asyncio.to_thread(engine.wait_healthy)
        await asyncio.sleep(1.0)
        async with aiohttp.ClientSession() as session, \
                session.ws_connect(f"{engine.url}/events") as ws:
            # Then it hears that the event ended, because of the restart
            ended: dict[str, Any] | None = None
            async with asyncio.timeout(20):
                while ended is None:
                    message = json.loads((await ws.receive()).data)
                    if message["type"] == "event" and message["data"]["clip_id"] == clip_id:
                        ended = message["data"]
            assert ended["phase"] == "ended" and ended["end_reason"] == "engine_restart"
        # And the recording becomes the event's clip, finished (not `error`)
        deadline = time.monotonic() + 90
        while True:
            status, clip = await asyncio.to_thread(http, "GET", f"{engine.url}/clips/{clip_id}")
            assert status == 200, clip
            if clip["status"] in ("done", "error"):
                break
            assert time.monotonic() < deadline, clip
            await asyncio.sleep(0.5)
        assert clip["status"] == "done", clip
        # And its video plays: what was recorded before the kill (the clip began a second
        # before the people, the kill came 4 s after they were seen; the fragment being
        # written when it came is lost)
        with urllib.request.urlopen(f"{engine.url}/clips/{clip_id}/media", timeout=20) as resp:
            assert resp.status == 200
            video = resp.read()
        frames, seconds = _frames(video)
        assert frames >= 20 and seconds >= 2.0, (frames, seconds)
        # And the event stored with it is ended, completed with the clip's judgement
        assert clip["event"]["state"] == "ended", clip["event"]
        assert clip["event"]["duration_s"] and clip["event"]["duration_s"] >= 2.0
        # And no cut-off recording is left behind
        assert not list(work.glob("*.part")) and not list(work.glob("*.mp4"))
    finally:
        await asyncio.to_thread(engine.stop)
