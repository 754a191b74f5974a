"""A deletion is final (issue 26, item 2).

Deleting a clip while the engine still works on it (from a notification, during the event)
must not be undone by the pipeline's, the live event's or a replayed write, and what was
stored for the clip after the deletion is removed too. The slow disk that keeps the clip in
the pipeline while the user deletes it is the one thing simulated; the engine, its database,
its storage and the video are real.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta
from pathlib import Path
from typing import Any

import aiohttp

from homesec_engine.records import ClipEventRecord, ClipFile, ClipRecord, ClipStatus, utcnow
from homesec_engine.state import ClipRepository
from homesec_engine.storage.local import LocalStorage
from tests.api.conftest import API_KEY, Api
from tests.engine.state.conftest import Database, database  # noqa: F401 - fixture
from tests.engine_harness import running_engine
from tests.videotools import Segment, free_port, make_motion_video


class SlowDisk(LocalStorage):
    """Local storage whose writes wait until the test lets them through (a slow disk)."""

    def __init__(self, config: dict[str, Any]) -> None:
        super().__init__(config)
        self.release = asyncio.Event()
        self.waiting = 0

    async def put(self, local_path: Path, key: str) -> str:
        self.waiting += 1
        await self.release.wait()
        return await super().put(local_path, key)


def _files_of(root: Path, clip_id: str) -> list[str]:
    return sorted(p.name for p in root.rglob(f"{clip_id}*"))


async def test_a_clip_deleted_while_the_pipeline_stores_it_stays_deleted_with_no_files(
        tmp_path: Path) -> None:
    clip_id = "20260101T000000-deleteme"
    async with running_engine(tmp_path, api_key=API_KEY) as engine, \
            aiohttp.ClientSession() as http:
        api = Api(http, engine)
        runtime, pipeline = engine.runtime, engine.runtime.pipeline
        root = engine.data_dir / "clips"
        slow = SlowDisk({"path": str(root)})
        runtime.storage = pipeline.storage = slow
        # Given a recording the pipeline is working on, its video and snapshot on their way
        # to a slow disk
        work = tmp_path / "work"
        work.mkdir()
        video = make_motion_video(work / "rec.mp4", [Segment(0.3, 1.8)], duration_s=2,
                                  fps=10, gop=10)
        ended = utcnow()
        task = pipeline.submit(ClipFile("front_door", video, ended - timedelta(seconds=2),
                                        ended, clip_id=clip_id))
        assert task is not None
        async with asyncio.timeout(30):
            while not slow.waiting:
                await asyncio.sleep(0.05)
        # When the user deletes it
        status, body, _ = await api.call("DELETE", f"/clips/{clip_id}")
        assert status == 200, body
        # And the pipeline then finishes storing and judging it
        slow.release.set()
        await asyncio.wait_for(task, 60)
        # Then the clip stays deleted
        clip = await runtime.started_repository().get_clip(clip_id)
        assert clip is not None and clip.status == ClipStatus.DELETED, clip
        status, listed, _ = await api.call("GET", "/clips")
        assert clip_id not in {c["id"] for c in listed["clips"]}
        # And nothing stored for it after the deletion is left: no video, no snapshot
        assert _files_of(root, clip_id) == []
        status, _, _ = await api.call("GET", f"/clips/{clip_id}/media")
        assert status == 404
        # And its history has nothing the pipeline stored after the deletion (the video and
        # the snapshot were held by the slow disk until then)
        events, _ = await runtime.started_repository().list_events(clip_id)
        assert not {"uploaded", "snapshot"} & {e.type for e in events}
    # And after a restart it is still deleted, with no file
    async with running_engine(tmp_path, api_key=API_KEY) as engine:
        clip = await engine.runtime.started_repository().get_clip(clip_id)
        assert clip is not None and clip.status == ClipStatus.DELETED
        assert _files_of(engine.data_dir / "clips", clip_id) == []


async def test_the_live_event_and_the_offsite_copy_never_bring_a_deleted_clip_back(
        tmp_path: Path, database: Database) -> None:  # noqa: F811 - fixture
    repo = ClipRepository(database.url, tmp_path / "outbox", schema=database.schema)
    told: list[tuple[str, list[str]]] = []

    async def files_stored_after_deletion(clip_id: str, uris: list[str]) -> None:
        told.append((clip_id, uris))

    repo.on_write_after_delete = files_stored_after_deletion
    async with repo:
        # Given a clip whose live event is running, deleted by the user
        event = {"clip_id": "c1", "state": "active", "detected_objects": ["person"]}
        await repo.upsert_clip(ClipRecord(id="c1", camera="porch", status="queued_local",
                                          created_at=utcnow(), event=event,
                                          event_state="active"))
        await repo.delete_clip("c1")
        # When the live event goes on writing, the pipeline upserts and stores it, and the
        # offsite uploader records its copy
        await repo.update_clip("c1", event={**event, "detected_objects": ["person", "car"]})
        await repo.upsert_clip(ClipRecord(id="c1", camera="porch", status="queued_local",
                                          created_at=utcnow(), event=event,
                                          event_state="active"))
        await repo.update_clip("c1", status="uploaded", storage_uri="local://c1.mp4")
        await repo.add_event(ClipEventRecord(clip_id="c1", type="snapshot",
                                             data={"storage_uri": "local://c1.jpg"}))
        await repo.update_clip("c1", offsite_state="done", offsite_uri="s3://b/c1.mp4")
        # Then the clip is still deleted, as it was
        clip = await repo.get_clip("c1")
        assert clip is not None and clip.status == ClipStatus.DELETED
        assert clip.storage_uri is None and clip.offsite_state is None
        assert clip.event == event
        # And none of those writes reached its history
        events, _ = await repo.list_events("c1")
        assert [e.type for e in events] == []
        # And what they stored was named so that it is removed
        stored = {uri for clip_id, uris in told if clip_id == "c1" for uri in uris}
        assert stored == {"local://c1.mp4", "local://c1.jpg"}


async def test_writes_kept_while_the_database_was_down_do_not_undo_a_deletion(
        tmp_path: Path, database: Database) -> None:  # noqa: F811 - fixture
    outbox = tmp_path / "outbox"
    async with ClipRepository(database.url, outbox, schema=database.schema) as repo:
        await repo.upsert_clip(ClipRecord(id="c2", camera="porch", status="queued_local",
                                          created_at=utcnow()))
        await repo.delete_clip("c2")
    # Given writes to that clip kept in the outbox by an engine that could not reach its
    # database (and was then stopped)
    unreachable = f"postgresql://postgres@127.0.0.1:{free_port()}/none"
    async with ClipRepository(unreachable, outbox, timeout=1) as down:
        await down.update_clip("c2", status="done", storage_uri="local://c2.mp4")
        await down.add_event(ClipEventRecord(clip_id="c2", type="uploaded",
                                             data={"storage_uri": "local://c2.mp4"}))
        assert down.pending_writes == 2
    # When the next start replays them on the database
    told: list[tuple[str, list[str]]] = []

    async def files_stored_after_deletion(clip_id: str, uris: list[str]) -> None:
        told.append((clip_id, uris))

    repo = ClipRepository(database.url, outbox, schema=database.schema,
                          retry_initial=0.05, retry_max=0.25)
    repo.on_write_after_delete = files_stored_after_deletion
    async with repo:
        assert await repo.drain(timeout=20)
        # Then the clip is still deleted, and the stored file they name is handed over
        clip = await repo.get_clip("c2")
        assert clip is not None and clip.status == ClipStatus.DELETED
        assert clip.storage_uri is None
        assert ("c2", ["local://c2.mp4"]) in told
