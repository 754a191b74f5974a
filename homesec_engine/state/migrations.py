"""Versioned schema migrations, applied on every start.

`MIGRATIONS` is an ordered list of numbered steps. `migrate()` reads the version recorded in
`schema_version`, applies the missing steps in one transaction and records each one; when
nothing is missing it changes nothing, so it is safe to run on every start. On PostgreSQL a
transaction-scoped advisory lock keeps two engines from migrating the same database at once;
on SQLite the engine's own BEGIN (see db.py) makes the DDL transactional as well.

Rules for adding a step: tables.py always describes the latest schema, and a fresh database
is created from it directly (step 1) and stamped with every version; each later step is the
delta that brings a database made by an older version up to date (add a column, an index,
...). Append steps, never edit or renumber released ones.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from sqlalchemy import Connection, func, insert, inspect, select, text, update
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.schema import CreateSchema

from homesec_engine.records import utcnow

from .tables import LISTED_INDEX, RETENTION_INDEX, Base, clip_events, clips, schema_version

_LOGGER = logging.getLogger(__name__)

# pg_advisory_xact_lock key: "homesec" state migrations.
_PG_LOCK_KEY = 0x686F6D65736563


@dataclass(frozen=True, slots=True)
class Migration:
    version: int
    description: str
    upgrade: Callable[[Connection], None]


def _create_latest_schema(conn: Connection) -> None:
    Base.metadata.create_all(conn, checkfirst=True)
    _create_tally_triggers(conn)


# -- clip_tallies: kept by triggers on clips ---------------------------------------------------

_TALLY_KEY = "camera, status, alerted, risk_level, activity_type"


def _tally_values(row: str) -> str:
    return (
        f"{row}.camera, {row}.status, {row}.alerted, "
        f"coalesce({row}.risk_level, ''), coalesce({row}.activity_type, '')"
    )


def _tally_match(row: str) -> str:
    return (
        f"camera = {row}.camera AND status = {row}.status AND alerted = {row}.alerted"
        f" AND risk_level = coalesce({row}.risk_level, '')"
        f" AND activity_type = coalesce({row}.activity_type, '')"
    )


def _tally_key_changed(distinct: str) -> str:
    return " OR ".join(f"OLD.{col} {distinct} NEW.{col}" for col in _TALLY_KEY.split(", "))


def _create_tally_triggers(conn: Connection) -> None:
    """Triggers that keep clip_tallies in step with every insert, update and delete of clips.

    Triggers rather than code in the repository, so clips written by any means (a bulk load,
    a manual fix) are counted as well. The tally is then rebuilt from the clips present.
    """
    schema = _schema_name(conn)
    prefix = f"{conn.dialect.identifier_preparer.quote_schema(schema)}." if schema else ""
    tallies, clips = f"{prefix}clip_tallies", f"{prefix}clips"
    add_new = (
        f"INSERT INTO {tallies} ({_TALLY_KEY}, n) VALUES ({_tally_values('NEW')}, 1) "
        f"ON CONFLICT ({_TALLY_KEY}) DO UPDATE SET n = clip_tallies.n + 1;"
    )
    remove_old = f"UPDATE {tallies} SET n = n - 1 WHERE {_tally_match('OLD')};"
    if conn.dialect.name == "postgresql":
        conn.exec_driver_sql(
            f"""
            CREATE OR REPLACE FUNCTION {prefix}homesec_clip_tally() RETURNS trigger
            LANGUAGE plpgsql AS $$
            BEGIN
                IF TG_OP = 'UPDATE' AND NOT ({_tally_key_changed("IS DISTINCT FROM")}) THEN
                    RETURN NULL;
                END IF;
                IF TG_OP <> 'INSERT' THEN {remove_old} END IF;
                IF TG_OP <> 'DELETE' THEN {add_new} END IF;
                RETURN NULL;
            END $$"""
        )
        conn.exec_driver_sql(
            f"CREATE OR REPLACE TRIGGER clips_tally AFTER INSERT OR UPDATE OR DELETE ON {clips} "
            f"FOR EACH ROW EXECUTE FUNCTION {prefix}homesec_clip_tally()"
        )
    else:
        # SQLite (never with a schema: see db.create_engine).
        conn.exec_driver_sql(
            f"CREATE TRIGGER IF NOT EXISTS clips_tally_insert AFTER INSERT ON clips "
            f"BEGIN {add_new} END"
        )
        conn.exec_driver_sql(
            f"CREATE TRIGGER IF NOT EXISTS clips_tally_update AFTER UPDATE ON clips "
            f"WHEN {_tally_key_changed('IS NOT')} BEGIN {remove_old} {add_new} END"
        )
        conn.exec_driver_sql(
            f"CREATE TRIGGER IF NOT EXISTS clips_tally_delete AFTER DELETE ON clips "
            f"BEGIN {remove_old} END"
        )
    conn.exec_driver_sql(f"DELETE FROM {tallies}")
    conn.exec_driver_sql(
        f"INSERT INTO {tallies} ({_TALLY_KEY}, n) "
        f"SELECT camera, status, alerted, coalesce(risk_level, ''), coalesce(activity_type, ''), "
        f"count(*) FROM {clips} GROUP BY 1, 2, 3, 4, 5"
    )


def _event_uids_and_list_index(conn: Connection) -> None:
    """clip_events.uid (unique: replayed events are inserted once) and ix_clips_listed."""
    schema = _schema_name(conn)
    prefix = f"{conn.dialect.identifier_preparer.quote_schema(schema)}." if schema else ""
    conn.exec_driver_sql(f"ALTER TABLE {prefix}clip_events ADD COLUMN uid VARCHAR(32)")
    # Index.create() honours the connection's schema_translate_map.
    next(ix for ix in clip_events.indexes if ix.name == "ix_clip_events_uid").create(conn)
    LISTED_INDEX.create(conn)


def _clip_events_live(conn: Connection) -> None:
    """clips.event and clips.event_state: the recording's live event (indexed by state)."""
    schema = _schema_name(conn)
    prefix = f"{conn.dialect.identifier_preparer.quote_schema(schema)}." if schema else ""
    json_type = "JSONB" if conn.dialect.name == "postgresql" else "JSON"
    conn.exec_driver_sql(f"ALTER TABLE {prefix}clips ADD COLUMN event {json_type}")
    conn.exec_driver_sql(f"ALTER TABLE {prefix}clips ADD COLUMN event_state VARCHAR")
    next(ix for ix in clips.indexes if ix.name == "ix_clips_event_state").create(conn)
def _clip_lifecycle_columns(conn: Connection) -> None:
    """clips.size_bytes, offsite_state, offsite_uri, deleted_reason (retention, offsite) and
    the retention index."""
    schema = _schema_name(conn)
    prefix = f"{conn.dialect.identifier_preparer.quote_schema(schema)}." if schema else ""
    for column, sql_type in (("size_bytes", "BIGINT"), ("offsite_state", "VARCHAR"),
                             ("offsite_uri", "TEXT"), ("deleted_reason", "VARCHAR")):
        conn.exec_driver_sql(f"ALTER TABLE {prefix}clips ADD COLUMN {column} {sql_type}")
    RETENTION_INDEX.create(conn)


def _clip_objects_and_zones(conn: Connection) -> None:
    """clips.objects (per-object results) and clips.zones (where the alert happened)."""
    schema = _schema_name(conn)
    prefix = f"{conn.dialect.identifier_preparer.quote_schema(schema)}." if schema else ""
    json_type = "JSONB" if conn.dialect.name == "postgresql" else "JSON"
    for column in ("objects", "zones"):
        conn.exec_driver_sql(f"ALTER TABLE {prefix}clips ADD COLUMN {column} {json_type}")


def _live_event_detected_objects(conn: Connection) -> None:
    """A stored live event names its classes `detected_objects`, as the alert does (it said
    `classes`)."""
    rows = conn.execute(select(clips.c.id, clips.c.event).where(clips.c.event.is_not(None)))
    for clip_id, event in list(rows):
        if not isinstance(event, dict) or "classes" not in event:
            continue
        renamed = {("detected_objects" if k == "classes" else k): v for k, v in event.items()}
        conn.execute(update(clips).where(clips.c.id == clip_id).values(event=renamed))


MIGRATIONS: tuple[Migration, ...] = (
    Migration(
        1, "clips, clip_events, clip_tallies and the list/counter indexes", _create_latest_schema
    ),
    Migration(
        2,
        "clip_events.uid for idempotent replays; partial index for the unfiltered clip list",
        _event_uids_and_list_index,
    ),
    Migration(
        3,
        "clips.size_bytes, offsite_state, offsite_uri, deleted_reason and ix_clips_retention "
        "for the clip life cycle",
        _clip_lifecycle_columns,
    ),
    Migration(4, "clips.objects and clips.zones: per-object results and alert zones",
              _clip_objects_and_zones),
    Migration(5, "clips.event and clips.event_state: live events with a start and an end",
              _clip_events_live),
    Migration(6, "clips.event names its classes detected_objects, as alerts do",
              _live_event_detected_objects),
)


def _schema_name(conn: Connection) -> str | None:
    translate = conn.get_execution_options().get("schema_translate_map") or {}
    return translate.get(None)


def current_version(conn: Connection) -> int:
    """The highest version recorded (0 for a database without the schema_version table)."""
    if not inspect(conn).has_table(schema_version.name, schema=_schema_name(conn)):
        return 0
    return int(conn.execute(select(func.max(schema_version.c.version))).scalar() or 0)


def _check(migrations: Sequence[Migration]) -> None:
    versions = [m.version for m in migrations]
    if versions != list(range(1, len(versions) + 1)):
        raise ValueError(f"migrations must be numbered 1, 2, 3, ... in order; got {versions}")


def run_migrations(conn: Connection, migrations: Sequence[Migration] = MIGRATIONS) -> int:
    """Apply the missing steps on `conn` (inside the caller's transaction); the new version."""
    _check(migrations)
    if conn.dialect.name == "postgresql":
        schema = _schema_name(conn)
        if schema is not None:
            conn.execute(CreateSchema(schema, if_not_exists=True))
        conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _PG_LOCK_KEY})
    latest = migrations[-1].version if migrations else 0
    current = current_version(conn)
    if current > latest:
        _LOGGER.warning(
            "State database schema is at version %s, newer than this engine knows (%s); "
            "continuing without migrating",
            current,
            latest,
        )
        return current
    if current == latest:
        return current
    now = utcnow()
    if current == 0:
        # A fresh database: the latest schema at once, every step recorded as applied.
        _create_latest_schema(conn)
        applied = list(migrations)
    else:
        applied = [m for m in migrations if m.version > current]
        for step in applied:
            _LOGGER.info(
                "Migrating the state database to version %s: %s", step.version, step.description
            )
            step.upgrade(conn)
    conn.execute(
        insert(schema_version),
        [{"version": m.version, "description": m.description, "applied_at": now} for m in applied],
    )
    return latest


async def migrate(engine: AsyncEngine, migrations: Sequence[Migration] = MIGRATIONS) -> int:
    """Bring the database behind `engine` up to date in one transaction; the version it is at."""
    async with engine.begin() as conn:
        return await conn.run_sync(run_migrations, migrations)
