"""/stats counts a stored clip by the very next read, with the production cache on
(issue 16, item 11)."""

from __future__ import annotations

from pathlib import Path

import aiohttp

from homesec_engine.api.context import ApiSettings
from homesec_engine.records import ClipRecord, new_clip_id, utcnow
from tests.engine_harness import running_engine

from .conftest import API_KEY, Api


async def test_a_stored_clip_is_counted_by_the_next_stats_read(
    tmp_path: Path, http: aiohttp.ClientSession
) -> None:
    # Given an engine whose stats cache lasts a minute (longer than any poll interval)
    settings = ApiSettings(stats_cache_s=60.0, probe_interval_s=0.0)
    async with running_engine(tmp_path, api_key=API_KEY, api_settings=settings) as engine:
        api = Api(http, engine)
        for expected in (1, 2, 3):
            status, before, _ = await api.call("GET", "/stats")
            assert status == 200
            # When the pipeline stores a new clip (one that alerted)
            await engine.runtime.repository.upsert_clip(ClipRecord(
                id=new_clip_id(), camera="front_door", status="done", created_at=utcnow(),
                alerted=True))
            # Then the next read of /stats and /status counts it
            status, after, _ = await api.call("GET", "/stats")
            assert (after["clips_today"], after["alerts_today"]) == (expected, expected)
            status, body, _ = await api.call("GET", "/status")
            assert body["stats"]["clips_today"] == expected
