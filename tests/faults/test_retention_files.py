"""Retention never leaves files behind for good (issue 26, item 5).

kill -9 during a retention pass used to leave deleted clips' files on disk, where the disk
budget (which counts rows) never saw them again. Files now go before rows, and a sweep at
start removes what an older engine left. Real repository (SQLite and PostgreSQL), real files.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta
from pathlib import Path

import pytest

from homesec_engine.records import ClipQuery, ClipRecord, ClipStatus, utcnow
from homesec_engine.retention import Retention
from homesec_engine.schema.validate import validate
from homesec_engine.state import ClipRepository
from homesec_engine.storage import LocalStorage
from tests.api.conftest import API_KEY
from tests.engine.state.conftest import Database, database  # noqa: F401 - fixture
from tests.engine_harness import running_engine


async def _stored(repo: ClipRepository, storage: LocalStorage, tmp_path: Path,
                  clip_id: str, age_days: float) -> None:
    for suffix in (".mp4", ".jpg"):
        src = tmp_path / f"{clip_id}{suffix}.src"
        src.write_bytes(b"v" * 1000)
        await storage.put(src, f"{clip_id}{suffix}")
    await repo.upsert_clip(ClipRecord(
        id=clip_id, camera="door", status="done", storage_uri=f"local://{clip_id}.mp4",
        created_at=utcnow() - timedelta(days=age_days), size_bytes=1000))


async def test_a_pass_that_cannot_remove_a_file_leaves_the_clip_listed(
        tmp_path: Path, database: Database) -> None:  # noqa: F811 - fixture
    storage = LocalStorage({"path": tmp_path / "clips"})
    async with ClipRepository(database.url, tmp_path / "outbox",
                              schema=database.schema) as repo:
        # Given an old clip whose video the pass cannot remove (a folder stands in its
        # place, as after a failing disk)
        await _stored(repo, storage, tmp_path, "stuck", age_days=30)
        video = storage.root / "stuck.mp4"
        video.unlink()
        video.mkdir()
        rules = Retention(validate("RetentionConfig", {"keep_days": 1}), repository=repo,
                          storage=storage, storage_root=storage.root)
        # When retention deletes it by age
        with pytest.raises(OSError):
            await rules.run_pass()
        # Then the clip is still listed (the next pass tries again): never a deleted row
        # whose file stays on the disk, out of the budget's sight
        kept, _ = await repo.list_clips(ClipQuery(limit=10))
        assert [c.id for c in kept] == ["stuck"]


async def test_files_of_clips_deleted_by_a_killed_pass_are_swept_at_start(
        tmp_path: Path) -> None:
    # Given clips whose rows a killed retention pass marked deleted, their files left behind,
    # beside a kept clip and a file the engine does not know
    async with running_engine(tmp_path, api_key=API_KEY) as engine:
        repo = engine.runtime.started_repository()
        storage = engine.runtime.storage
        assert isinstance(storage, LocalStorage)
        for clip_id in ("gone1", "gone2", "kept"):
            await _stored(repo, storage, tmp_path, clip_id, age_days=0.1)
        await repo.mark_deleted(["gone1", "gone2"], "disk_budget")
        (storage.root / "notes.txt").write_text("the user's own file")
        root = storage.root
    # When the engine starts again
    async with running_engine(tmp_path, api_key=API_KEY) as engine:
        # Then the deleted clips' videos and snapshots are removed; the kept clip and the
        # unknown file are untouched
        async with asyncio.timeout(30):
            while (root / "gone1.mp4").exists() or (root / "gone2.jpg").exists():
                await asyncio.sleep(0.1)
        assert sorted(p.name for p in root.iterdir()) == ["kept.jpg", "kept.mp4", "notes.txt"]
        clip = await engine.runtime.started_repository().get_clip("gone1")
        assert clip is not None and clip.status == ClipStatus.DELETED
