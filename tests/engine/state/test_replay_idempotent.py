"""Replays are idempotent: a spill file replayed twice stores every event once.

An engine killed in the middle of a replay finds the whole spill file again on its next start
(lines leave the file only once all of them were replayed), so it replays some writes a second
time. Clip upserts/updates do not mind; events carry a uid made when they were written and are
inserted with ON CONFLICT DO NOTHING. Each test runs on SQLite and on the real PostgreSQL.
"""

from __future__ import annotations

import json
import shutil
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import inspect, text

from homesec_engine.records import ClipEventRecord, ClipRecord
from homesec_engine.state import ClipRepository
from homesec_engine.state.db import create_engine, normalize_url
from homesec_engine.state.migrations import MIGRATIONS, migrate
from homesec_engine.state.outbox import SPILL_FILE_NAME

from .conftest import FAST_RETRY, Database, RepoFactory
from .pgcluster import free_port

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
DRAIN_TIMEOUT = 30


async def spill_from_an_outage(outbox_dir: Path) -> list[tuple[str, str]]:
    """Writes made while the database is unreachable; the (clip_id, type) of the events.

    The repository points at a port nobody listens on, so every write goes to the spill file
    (the entries are the same for either backend).
    """
    down = ClipRepository(
        f"postgresql://postgres@127.0.0.1:{free_port()}/none", outbox_dir, timeout=2, **FAST_RETRY
    )
    await down.start()
    events: list[tuple[str, str]] = []
    try:
        assert not down.available
        for n in range(3):
            record = ClipRecord(id=f"clip-{n}", camera="front", created_at=T0 + timedelta(n))
            await down.upsert_clip(record)
            for kind in ("recorded", "uploaded"):
                await down.add_event(ClipEventRecord(clip_id=record.id, type=kind))
                events.append((record.id, kind))
            await down.update_clip(record.id, status="done")
    finally:
        await down.close()
    return events


async def test_spill_replayed_twice_stores_events_once(
    make_repo: RepoFactory, tmp_path: Path
) -> None:
    # Given a spill file of writes made during an outage, and a copy of it
    outbox_dir = tmp_path / "outbox"
    events = await spill_from_an_outage(outbox_dir)
    spill = outbox_dir / SPILL_FILE_NAME
    copy = tmp_path / "copy.jsonl"
    shutil.copy(spill, copy)
    assert len(copy.read_text().splitlines()) == 3 * 4

    # When a repository replays it into the database
    first = await make_repo(outbox_dir=outbox_dir)
    assert await first.drain(timeout=DRAIN_TIMEOUT)
    assert not spill.exists()
    await first.close()
    # And the same file turns up again (an engine killed before it could remove it) and a
    # new repository replays it once more
    shutil.copy(copy, spill)
    second = await make_repo(outbox_dir=outbox_dir)
    assert second.pending_writes == 12
    assert await second.drain(timeout=DRAIN_TIMEOUT)

    # Then every event is stored once, in write order, and the clips are in their final state
    stored, total = await second.list_events(limit=100)
    assert [(e.clip_id, e.type) for e in stored] == events
    assert total == len(events)
    for n in range(3):
        clip = await second.get_clip(f"clip-{n}")
        assert clip is not None and clip.status == "done"


async def test_event_kept_by_an_older_engine_is_replayed_once(
    make_repo: RepoFactory, tmp_path: Path
) -> None:
    # Given a spill file written by an engine from before event uids (entries without one)
    outbox_dir = tmp_path / "outbox"
    await spill_from_an_outage(outbox_dir)
    spill = outbox_dir / SPILL_FILE_NAME
    lines = [json.loads(line) for line in spill.read_text().splitlines()]
    for entry in lines:
        entry.get("event", {}).pop("uid", None)
    spill.write_text("".join(json.dumps(entry) + "\n" for entry in lines))
    copy = spill.read_bytes()

    # When it is replayed twice
    first = await make_repo(outbox_dir=outbox_dir)
    assert await first.drain(timeout=DRAIN_TIMEOUT)
    await first.close()
    spill.write_bytes(copy)
    second = await make_repo(outbox_dir=outbox_dir)
    assert await second.drain(timeout=DRAIN_TIMEOUT)

    # Then its events are stored once as well (a uid derived from the entry's content)
    _, total = await second.list_events(limit=100)
    assert total == 6


async def test_same_event_written_twice_is_two_events(repo: ClipRepository) -> None:
    # Given a clip, When the same event is written twice by the engine (two real events)
    await repo.upsert_clip(ClipRecord(id="clip-0", camera="front", created_at=T0))
    event = ClipEventRecord(clip_id="clip-0", type="motion", created_at=T0, data={"n": 1})
    await repo.add_event(event)
    await repo.add_event(event)
    # Then both are stored: only a replay of one write is collapsed
    _, total = await repo.list_events("clip-0")
    assert total == 2


async def test_version_1_database_is_upgraded(database: Database, make_repo: RepoFactory) -> None:
    # Given a database as an engine at schema version 1 left it, with an event stored
    engine = create_engine(normalize_url(database.url), schema=database.schema)
    try:
        repo = await make_repo()
        await repo.upsert_clip(ClipRecord(id="clip-0", camera="front", created_at=T0))
        await repo.add_event(ClipEventRecord(clip_id="clip-0", type="recorded"))
        await repo.close()
        q = f'"{database.schema}".' if database.schema else ""  # text() is not translated
        async with engine.begin() as conn:
            await conn.execute(text(f"DROP INDEX {q}ix_clip_events_uid"))
            await conn.execute(text(f"DROP INDEX {q}ix_clips_listed"))
            await conn.execute(text(f"ALTER TABLE {q}clip_events DROP COLUMN uid"))
            await conn.execute(text(f"DROP INDEX {q}ix_clips_retention"))
            await conn.execute(text(f"DROP INDEX {q}ix_clips_event_state"))
            for column in ("size_bytes", "offsite_state", "offsite_uri", "deleted_reason",
                           "objects", "zones", "event", "event_state"):
                await conn.execute(text(f"ALTER TABLE {q}clips DROP COLUMN {column}"))
            await conn.execute(text(f"DELETE FROM {q}schema_version WHERE version > 1"))

        # When a current engine starts on it
        upgraded = await make_repo()

        # Then it is at the latest version with the uid column, the clip life-cycle columns
        # and the indexes back
        assert await migrate(engine) == MIGRATIONS[-1].version
        async with engine.connect() as conn:
            columns, event_ix, clip_ix, clip_columns = await conn.run_sync(
                lambda c: (
                    {col["name"] for col in inspect(c).get_columns("clip_events", database.schema)},
                    {ix["name"] for ix in inspect(c).get_indexes("clip_events", database.schema)},
                    {ix["name"] for ix in inspect(c).get_indexes("clips", database.schema)},
                    {col["name"] for col in inspect(c).get_columns("clips", database.schema)},
                )
            )
        assert "uid" in columns and "ix_clip_events_uid" in event_ix
        assert {"ix_clips_listed", "ix_clips_retention"} <= clip_ix
        assert {"size_bytes", "offsite_state", "offsite_uri", "deleted_reason"} <= clip_columns
    finally:
        await engine.dispose()
    # And the old event is kept next to new ones
    await upgraded.add_event(ClipEventRecord(clip_id="clip-0", type="uploaded"))
    stored, total = await upgraded.list_events("clip-0")
    assert [e.type for e in stored] == ["recorded", "uploaded"] and total == 2
