"""The state tables (SQLAlchemy 2 typed declarative mapping).

`clips` holds one row per clip, `clip_events` the clip's history in write order,
`clip_tallies` clip counts per filter combination (kept by triggers) and `schema_version` the
migrations applied (see migrations.py). The same tables work on
PostgreSQL (asyncpg) and SQLite (aiosqlite): datetimes are stored as UTC and always come back
timezone-aware, JSON columns use JSONB on PostgreSQL.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, cast

from sqlalchemy import (
    JSON,
    BigInteger,
    DateTime,
    Dialect,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    TypeDecorator,
    literal_column,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class UTCDateTime(TypeDecorator[datetime]):
    """A timezone-aware datetime stored as UTC.

    PostgreSQL keeps it in a `timestamptz`. SQLite has no time zones: the value is converted to
    UTC and stored without an offset (so stored values compare correctly as text), and UTC is
    attached again when it is read. A naive datetime is taken to be UTC already.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        value = value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


JSONType = JSON().with_variant(JSONB(), "postgresql")

NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = {
        datetime: UTCDateTime(),
        dict[str, Any]: JSONType,
        list[str]: JSONType,
        list[dict[str, Any]]: JSONType,
    }


class ClipRow(Base):
    __tablename__ = "clips"

    id: Mapped[str] = mapped_column(String, primary_key=True)
    camera: Mapped[str]
    status: Mapped[str]
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    activity_type: Mapped[str | None]
    risk_level: Mapped[str | None]
    summary: Mapped[str | None] = mapped_column(Text)
    detected_objects: Mapped[list[str]]
    storage_uri: Mapped[str | None] = mapped_column(Text)
    alerted: Mapped[bool]
    duration_s: Mapped[float | None]
    # The live event of the recording and its state (schema version 5; see live/events.py).
    event: Mapped[dict[str, Any] | None]
    event_state: Mapped[str | None]
    size_bytes: Mapped[int | None] = mapped_column(BigInteger)
    offsite_state: Mapped[str | None]
    offsite_uri: Mapped[str | None] = mapped_column(Text)
    deleted_reason: Mapped[str | None]
    # Per-object results and the alert's zones (schema version 4; NULL on older rows).
    objects: Mapped[list[dict[str, Any]] | None]
    zones: Mapped[list[str] | None]

    __table_args__ = (
        # /clips lists newest first under each filter; the counters count since a time.
        Index(None, "created_at"),
        Index(None, "camera", "created_at"),
        Index(None, "status", "created_at"),
        Index(None, "alerted", "created_at"),
        Index(None, "risk_level", "created_at"),
        Index(None, "activity_type", "created_at"),
        Index(None, "event_state"),  # open events are found at start (restart recovery)
    )


# The /clips list without filters (deleted clips are left out): newest first, in the list's
# order, straight from the index (no sort, no deleted rows to skip).
LISTED_INDEX = Index(
    "ix_clips_listed",
    ClipRow.created_at.desc(),
    ClipRow.id.desc(),
    postgresql_where=ClipRow.status != "deleted",
    sqlite_where=ClipRow.status != "deleted",
)


# Retention's candidates, oldest first per kind (alerted or not): only finished clips, so the
# clips a pass deleted (the oldest ones) are not scanned again by every later pass.
RETENTION_INDEX = Index(
    "ix_clips_retention",
    ClipRow.alerted,
    ClipRow.created_at,
    ClipRow.id,
    postgresql_where=ClipRow.status.in_([literal_column("'done'"), literal_column("'error'")]),
    sqlite_where=ClipRow.status.in_([literal_column("'done'"), literal_column("'error'")]),
)


class ClipTallyRow(Base):
    """How many clips there are per combination of the /clips filter columns.

    Kept by database triggers on `clips` (see migrations.py), so a count over the whole table
    (the /clips total without a time range) sums a few hundred tally rows instead of scanning
    every clip. NULL risk levels and activity types are tallied as "" (key columns are NOT NULL
    so the upsert in the triggers matches them).
    """

    __tablename__ = "clip_tallies"

    camera: Mapped[str] = mapped_column(primary_key=True)
    status: Mapped[str] = mapped_column(primary_key=True)
    alerted: Mapped[bool] = mapped_column(primary_key=True)
    risk_level: Mapped[str] = mapped_column(primary_key=True)
    activity_type: Mapped[str] = mapped_column(primary_key=True)
    n: Mapped[int] = mapped_column(BigInteger)


class ClipEventRow(Base):
    __tablename__ = "clip_events"

    # BIGINT on PostgreSQL; SQLite's autoincrementing rowid key must be spelled INTEGER.
    id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
    )
    clip_id: Mapped[str] = mapped_column(ForeignKey("clips.id", ondelete="CASCADE"))
    type: Mapped[str]
    created_at: Mapped[datetime]
    data: Mapped[dict[str, Any]]
    # Made when the event is written (before it may wait in the outbox), so a write replayed
    # twice after a kill mid-replay is inserted once (ON CONFLICT DO NOTHING). NULL only for
    # events stored before schema version 2.
    uid: Mapped[str | None] = mapped_column(String(32))

    __table_args__ = (Index(None, "clip_id", "id"), Index("ix_clip_events_uid", "uid", unique=True))


class SchemaVersionRow(Base):
    __tablename__ = "schema_version"

    version: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    description: Mapped[str] = mapped_column(Text)
    applied_at: Mapped[datetime]


# The Core tables (typed as Table; the mapped classes type __table__ as a FromClause).
clips = cast(Table, ClipRow.__table__)
clip_events = cast(Table, ClipEventRow.__table__)
clip_tallies = cast(Table, ClipTallyRow.__table__)
schema_version = cast(Table, SchemaVersionRow.__table__)
