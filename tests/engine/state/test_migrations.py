"""Versioned migrations: applied once, recorded, idempotent, transactional (SQLite, PostgreSQL)."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator

import pytest
from sqlalchemy import Column, Connection, Integer, MetaData, Table, inspect, select
from sqlalchemy.ext.asyncio import AsyncEngine

from homesec_engine.state.db import create_engine, normalize_url
from homesec_engine.state.migrations import MIGRATIONS, Migration, migrate
from homesec_engine.state.tables import schema_version

from .conftest import Database, RepoFactory


NEXT = MIGRATIONS[-1].version + 1  # a step this engine does not ship


@pytest.fixture
async def engine(database: Database) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(normalize_url(database.url), schema=database.schema)
    yield engine
    await engine.dispose()


async def recorded(engine: AsyncEngine) -> list[tuple[int, str]]:
    async with engine.connect() as conn:
        columns = schema_version.c
        rows = await conn.execute(
            select(columns.version, columns.description).order_by(columns.version)
        )
        return [(row.version, row.description) for row in rows]


async def table_names(engine: AsyncEngine, schema: str | None) -> set[str]:
    async with engine.connect() as conn:
        return set(await conn.run_sync(lambda c: inspect(c).get_table_names(schema=schema)))


async def index_names(engine: AsyncEngine, schema: str | None, table: str) -> set[str]:
    async with engine.connect() as conn:
        indexes = await conn.run_sync(lambda c: inspect(c).get_indexes(table, schema=schema))
        return {str(ix["name"]) for ix in indexes}


async def test_fresh_database_gets_latest_schema(engine: AsyncEngine, database: Database) -> None:
    # Given an empty database, When migrated
    latest = MIGRATIONS[-1].version
    assert await migrate(engine) == latest
    # Then every step is recorded and the tables and list indexes exist
    assert [v for v, _ in await recorded(engine)] == [m.version for m in MIGRATIONS]
    assert {"clips", "clip_events", "schema_version"} <= await table_names(engine, database.schema)
    assert {
        "ix_clips_created_at",
        "ix_clips_camera_created_at",
        "ix_clips_status_created_at",
        "ix_clips_alerted_created_at",
        "ix_clips_risk_level_created_at",
        "ix_clips_activity_type_created_at",
    } <= await index_names(engine, database.schema, "clips")


async def test_migrate_is_idempotent(engine: AsyncEngine, make_repo: RepoFactory) -> None:
    # Given a migrated database
    first = await migrate(engine)
    before = await recorded(engine)
    # When migrations run again, directly and through a repository start
    assert await migrate(engine) == first
    repo = await make_repo()
    await repo.close()
    # Then nothing changes: same version, same records
    assert await migrate(engine) == first
    assert await recorded(engine) == before


def _add_note_table(conn: Connection) -> None:
    Table("notes", MetaData(), Column("id", Integer, primary_key=True)).create(conn)


async def test_missing_steps_are_applied_once_and_recorded(
    engine: AsyncEngine, database: Database
) -> None:
    # Given a database at the latest version and a new step after it
    await migrate(engine)
    calls: list[int] = []

    def step(conn: Connection) -> None:
        calls.append(NEXT)
        _add_note_table(conn)

    steps = [*MIGRATIONS, Migration(NEXT, "notes table", step)]
    # When migrations run twice, Then the new step ran once and is recorded with its description
    assert await migrate(engine, steps) == NEXT
    assert await migrate(engine, steps) == NEXT
    assert calls == [NEXT]
    assert (await recorded(engine))[-1] == (NEXT, "notes table")
    assert "notes" in await table_names(engine, database.schema)


async def test_failed_step_rolls_back(engine: AsyncEngine, database: Database) -> None:
    # Given a database at the latest version and a new step that creates a table, then fails
    await migrate(engine)

    def broken(conn: Connection) -> None:
        _add_note_table(conn)  # DDL first, then a failure: the whole step must roll back
        raise RuntimeError("step failed")

    # When migrating, Then the error surfaces, the version stays and the table is gone
    with pytest.raises(RuntimeError, match="step failed"):
        await migrate(engine, [*MIGRATIONS, Migration(NEXT, "broken", broken)])
    assert [v for v, _ in await recorded(engine)] == [m.version for m in MIGRATIONS]
    assert "notes" not in await table_names(engine, database.schema)


async def test_steps_must_be_numbered_in_order(engine: AsyncEngine) -> None:
    # Given steps with a gap in their numbers, When migrating, Then they are refused
    with pytest.raises(ValueError, match="numbered"):
        await migrate(engine, [*MIGRATIONS, Migration(NEXT + 1, "gap", _add_note_table)])


async def test_newer_database_is_left_alone(
    engine: AsyncEngine, caplog: pytest.LogCaptureFixture
) -> None:
    # Given a database migrated by a newer engine (one step beyond this one's)
    steps = [*MIGRATIONS, Migration(NEXT, "from the future", _add_note_table)]
    await migrate(engine, steps)
    # When this engine starts, Then it leaves the database alone and warns
    with caplog.at_level(logging.WARNING):
        assert await migrate(engine) == NEXT
    assert "newer than this engine knows" in caplog.text


async def test_clips_from_version_3_gain_objects_and_zones(
    engine: AsyncEngine, database: Database, make_repo: RepoFactory
) -> None:
    # Given a database as version 3 left it: a clip, and clips without objects/zones columns
    from homesec_engine.records import ClipRecord

    repo = await make_repo()
    await repo.upsert_clip(ClipRecord(id="old-clip", camera="door", detected_objects=["person"]))
    await repo.close()
    prefix = f'"{database.schema}".' if database.schema else ""
    async with engine.begin() as conn:
        await conn.exec_driver_sql(f"DROP INDEX {prefix}ix_clips_event_state")
        for column in ("objects", "zones", "event", "event_state"):
            await conn.exec_driver_sql(f"ALTER TABLE {prefix}clips DROP COLUMN {column}")
        await conn.execute(schema_version.delete().where(schema_version.c.version >= 4))
    # When the engine starts (and migrates)
    assert await migrate(engine) == MIGRATIONS[-1].version
    # Then steps 4 and on are recorded, and the old clip reads with empty objects and zones
    # and no live event
    assert [v for v, *_ in await recorded(engine)][-3:] == [4, 5, 6]
    repo = await make_repo()
    clip = await repo.get_clip("old-clip")
    assert clip is not None and clip.detected_objects == ["person"]
    assert clip.objects == [] and clip.zones == []
    assert clip.event is None and clip.event_state is None
    # And new clips store theirs
    objects = [{"class": "person", "count": 2, "confidence": 0.9, "boxes": [[0, 0, 0.1, 0.2]]}]
    await repo.update_clip("old-clip", objects=objects, zones=["path"])
    clip = await repo.get_clip("old-clip")
    assert clip is not None and (clip.objects, clip.zones) == (objects, ["path"])


async def test_a_live_event_stored_before_version_6_names_its_classes_like_an_alert(
    engine: AsyncEngine, make_repo: RepoFactory
) -> None:
    # Given a clip whose live event was stored by version 5 (its classes under `classes`)
    from homesec_engine.records import ClipRecord

    repo = await make_repo()
    old = {"clip_id": "old-event", "camera": "door", "state": "ended",
           "classes": ["person", "vehicle"], "zones": ["path"], "alerted": True}
    await repo.upsert_clip(ClipRecord(id="old-event", camera="door", event=old,
                                      event_state="ended"))
    await repo.upsert_clip(ClipRecord(id="no-event", camera="door"))
    await repo.close()
    async with engine.begin() as conn:
        await conn.execute(schema_version.delete().where(schema_version.c.version >= 6))
    # When the engine starts (and migrates)
    assert await migrate(engine) == MIGRATIONS[-1].version
    # Then the stored event says detected_objects, as alerts and new events do, and keeps
    # everything else
    repo = await make_repo()
    clip = await repo.get_clip("old-event")
    assert clip is not None and clip.event is not None
    assert clip.event["detected_objects"] == ["person", "vehicle"]
    assert "classes" not in clip.event
    assert clip.event["zones"] == ["path"] and clip.event["alerted"] is True
    # And a clip without an event is left as it was
    plain = await repo.get_clip("no-event")
    assert plain is not None and plain.event is None
