"""Every stored clip is copied offsite, and retention deletes only copied ones (issue 26, item 3).

A clip whose first store failed is stored later by the background retry: it must be queued
offsite like any other, and with offsite copies on, the disk budget must never delete a clip
that exists nowhere else. Real engine, real WebDAV server, real files.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta
from pathlib import Path
from typing import Any

from homesec_engine.records import ClipFile, ClipQuery, ClipRecord, utcnow
from homesec_engine.retention import Retention
from homesec_engine.schema.validate import validate
from homesec_engine.state import ClipRepository
from homesec_engine.storage import LocalStorage
from tests.api.conftest import API_KEY
from tests.engine.lifecycle.conftest import DavServer, dav_env, webdav_server  # noqa: F401
from tests.engine.state.conftest import Database, database  # noqa: F401 - fixture
from tests.engine_harness import running_engine
from tests.videotools import Segment, make_motion_video


async def test_a_clip_stored_by_the_background_retry_is_copied_offsite(
        tmp_path: Path, webdav_server: DavServer,  # noqa: F811 - fixture
        dav_env: dict[str, str]) -> None:  # noqa: F811 - fixture
    # Given an engine copying clips to a WebDAV server, whose clips folder cannot be made
    # (a file stands where it should be)
    blocker = tmp_path / "disk"
    blocker.write_text("not a folder")
    config = {"storage": {"backend": "local", "path": str(blocker / "clips")},
              "offsite": {"enabled": True, "backend": "webdav", "endpoint": webdav_server.url,
                          "retry_initial_s": 0.1, "retry_max_s": 0.5, **dav_env}}
    async with running_engine(tmp_path, api_key=API_KEY, config=config) as engine:
        pipeline, repo = engine.runtime.pipeline, engine.runtime.started_repository()
        pipeline.upload_backoff_s, pipeline.storage_retry_s = 0.05, 0.2
        # When a recording comes in, its store fails, and the folder can be made later on
        work = tmp_path / "work"
        work.mkdir()
        video = make_motion_video(work / "rec.mp4", [Segment(0.5, 1.5)], duration_s=2,
                                  fps=10, gop=10)
        ended = utcnow()
        pipeline.submit(ClipFile("front_door", video, ended - timedelta(seconds=2), ended,
                                 clip_id="retried"))
        async with asyncio.timeout(30):
            while pipeline.uploads_waiting == 0:
                await asyncio.sleep(0.05)
        blocker.unlink()
        # Then the background retry stores it, and it is copied offsite like any clip
        async with asyncio.timeout(60):
            while True:
                clip = await repo.get_clip("retried")
                if clip is not None and clip.offsite_state == "done":
                    break
                await asyncio.sleep(0.1)
        assert clip.status == "done" and clip.size_bytes == (blocker / "clips" /
                                                             "retried.mp4").stat().st_size
        copied = webdav_server.root / "homesec" / "retried.mp4"
        assert copied.read_bytes() == (blocker / "clips" / "retried.mp4").read_bytes()


async def test_with_offsite_on_the_disk_budget_deletes_only_clips_copied_offsite(
        tmp_path: Path, database: Database) -> None:  # noqa: F811 - fixture
    storage = LocalStorage({"path": tmp_path / "clips"})
    async with ClipRepository(database.url, tmp_path / "outbox",
                              schema=database.schema) as repo:
        # Given four old stored clips, far over the disk budget: one never queued offsite,
        # one skipped (the backlog was full), one whose copy is pending and one copied
        states: dict[str, str | None] = {"never": None, "skipped": "skipped",
                                         "pending": "pending", "copied": "done"}
        for age, (clip_id, state) in enumerate(states.items()):
            src = tmp_path / f"{clip_id}.src"
            src.write_bytes(b"v" * 2_000_000)
            uri = await storage.put(src, f"{clip_id}.mp4")
            await repo.upsert_clip(ClipRecord(
                id=clip_id, camera="door", status="done", storage_uri=uri,
                created_at=utcnow() - timedelta(days=10 - age), size_bytes=2_000_000,
                offsite_state=state))

        class NothingQueued:  # the uploader's on-disk queue, empty
            def pending(self, clip_id: str) -> bool:
                return False

        config: dict[str, Any] = validate("RetentionConfig", {"max_gb": 0.001})
        rules = Retention(config, repository=repo, storage=storage,
                          storage_root=storage.root, offsite=NothingQueued())
        # When retention frees the disk budget
        result = await rules.run_pass()
        # Then only the clip copied offsite is deleted: the others exist nowhere else
        assert result.deleted == {"disk_budget": ["copied"]}
        kept, _ = await repo.list_clips(ClipQuery(limit=10))
        assert {c.id for c in kept} == {"never", "skipped", "pending"}
        assert sorted(p.name for p in storage.root.glob("*.mp4")) == [
            "never.mp4", "pending.mp4", "skipped.mp4"]
