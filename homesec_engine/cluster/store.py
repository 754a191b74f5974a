"""Engines and camera leases in PostgreSQL, timed by the database's clock.

`cluster_engines`: one row per engine (heartbeat_at, capacity, the versions it runs).
`cluster_config_changes`: the installation's run-time config changes, one row per subject
changed through any engine's API, the latest change winning: a camera (`camera:<name>`) with
its definition as added or updated (kind add/update) or none when removed (remove); the alert
policy (`alert_policy`, kind policy) as a whole document; one field of a settings section
(`settings:<section>.<field>`, kind settings) as PATCH /settings takes it. Each row has a
version that grows with every change. Each engine applies to its own config the rows newer
than it has seen (coordinator.py); a removed camera is recorded by no engine. A definition
holds what the config file holds: stream credentials are only ever env-var names there (the
schema refuses a URL with them).
`cluster_leases`: one row per camera ever held: holder, fencing token, expires_at. A lease is
taken only when it has run out (or never existed), and every take bumps the camera's token,
so a renewal that names an older token (an engine that was paused or cut off while another
took the camera) changes nothing and tells its engine to stop. Giving a camera up expires
its lease at once and keeps the row, so tokens only grow. All times are the database's
now(): engines' clocks never need to agree.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import (
    BigInteger,
    Column,
    DateTime,
    Integer,
    MetaData,
    JSON,
    Sequence,
    String,
    Table,
    and_,
    func,
    select,
    text,
    tuple_,
    update,
)
from sqlalchemy.dialects.postgresql import JSONB, insert
from sqlalchemy.ext.asyncio import AsyncEngine

from .settings import ClusterSettings

_LOCK_KEY = 0x686F6D6563_6C75  # serialises the first engines creating the tables at once

metadata = MetaData()
engines_table = Table(
    "cluster_engines", metadata,
    Column("engine_id", String(64), primary_key=True),
    Column("url", String(512), nullable=False),
    Column("capacity", Integer, nullable=False),
    Column("schema_version", Integer, nullable=False),
    Column("config_version", Integer, nullable=False),
    Column("config_digest", String(64), nullable=False),
    Column("heartbeat_at", DateTime(timezone=True), nullable=False),
    # {camera: {"healthy", "last_heartbeat", "error"}} of the cameras it records
    Column("cameras", JSON, nullable=False, default=dict),
)
leases_table = Table(
    "cluster_leases", metadata,
    Column("camera", String(64), primary_key=True),
    Column("engine_id", String(64), nullable=False),
    Column("token", BigInteger, nullable=False),
    Column("expires_at", DateTime(timezone=True), nullable=False),
    # When the current token was taken: clips its earlier holders recorded before then are
    # theirs to write (fence.py); added to tables from before it by create_tables.
    Column("taken_at", DateTime(timezone=True), nullable=True),
)
change_version = Sequence("cluster_config_change_version", metadata=metadata)
changes_table = Table(
    "cluster_config_changes", metadata,
    Column("subject", String(160), primary_key=True),  # camera:<name>, alert_policy, settings:..
    Column("kind", String(16), nullable=False),  # add, update, remove, policy or settings
    # What to apply: the camera as configured (None: removed), the policy, {section: {field}}
    Column("definition", JSONB(none_as_null=True), nullable=True),
    Column("version", BigInteger, nullable=False),  # from change_version: grows per change
    Column("engine_id", String(64), nullable=False),  # the engine whose API changed it
    Column("changed_at", DateTime(timezone=True), nullable=False),
)


@dataclass(frozen=True, slots=True)
class EngineRow:
    engine_id: str
    url: str
    capacity: int
    schema_version: int
    config_version: int
    config_digest: str
    cameras: dict[str, dict[str, Any]]

    @property
    def versions(self) -> tuple[int, int, str]:
        return (self.schema_version, self.config_version, self.config_digest)


CAMERA_KINDS = ("add", "update", "remove")
POLICY_SUBJECT = "alert_policy"
_CAMERA = "camera:"


def camera_subject(name: str) -> str:
    return _CAMERA + name


def setting_subject(section: str, field: str) -> str:
    return f"settings:{section}.{field}"


@dataclass(frozen=True, slots=True)
class ConfigChange:
    """One of the installation's run-time config changes, as the table keeps it."""

    subject: str
    kind: str  # add, update, remove (a camera), policy or settings
    definition: dict[str, Any] | None  # what to apply; None: the camera was removed
    version: int

    @property
    def camera(self) -> str | None:
        """The camera it changes; None for the policy or a setting."""
        return self.subject.removeprefix(_CAMERA) if self.kind in CAMERA_KINDS else None


@dataclass(frozen=True, slots=True)
class LeaseRow:
    camera: str
    engine_id: str
    token: int
    live: bool  # not run out yet


# cluster_camera_changes (cameras only) becomes cluster_config_changes, its rows kept.
class LeaseStore:
    def __init__(self, engine: AsyncEngine, settings: ClusterSettings,
                 schema_version: int) -> None:
        self._engine = engine
        self._settings = settings
        self._schema_version = schema_version
        self._lease = timedelta(seconds=settings.lease_s)
        self._tables_ready = False

    async def create_tables(self) -> None:
        """The cluster's tables, made or brought up to date once per engine run (the runtime
        needs them before the coordinator starts: the leases say whose open events to end)."""
        if self._tables_ready:
            return
        async with self._engine.begin() as conn:
            await conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _LOCK_KEY})
            await conn.run_sync(metadata.create_all)
            await conn.execute(text("ALTER TABLE cluster_leases ADD COLUMN IF NOT EXISTS "
                                    "taken_at TIMESTAMP WITH TIME ZONE"))
        self._tables_ready = True

    async def heartbeat(self, cameras: dict[str, dict[str, Any]]) -> None:
        """This engine's row, renewed: it counts as live for one lease period; `cameras`
        is the state of the cameras it records, for the other engines' APIs."""
        me = self._settings
        values = {"cameras": cameras, "url": me.advertise_url, "capacity": me.capacity,
                  "schema_version": self._schema_version, "config_version": me.config_version,
                  "config_digest": me.config_digest, "heartbeat_at": func.now()}
        stmt = insert(engines_table).values(engine_id=me.engine_id, **values)
        async with self._engine.begin() as conn:
            await conn.execute(stmt.on_conflict_do_update(index_elements=["engine_id"],
                                                          set_=values))

    async def live_engines(self) -> list[EngineRow]:
        """Engines that renewed within one lease period, by id."""
        query = select(engines_table).where(
            engines_table.c.heartbeat_at > func.now() - self._lease
        ).order_by(engines_table.c.engine_id)
        async with self._engine.connect() as conn:
            rows = (await conn.execute(query)).mappings().all()
        return [EngineRow(r["engine_id"], r["url"], r["capacity"], r["schema_version"],
                          r["config_version"], r["config_digest"], dict(r["cameras"] or {}))
                for r in rows]

    async def silent_engines(self) -> list[str]:
        """Engines that stopped renewing without leaving (killed, cut off), by id: a clean
        stop deletes its row (leave), so those are gone from both lists."""
        query = select(engines_table.c.engine_id).where(
            engines_table.c.heartbeat_at <= func.now() - self._lease
        ).order_by(engines_table.c.engine_id)
        async with self._engine.connect() as conn:
            return list((await conn.execute(query)).scalars())

    async def leases(self) -> list[LeaseRow]:
        query = select(leases_table.c.camera, leases_table.c.engine_id, leases_table.c.token,
                       (leases_table.c.expires_at > func.now()).label("live"))
        async with self._engine.connect() as conn:
            rows = (await conn.execute(query)).all()
        return [LeaseRow(r.camera, r.engine_id, int(r.token), bool(r.live)) for r in rows]

    async def renew(self, held: Mapping[str, int]) -> dict[str, int]:
        """Extend the leases this engine still holds under these tokens; {camera: token} of
        the ones renewed (a camera missing from it is no longer ours)."""
        if not held:
            return {}
        table = leases_table
        stmt = update(table).where(and_(
            table.c.engine_id == self._settings.engine_id,
            table.c.expires_at > func.now(),
            tuple_(table.c.camera, table.c.token).in_(list(held.items())),
        )).values(expires_at=func.now() + self._lease).returning(table.c.camera, table.c.token)
        async with self._engine.begin() as conn:
            rows = (await conn.execute(stmt)).all()
        return {r.camera: int(r.token) for r in rows}

    async def acquire(self, camera: str) -> int | None:
        """Take `camera` if nobody holds a live lease on it; its new fencing token or None."""
        table = leases_table
        new = insert(table).values(camera=camera, engine_id=self._settings.engine_id, token=1,
                                   expires_at=func.now() + self._lease, taken_at=func.now())
        stmt = new.on_conflict_do_update(
            index_elements=["camera"],
            set_={"engine_id": self._settings.engine_id, "token": table.c.token + 1,
                  "expires_at": func.now() + self._lease, "taken_at": func.now()},
            where=table.c.expires_at <= func.now(),
        ).returning(table.c.token)
        async with self._engine.begin() as conn:
            token = (await conn.execute(stmt)).scalar()
        return None if token is None else int(token)

    async def release(self, camera: str, token: int) -> None:
        """Give `camera` up at once (its row and token stay, so the next holder's is higher)."""
        table = leases_table
        stmt = update(table).where(and_(
            table.c.camera == camera, table.c.engine_id == self._settings.engine_id,
            table.c.token == token,
        )).values(expires_at=func.now())
        async with self._engine.begin() as conn:
            await conn.execute(stmt)

    async def leave(self) -> None:
        """This engine is going away: the others share its cameras from their next beat."""
        async with self._engine.begin() as conn:
            await conn.execute(update(leases_table).where(
                leases_table.c.engine_id == self._settings.engine_id,
            ).values(expires_at=func.now()))
            await conn.execute(engines_table.delete().where(
                engines_table.c.engine_id == self._settings.engine_id))

    async def config_changes(self) -> dict[str, ConfigChange]:
        """The installation's run-time config changes, by subject."""
        table = changes_table
        query = select(table.c.subject, table.c.kind, table.c.definition, table.c.version)
        async with self._engine.connect() as conn:
            rows = (await conn.execute(query)).all()
        return {r.subject: ConfigChange(r.subject, r.kind, r.definition, int(r.version))
                for r in rows}

    async def record_changes(self, changes: Mapping[str, tuple[str, dict[str, Any] | None]]
                             ) -> dict[str, int | None]:
        """Subjects changed through this engine's API, {subject: (kind, definition)} (a
        camera removed: None), written at once (an engine reads all of them or none); {subject:
        the change's version, or None when the table already said so}."""
        table = changes_table
        versions: dict[str, int | None] = {}
        async with self._engine.begin() as conn:
            for subject, (kind, definition) in changes.items():
                values = {"kind": kind, "definition": definition,
                          "engine_id": self._settings.engine_id, "changed_at": func.now(),
                          "version": change_version.next_value()}
                new = insert(table).values(subject=subject, **values)
                stmt = new.on_conflict_do_update(
                    index_elements=["subject"], set_=values,
                    where=table.c.definition.is_distinct_from(new.excluded.definition),
                ).returning(table.c.version)
                version = (await conn.execute(stmt)).scalar()
                versions[subject] = None if version is None else int(version)
        return versions

    async def now(self) -> datetime:
        async with self._engine.connect() as conn:
            return (await conn.execute(select(func.now()))).scalar_one()
