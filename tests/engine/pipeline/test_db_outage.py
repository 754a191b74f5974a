"""P0: with the database down, clips keep being recorded and stored; nothing is lost."""

from __future__ import annotations

import asyncio
from pathlib import Path

import yaml

from homesec_engine.config import ConfigManager
from homesec_engine.records import ClipQuery
from homesec_engine.runtime import EngineRuntime
from homesec_engine.state import ClipRepository
from tests.engine.state.pgcluster import throwaway_postgres

FAST = {"retry_initial": 0.05, "retry_max": 0.5, "timeout": 3.0}


def stored_clip_ids(clips_dir: Path) -> set[str]:
    return {p.stem for p in clips_dir.glob("*.mp4")}


async def wait_for(predicate, timeout: float = 90.0) -> None:  # type: ignore[no-untyped-def]
    async with asyncio.timeout(timeout):
        while not await predicate():
            await asyncio.sleep(0.1)


async def test_clips_keep_landing_while_postgres_is_down_and_are_reconciled(
    tmp_path: Path,
) -> None:
    async with throwaway_postgres() as cluster:
        # Given an engine on a PostgreSQL of its own with a demo camera recording every second
        clips_dir = tmp_path / "clips"
        base = tmp_path / "homesec.yaml"
        base.write_text(yaml.safe_dump({
            "state": {"url": cluster.url, "outbox_path": str(tmp_path / "outbox")},
            "storage": {"path": str(clips_dir)},
            # Animals alert here (by default they are detections, not alerts).
            "alert_policy": {"alert_classes": ["animal"]},
            "cameras": [{"name": "yard", "source_backend": "demo",
                         "source_config": {"interval_s": 1, "clip_s": 1, "subject": "animal"}}],
        }))
        manager = ConfigManager([base], tmp_path / "overrides.yaml")
        await manager.load()
        runtime = EngineRuntime(manager, repository_options=FAST, monitor_interval_s=0.5)
        await runtime.start()
        try:
            async def one_done() -> bool:
                clips, _ = await runtime.repository.list_clips(ClipQuery(status="done"))
                return bool(clips)

            await wait_for(one_done)

            # When the database goes down mid-run
            await cluster.stop()
            before = len(stored_clip_ids(clips_dir))

            # Then clips keep landing in storage
            async def three_more() -> bool:
                return len(stored_clip_ids(clips_dir)) >= before + 3

            await wait_for(three_more)
            assert runtime.components()["database"]["status"] == "down"
            assert runtime.repository.pending_writes > 0

            # When the database comes back
            await cluster.start()
            assert await runtime.repository.drain(timeout=60)
        finally:
            await runtime.stop()

        # Then every stored clip has its final state and its events in the database
        # (writes still queued at shutdown are replayed from the outbox by the next start)
        repo = ClipRepository(cluster.url, tmp_path / "outbox", **FAST)
        await repo.start()
        try:
            assert await repo.drain(timeout=60)
            stored = stored_clip_ids(clips_dir)
            assert len(stored) >= before + 3
            for clip_id in stored:
                record = await repo.get_clip(clip_id)
                assert record is not None, f"clip {clip_id} is in storage but not in the DB"
                assert record.status == "done"
                assert record.storage_uri == f"local://{clip_id}.mp4"
                assert record.detected_objects == ["animal"] and record.alerted
                events, _ = await repo.list_events(clip_id)
                types = [e.type for e in events]
                assert types[0] == "clip_recorded"
                for expected in ("uploaded", "filtered", "alert_decided"):
                    assert expected in types
        finally:
            await repo.close()
