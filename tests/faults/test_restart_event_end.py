"""The end of an event a killed engine left open is heard by clients (issue 26, item 6).

After kill -9 mid-event the restarted engine ends the event (`engine_restart`) while it
starts, before any WebSocket client could connect, so Home Assistant's sensors waited for
their 300 s safety net. The end is now kept for clients that connect afterwards. Real engine,
real database, a real WebSocket client.
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import aiohttp

from homesec_engine.records import ClipRecord, utcnow
from tests.api.conftest import API_KEY
from tests.engine_harness import running_engine


async def test_an_event_left_open_by_a_kill_is_ended_for_clients_that_connect_after_start(
        tmp_path: Path) -> None:
    # Given an event left open (active) by an engine killed while a person was on camera
    async with running_engine(tmp_path, api_key=API_KEY) as engine:
        event = {"clip_id": "open1", "camera": "front_door", "state": "active",
                 "started_at": "2026-01-01T00:00:00Z", "ended_at": None, "duration_s": None,
                 "detected_objects": ["person"], "zones": [], "objects": [], "activity_type": None,
                 "risk_level": "low", "summary": None, "alerted": True,
                 "snapshot_url": None, "view_url": None, "end_reason": None}
        await engine.runtime.started_repository().upsert_clip(ClipRecord(
            id="open1", camera="front_door", status="queued_local", created_at=utcnow(),
            event=event, event_state="active"))
    # When the engine starts again and then Home Assistant connects to its WebSocket
    async with running_engine(tmp_path, api_key=API_KEY) as engine, \
            aiohttp.ClientSession() as http:
        await asyncio.sleep(0.5)  # (HA connects some time after the engine is up)
        async with http.ws_connect(f"{engine.api}/events", headers=engine.headers) as ws:
            # Then it is told that event ended, because of the restart
            ended = None
            async with asyncio.timeout(10):
                while ended is None:
                    message = json.loads((await ws.receive()).data)
                    data = message.get("data", {})
                    if message["type"] == "event" and data.get("clip_id") == "open1":
                        ended = data
            assert ended["phase"] == "ended" and ended["end_reason"] == "engine_restart"
        # And a client connecting later still hears it (it may have missed the first push)
        async with http.ws_connect(f"{engine.api}/events", headers=engine.headers) as ws:
            message = json.loads((await asyncio.wait_for(ws.receive(), 10)).data)
            assert message["type"] == "event" and message["data"]["clip_id"] == "open1"
        clip = await engine.runtime.started_repository().get_clip("open1")
        assert clip is not None and clip.event_state == "ended"
