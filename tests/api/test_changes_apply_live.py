"""Camera changes take effect in the running engine without a restart, seen in what it
records: a disabled or removed camera stops making clips, an enabled or added one starts,
new zones judge the next clip. Real demo cameras render and encode a clip a second."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import datetime
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from homesec_engine.records import ClipQuery, ClipStatus
from tests.engine_harness import RunningEngine, running_engine

FAST_DEMO = {"interval_s": 1, "clip_s": 1, "subject": "person", "width": 160, "height": 120,
             "fps": 5}
# A strip along the top of the picture: the demo's person walks on the ground line below it.
SKY = {"name": "sky", "points": [[0, 0], [1, 0], [1, 0.2], [0, 0.2]], "classes": ["person"]}
EVERYWHERE = {"name": "everywhere", "points": [[0, 0], [1, 0], [1, 1], [0, 1]],
              "classes": ["person"]}


@pytest.fixture
async def engine(tmp_path: Path) -> AsyncIterator[RunningEngine]:
    cameras = [{"name": "porch", "source_backend": "demo", "source_config": FAST_DEMO}]
    async with running_engine(tmp_path, cameras=cameras, run_sources=True) as running:
        yield running


async def _until(predicate: Callable[[], Awaitable[bool]], timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while not await predicate():
        assert time.monotonic() < deadline, "condition not reached in time"
        await asyncio.sleep(0.2)


async def _clips(engine: RunningEngine, camera: str) -> list[Any]:
    clips, _ = await engine.runtime.started_repository().list_clips(
        ClipQuery(camera=camera, limit=500))
    return clips


async def _change(method: str, engine: RunningEngine, path: str,
                  body: dict[str, Any] | None = None) -> dict[str, Any]:
    async with aiohttp.ClientSession() as session:
        async with session.request(method, f"{engine.api}{path}", json=body) as resp:
            assert resp.status in (200, 201), await resp.text()
            result: dict[str, Any] = await resp.json()
    # Every change below is applied at once: nothing waits for a restart
    assert result["restart_required"] is False and result["restart_fields"] == []
    return result


async def _made_clip(engine: RunningEngine, camera: str, more_than: int) -> None:
    async def more() -> bool:
        return len(await _clips(engine, camera)) > more_than
    await _until(more)


async def _settled_count(engine: RunningEngine, camera: str) -> int:
    """The clip count once a clip in flight (finished before the stop) is stored."""
    before = -1
    while (now := len(await _clips(engine, camera))) != before:
        before = now
        await asyncio.sleep(1.5)
    return now


async def test_disabling_a_camera_stops_its_recording_and_enabling_starts_it(
    engine: RunningEngine,
) -> None:
    # Given the porch camera recording
    await _made_clip(engine, "porch", 0)
    # When it is disabled through the API
    await _change("PUT", engine, "/cameras/porch", {"enabled": False})
    # Then it makes no more clips (over three of its intervals) and reads unhealthy
    stopped_at = await _settled_count(engine, "porch")
    await asyncio.sleep(3.5)
    assert len(await _clips(engine, "porch")) == stopped_at
    assert engine.runtime.cameras()["porch"].healthy is False
    assert "porch" not in engine.runtime.sources
    # When it is enabled again Then it records again
    await _change("PUT", engine, "/cameras/porch", {"enabled": True})
    await _made_clip(engine, "porch", stopped_at)


async def test_adding_a_camera_starts_it_and_removing_it_stops_it(
    engine: RunningEngine,
) -> None:
    # When a camera is added through the API
    await _change("POST", engine, "/cameras", {
        "name": "yard", "source_backend": "demo", "source_config": FAST_DEMO})
    # Then it records without a restart
    await _made_clip(engine, "yard", 0)
    # When it is removed
    await _change("DELETE", engine, "/cameras/yard")
    # Then it stops recording and is gone from the engine's cameras
    stopped_at = await _settled_count(engine, "yard")
    await asyncio.sleep(3.5)
    assert len(await _clips(engine, "yard")) == stopped_at
    assert "yard" not in engine.runtime.cameras()


async def test_new_zones_judge_the_next_clip(engine: RunningEngine) -> None:
    # Given the porch camera alerting on the person walking past
    async def alerted_since(moment: float) -> bool:
        return any(c.alerted and c.created_at.timestamp() > moment
                   for c in await _clips(engine, "porch"))
    start = time.time()
    await _until(lambda: alerted_since(start))
    # When its only zone becomes a strip of sky the person never enters
    await _change("PUT", engine, "/cameras/porch", {"zones": [SKY]})
    changed = time.time() + 1.5  # a clip recording at the change may be judged either way

    async def judged_after() -> list[Any]:
        return [c for c in await _clips(engine, "porch")
                if c.created_at.timestamp() > changed and c.status == ClipStatus.DONE]

    async def two_judged() -> bool:
        return len(await judged_after()) >= 2
    await _until(two_judged)
    # Then the clips recorded after it do not alert
    assert not any(c.alerted for c in await judged_after())
    # When the zone covers the whole picture again Then the next clips alert, in that zone
    await _change("PUT", engine, "/cameras/porch", {"zones": [EVERYWHERE]})
    again = time.time() + 1.5
    await _until(lambda: alerted_since(again))
    newest = [c for c in await _clips(engine, "porch") if c.alerted][0]
    assert newest.zones == ["everywhere"]


async def _tiers_after(engine: RunningEngine,
                       moment: float) -> list[tuple[str, tuple[str, ...]]]:
    """(tier, zones) of the porch's judged clips recorded after `moment`, as the API lists
    them."""
    async with aiohttp.ClientSession() as session:
        async with session.get(f"{engine.api}/clips",
                               params={"camera": "porch", "page_size": "100"}) as resp:
            assert resp.status == 200, await resp.text()
            page = await resp.json()
    return [(c["tier"], tuple(c["zones"])) for c in page["clips"]
            if c["status"] == ClipStatus.DONE and c["tier"] is not None
            and datetime.fromisoformat(c["created_at"]).timestamp() > moment]


async def test_a_zone_rule_judges_the_next_clip(engine: RunningEngine) -> None:
    # Given the porch camera with one zone over the whole picture, alerting on the person
    await _change("PUT", engine, "/cameras/porch", {"zones": [EVERYWHERE]})
    start = time.time() + 1.5

    async def tier_seen(tier: str, moment: float) -> bool:
        return any(t == tier for t, _ in await _tiers_after(engine, moment))
    await _until(lambda: tier_seen("alert", start))
    # When a rule makes everything in that zone a detection (recorded, not notified)
    await _change("PUT", engine, "/alert-policy", {"alert_policy": {"cameras": {"porch": {
        "zones": {"everywhere": {"alert_classes": []}}}}}})
    changed = time.time() + 1.5  # a clip recording at the change may be judged either way

    async def two_judged() -> bool:
        return len(await _tiers_after(engine, changed)) >= 2
    await _until(two_judged)
    # Then the clips recorded after it are detections, in that zone
    assert set(await _tiers_after(engine, changed)) == {("detection", ("everywhere",))}
