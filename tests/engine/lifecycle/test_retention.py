"""Retention deletes the right clips (by age, then by disk budget) and never an unfinished or
not-yet-copied one; on SQLite and on the real PostgreSQL."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from homesec_engine.records import ClipQuery, ClipRecord, ClipStatus, utcnow
from homesec_engine.retention import Retention
from homesec_engine.schema.validate import SchemaValidationError, validate
from homesec_engine.state import ClipRepository
from homesec_engine.storage import LocalStorage

NOW = utcnow()
MB = 1_000_000


async def add_clip(repo: ClipRepository, storage: LocalStorage, tmp_path: Path, clip_id: str,
                   *, age_days: float, alerted: bool = False, camera: str = "door",
                   status: str = ClipStatus.DONE, offsite_state: str | None = None,
                   size: int = 1000) -> None:
    """A stored clip `age_days` old with a video file of `size` bytes and a snapshot."""
    src = tmp_path / f"{clip_id}.src"
    src.write_bytes(b"v" * size)
    uri = await storage.put(src, f"{clip_id}.mp4")
    snap = tmp_path / f"{clip_id}.snap"
    snap.write_bytes(b"jpeg")
    await storage.put(snap, f"{clip_id}.jpg")
    await repo.upsert_clip(ClipRecord(
        id=clip_id, camera=camera, status=status, created_at=NOW - timedelta(days=age_days),
        alerted=alerted, storage_uri=uri, size_bytes=size, offsite_state=offsite_state))


def retention(repo: ClipRepository, storage: LocalStorage, offsite: Any = None,
              **config: Any) -> Retention:
    return Retention(validate("RetentionConfig", config), repository=repo, storage=storage,
                     storage_root=storage.root, offsite=offsite)


async def kept_ids(repo: ClipRepository) -> set[str]:
    clips, _ = await repo.list_clips(ClipQuery(limit=1000))
    return {c.id for c in clips}


@pytest.fixture
async def repo(make_repo: Any) -> ClipRepository:
    return await make_repo()


@pytest.fixture
def storage(tmp_path: Path) -> LocalStorage:
    return LocalStorage({"path": tmp_path / "clips"})


async def test_old_clips_go_by_age_alerted_ones_keep_longer(
    repo: ClipRepository, storage: LocalStorage, tmp_path: Path
) -> None:
    # Given clips of 1, 10 and 40 days, alerted ones of 10 and 40 days, and a camera whose
    # plain clips are kept only 5 days
    for clip_id, age, alerted, camera in [
        ("new", 1, False, "door"), ("mid", 10, False, "door"), ("old", 40, False, "door"),
        ("alert_mid", 10, True, "door"), ("alert_old", 40, True, "door"),
        ("yard_mid", 10, False, "yard"),
    ]:
        await add_clip(repo, storage, tmp_path, clip_id, age_days=age, alerted=alerted,
                       camera=camera)
    rules = retention(repo, storage, keep_days=30, alerted_keep_days=35,
                      cameras={"yard": {"keep_days": 5}})

    # When a retention pass runs
    result = await rules.run_pass()

    # Then the plain clip past 30 days, the alerted one past 35 and the yard clip past its
    # 5 days are deleted with reason "age", their files and snapshots gone
    deleted = {"old", "alert_old", "yard_mid"}
    assert set(result.deleted["age"]) == deleted
    assert await kept_ids(repo) == {"new", "mid", "alert_mid"}
    for clip_id in deleted:
        clip = await repo.get_clip(clip_id)
        assert clip is not None and clip.status == "deleted" and clip.deleted_reason == "age"
        assert not (storage.root / f"{clip_id}.mp4").exists()
        assert not (storage.root / f"{clip_id}.jpg").exists()
    assert (storage.root / "mid.mp4").exists()
    events, _ = await repo.list_events("old")
    assert [e.data for e in events if e.type == "deleted"] == [{"reason": "age"}]
    # And the storage figures count what is left
    assert rules.figures.clips_stored == 3 and rules.figures.disk_used_bytes == 3000


async def test_unfinished_and_unsynced_clips_are_never_deleted(
    repo: ClipRepository, storage: LocalStorage, tmp_path: Path
) -> None:
    # Given old clips: one still being analysed, one whose offsite copy is pending in the
    # database, one queued on disk but not recorded yet, and one copied offsite
    await add_clip(repo, storage, tmp_path, "analysing", age_days=99, status="analyzed")
    await add_clip(repo, storage, tmp_path, "pending", age_days=99, offsite_state="pending")
    await add_clip(repo, storage, tmp_path, "queued", age_days=99)
    await add_clip(repo, storage, tmp_path, "copied", age_days=99, offsite_state="done")

    class Queue:  # the uploader's on-disk queue as retention sees it
        def pending(self, clip_id: str) -> bool:
            return clip_id == "queued"

    # When retention runs (offsite copies enabled)
    result = await retention(repo, storage, Queue(), keep_days=1).run_pass()

    # Then only the copied clip is deleted; the others and their files stay
    assert result.deleted == {"age": ["copied"]}
    assert await kept_ids(repo) == {"analysing", "pending", "queued"}
    assert (storage.root / "pending.mp4").exists() and (storage.root / "queued.mp4").exists()


async def test_over_budget_deletes_oldest_plain_clips_first_then_alerted(
    repo: ClipRepository, storage: LocalStorage, tmp_path: Path
) -> None:
    # Given 5 MB of young clips (oldest first: alert_a, plain_b, alert_c, plain_d, plain_e)
    for clip_id, age, alerted in [("alert_a", 5, True), ("plain_b", 4, False),
                                  ("alert_c", 3, True), ("plain_d", 2, False),
                                  ("plain_e", 1, False)]:
        await add_clip(repo, storage, tmp_path, clip_id, age_days=age, alerted=alerted,
                       size=MB)

    # When the budget is 2.5 MB (2.5 MB too much)
    result = await retention(repo, storage, max_gb=0.0025).run_pass()

    # Then the three plain clips go, oldest first, before any alerted one
    assert result.deleted == {"disk_budget": ["plain_b", "plain_d", "plain_e"]}
    assert await kept_ids(repo) == {"alert_a", "alert_c"}

    # When the budget shrinks to 1 MB
    result = await retention(repo, storage, max_gb=0.001).run_pass()

    # Then the oldest alerted clip goes too
    assert result.deleted == {"disk_budget": ["alert_a"]}
    clip = await repo.get_clip("alert_a")
    assert clip is not None and clip.deleted_reason == "disk_budget"


async def test_a_pass_deletes_at_most_one_batch(
    repo: ClipRepository, storage: LocalStorage, tmp_path: Path
) -> None:
    # Given 7 expired clips and a batch of 3
    for n in range(7):
        await add_clip(repo, storage, tmp_path, f"c{n}", age_days=50 + n)
    rules = retention(repo, storage, batch=3)

    # When passes run until nothing is due
    sizes = []
    while (result := await rules.run_pass()).deleted:
        sizes.append(len(result.deleted["age"]))

    # Then each pass deleted at most 3, oldest first, and all 7 are gone in the end
    assert sizes == [3, 3, 1]
    assert await kept_ids(repo) == set()


@pytest.mark.parametrize("field", ["keep_days", "alerted_keep_days", "max_gb"])
def test_a_setting_that_would_delete_everything_is_refused(field: str) -> None:
    # Given a retention of 0 (days or GB) / When validated
    with pytest.raises(SchemaValidationError) as err:
        validate("Config", {"retention": {field: 0}})
    # Then the field is named and the reason given
    assert err.value.errors == [{"path": f"retention.{field}",
                                 "message": err.value.errors[0]["message"]}]
    assert "delete every clip at once" in err.value.errors[0]["message"]
