"""ClipRepository: the only door to the engine's state (clips and clip events).

Writes (`upsert_clip`, `update_clip`, `add_event`) never raise while the database is down:
they go to the outbox (outbox.py) and a background task retries with backoff, then replays
them strictly in order. Once anything waits in the outbox, every new write queues behind it,
so the database always sees the writes in the order they were made. Reads raise
`DatabaseUnavailable` while the database is down; they are served again as soon as it
answers (possibly before the outbox has been replayed completely: a clip not found meanwhile
raises `DatabaseUnavailable` too, as it may be one of the writes still kept).

Whether a failure means "the database is down" is decided by the error (a lost connection, a
refused connect, a timeout) and, for any other database error, by pinging the database: when
the ping fails too it is an outage, when the ping works it is an error of the write itself.
Such an error is raised to the caller of a direct write; during a replay the entry is tried
again a few times and then logged and dropped, so one bad entry cannot block the rest.

Replays are at-least-once (a kill in the middle of one replays part of it again), so every
write is idempotent: clips are upserted/updated to given values, and events carry a uid made
at write time and are inserted with ON CONFLICT DO NOTHING.

A deletion is final. Whoever writes later (the pipeline still working on the clip, its live
event, the offsite uploader), the write is dropped when it is applied: a deleted clip is never
upserted, updated (except to delete it) or given events again. The storage URIs such a dropped
write names (and the clip id) go to `on_write_after_delete`, so files stored after the
deletion are removed too.
"""

from __future__ import annotations

import asyncio
import dataclasses
import hashlib
import json
import logging
import os
import uuid
from collections.abc import Awaitable, Callable, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol, TypeVar

from sqlalchemy import (
    ColumnElement,
    Integer,
    bindparam,
    Row,
    Select,
    func,
    literal_column,
    select,
    text,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import DBAPIError, SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from homesec_engine.records import ClipEventRecord, ClipQuery, ClipRecord, ClipStatus, utcnow

from .db import create_engine, normalize_url, safe_url, sqlite_path
from .errors import DatabaseUnavailable
from .migrations import migrate
from .outbox import Entry, Outbox
from .tables import ClipTallyRow, clip_events, clips

_LOGGER = logging.getLogger(__name__)

_CLIP_FIELDS = tuple(f.name for f in dataclasses.fields(ClipRecord))
_UPDATABLE_FIELDS = frozenset(_CLIP_FIELDS) - {"id"}
_DATETIME_FIELDS = frozenset({"created_at", "updated_at"})
_STATUSES = frozenset(ClipStatus)
_CLIP_COLUMNS = tuple(clips.c[name] for name in _CLIP_FIELDS)
_EVENT_COLUMNS = tuple(
    clip_events.c[name] for name in ("id", "clip_id", "type", "created_at", "data")
)

T = TypeVar("T")

# Writes to deleted clips left out of a transaction: clip id -> the storage URIs they named.
Dropped = dict[str, set[str]]

REPLAY_BATCH = 100  # outbox entries applied per transaction during a replay
REPLAY_ATTEMPTS = 3  # tries of an entry the database rejects before it is dropped


class WriteFence(Protocol):
    """Cluster mode's check of every new clip row (cluster/fence.py's ClipFence)."""

    def stamp(self, camera: str) -> dict[str, Any] | None: ...

    async def refusal(self, session: AsyncConnection, camera: str, stamp: Mapping[str, Any],
                      ended_at: datetime) -> str | None: ...


class ClipRepository:
    """Clip states and clip events in PostgreSQL (asyncpg) or SQLite (aiosqlite).

    `url`: `sqlite+aiosqlite:///path.db` or `postgresql+asyncpg://...` (plain `sqlite:///` and
    `postgresql://` are accepted too). `outbox_dir`: where writes that wait for the database
    are written through to disk before the write returns (so a kill loses none of them);
    at most `memory_limit` of them are also cached in memory for the replay.
    `schema`: PostgreSQL schema for the tables (created when missing); default: the
    connection's search path. `timeout`: connect/statement timeout in seconds.
    `retry_initial`/`retry_max`: the reconnect backoff in seconds.
    """

    def __init__(
        self,
        url: str,
        outbox_dir: str | os.PathLike[str],
        *,
        schema: str | None = None,
        memory_limit: int = 1000,
        timeout: float = 10.0,
        retry_initial: float = 0.5,
        retry_max: float = 10.0,
    ) -> None:
        self._url = normalize_url(url)
        self._engine: AsyncEngine = create_engine(self._url, schema=schema, timeout=timeout)
        postgres = self._url.get_backend_name() == "postgresql"
        # Reads on PostgreSQL run in autocommit: no BEGIN/ROLLBACK round trips for a SELECT.
        read_engine = self._engine
        if postgres:
            read_engine = self._engine.execution_options(isolation_level="AUTOCOMMIT")
        self._read_engine = read_engine
        self._list_statements: dict[tuple[bool, ...], Select[Any]] = {}
        self._insert = postgresql.insert if postgres else sqlite.insert
        self._outbox = Outbox(outbox_dir, memory_limit=memory_limit)
        self._retry_initial = retry_initial
        self._retry_max = retry_max
        self._write_lock = asyncio.Lock()
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._started = False
        self._closing = False
        self._migrated = False
        self._available = False
        self._down_reason: str | None = "not started"
        self._head_failures = 0
        self._generation = 0
        # Told of writes to deleted clips dropped while applying (clip id, the storage URIs
        # they named) once their transaction is over.
        self.on_write_after_delete: Callable[[str, list[str]], Awaitable[None]] | None = None
        # Cluster mode: new clip rows carry this engine's fencing token for their camera and
        # are written only if it still may (cluster/fence.py); later writes to a refused clip
        # are dropped like writes to a deleted one.
        self.fence: WriteFence | None = None
        self._fenced: set[str] = set()

    # -- life cycle -------------------------------------------------------------------------

    async def start(self) -> None:
        """Load a leftover outbox, migrate, and start replaying when anything is pending.

        A database that does not answer is not an error here (the engine must start and
        record without it): writes are kept and the schema is migrated when it answers.
        """
        if self._started:
            return
        self._started = True
        if (path := sqlite_path(self._url)) is not None:
            await asyncio.to_thread(path.parent.mkdir, parents=True, exist_ok=True)
        await self._outbox.load()
        try:
            await migrate(self._engine)
        except Exception as exc:
            if not await self._is_outage(exc):
                await self._engine.dispose()
                raise
            self._mark_down(exc)
        else:
            self._migrated = True
            self._mark_up()
        if len(self._outbox):
            self._ensure_recovery()

    async def close(self) -> None:
        """Stop retrying, keep pending writes on disk for the next start, release the database."""
        if self._closing:
            return
        self._closing = True
        if self._task is not None:
            self._task.cancel()
            try:
                await self._task
            except asyncio.CancelledError:
                pass
            self._task = None
        async with self._write_lock:
            await self._outbox.persist()
        await self._engine.dispose()

    async def __aenter__(self) -> ClipRepository:
        await self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()

    @property
    def available(self) -> bool:
        """True while the database answers (and reads are served)."""
        return self._available

    @property
    def pending_writes(self) -> int:
        """Writes waiting in the outbox for the database."""
        return len(self._outbox)

    @property
    def generation(self) -> int:
        """A number that changes whenever this repository has changed the database.

        Bumped after every write that reached the database (directly or by a replay), so a
        cache of reads may be reused while it stays the same (writes by other processes are
        not seen: such caches also expire by time).
        """
        return self._generation

    @property
    def engine(self) -> AsyncEngine:
        return self._engine

    @property
    def database_url(self) -> str:
        """The database URL with the password masked (for logs and diagnostics)."""
        return safe_url(self._url)

    async def ping(self) -> bool:
        """Whether the database answers now. Notices an outage or a recovery at once."""
        if not self._started or self._closing:
            return False
        if await self._ping_raw():
            if self._migrated and not self._available:
                self._mark_up()
            if len(self._outbox) or not self._migrated:
                self._ensure_recovery()
                self._wake.set()
            return True
        self._mark_down(None)
        return False

    async def drain(self, timeout: float | None = None) -> bool:
        """Wait until every pending write has reached the database; False on timeout."""
        loop = asyncio.get_running_loop()
        deadline = None if timeout is None else loop.time() + timeout
        while len(self._outbox) or not self._available:
            if self._closing or deadline is not None and loop.time() >= deadline:
                return False
            await asyncio.sleep(0.02)
        return True

    # -- writes -----------------------------------------------------------------------------

    async def upsert_clip(self, clip: ClipRecord) -> None:
        """Insert the clip, or update every field of an existing clip with the same id."""
        _check_status(clip.status)
        values = {name: _encode(name, getattr(clip, name)) for name in _CLIP_FIELDS}
        entry: Entry = {"op": "upsert_clip", "at": _encode("at", utcnow()), "clip": values}
        if self.fence is not None and (stamp := self.fence.stamp(clip.camera)) is not None:
            entry["fence"] = stamp
        await self._write(entry)

    async def update_clip(self, clip_id: str, **fields: Any) -> None:
        """Set some fields of a clip (unknown ids change nothing)."""
        unknown = set(fields) - _UPDATABLE_FIELDS
        if unknown:
            raise TypeError(f"update_clip() cannot set {', '.join(sorted(unknown))}")
        if not fields:
            return
        if "status" in fields:
            _check_status(fields["status"])
        values = {name: _encode(name, value) for name, value in fields.items()}
        await self._write(
            {"op": "update_clip", "at": _encode("at", utcnow()), "id": clip_id, "fields": values}
        )

    async def add_event(self, event: ClipEventRecord) -> None:
        """Append an event to a clip's history (its id is assigned by the database).

        The event gets a unique `uid` now, before it may wait in the outbox, so replaying it a
        second time (after a kill in the middle of a replay) does not store it twice.
        """
        values = {
            "clip_id": event.clip_id,
            "type": event.type,
            "created_at": _encode("created_at", event.created_at),
            "data": event.data,
            "uid": uuid.uuid4().hex,
        }
        await self._write({"op": "add_event", "event": values})

    async def delete_clip(self, clip_id: str) -> ClipRecord | None:
        """Mark a clip deleted; the record (to remove its stored file), or None when unknown.

        Needs the database (it reads the clip first): raises DatabaseUnavailable when down.
        """
        clip = await self.get_clip(clip_id)
        if clip is None:
            return None
        await self.update_clip(clip_id, status=ClipStatus.DELETED)
        clip.status = ClipStatus.DELETED
        return clip

    async def mark_deleted(self, clip_ids: list[str], reason: str) -> None:
        """Mark clips deleted with `reason` and add a `deleted` event to each, in one write.

        Kept in the outbox while the database is down like every write; replaying it twice
        changes nothing (the update skips deleted clips, the events have fixed uids).
        """
        if not clip_ids:
            return
        await self._write({"op": "delete_clips", "at": _encode("at", utcnow()),
                           "ids": list(clip_ids), "reason": reason})

    # -- reads ------------------------------------------------------------------------------

    async def deletable_clips(
        self, where: ColumnElement[bool], limit: int, *, require_offsite: bool
    ) -> list[ClipRecord]:
        """Up to `limit` finished clips matching `where`, oldest first, that may be deleted.

        Finished: `done` or `error` (never one the pipeline still works on), not deleted, and
        with a stored file; with `require_offsite`, only one whose offsite copy is done (the
        uploader records that after reading the copy back): never one pending, skipped or
        never queued, which exists nowhere else.
        """
        conditions: list[ColumnElement[bool]] = [
            # Literals, not parameters: the planner matches them to ix_clips_retention.
            clips.c.status.in_([literal_column("'done'"), literal_column("'error'")]),
            clips.c.storage_uri.is_not(None),
            where,
        ]
        if require_offsite:
            conditions.append(clips.c.offsite_state == "done")
        # In ix_clips_retention's order (callers ask for one kind, alerted or not): a range
        # read of finished clips, never a walk over the deleted ones.
        statement = (select(*_CLIP_COLUMNS).where(*conditions)
                     .order_by(clips.c.alerted, clips.c.created_at, clips.c.id).limit(limit))

        async def work(conn: AsyncConnection) -> list[ClipRecord]:
            return [_clip_record(row) for row in (await conn.execute(statement)).all()]

        return await self._read(work)

    async def deleted_among(self, clip_ids: list[str]) -> set[str]:
        """Which of `clip_ids` are clips marked deleted (the start-up sweep of stray files)."""
        found: set[str] = set()
        for start in range(0, len(clip_ids), 500):
            chunk = clip_ids[start:start + 500]
            statement = select(clips.c.id).where(
                clips.c.id.in_(chunk), clips.c.status == literal_column("'deleted'"))

            async def work(conn: AsyncConnection) -> set[str]:
                return set((await conn.execute(statement)).scalars())

            found |= await self._read(work)
        return found

    async def oldest_kept(self) -> datetime | None:
        """When the oldest clip not deleted was recorded (from ix_clips_listed, no scan)."""
        statement = (select(clips.c.created_at)
                     .where(clips.c.status != literal_column("'deleted'"))
                     .order_by(clips.c.created_at, clips.c.id).limit(1))

        async def work(conn: AsyncConnection) -> datetime | None:
            value: datetime | None = await conn.scalar(statement)
            return value

        return await self._read(work)

    async def storage_totals(self) -> tuple[int, int, datetime | None]:
        """Clips kept (not deleted), the bytes they take, and when the oldest was recorded."""
        kept = clips.c.status != literal_column("'deleted'")
        statement = select(func.count(), func.coalesce(func.sum(clips.c.size_bytes), 0),
                           func.min(clips.c.created_at)).where(kept)

        async def work(conn: AsyncConnection) -> tuple[int, int, datetime | None]:
            row = (await conn.execute(statement)).one()
            oldest = row[2]
            if isinstance(oldest, str):  # SQLite's min() returns the stored text
                oldest = datetime.fromisoformat(oldest).replace(tzinfo=UTC)
            elif oldest is not None and oldest.tzinfo is None:
                oldest = oldest.replace(tzinfo=UTC)
            return int(row[0]), int(row[1]), oldest

        return await self._read(work)


    async def get_clip(self, clip_id: str) -> ClipRecord | None:
        """The clip, or None when there is none. While writes kept through an outage still
        wait to be replayed, a clip not found yet may be among them: DatabaseUnavailable
        then (retryable), never a "no such clip" that is not true a moment later."""
        statement = select(*_CLIP_COLUMNS).where(clips.c.id == clip_id)

        async def work(session: AsyncConnection) -> ClipRecord | None:
            row = (await session.execute(statement)).first()
            return None if row is None else _clip_record(row)

        clip = await self._read(work)
        if clip is None and len(self._outbox):
            raise DatabaseUnavailable("writes kept through an outage are still being replayed")
        return clip

    async def list_clips(self, query: ClipQuery) -> tuple[list[ClipRecord], int]:
        """One page of clips, newest first, and how many match in all.

        Filters: camera, status, alerted, risk_level, activity_type, since (inclusive), until
        (exclusive). Deleted clips are left out unless `status="deleted"` is asked for.

        The page and the total come back in one round trip (the total is a scalar subquery
        on every row); only an empty page past the start counts on its own.
        """
        _check_paging(query.offset, query.limit)
        params = _list_params(query)
        shape = tuple(name in params for name in _FILTER_NAMES)
        statement = self._list_statements.get(shape)
        if statement is None:
            statement = self._list_statements[shape] = _list_statement(query)

        async def work(conn: AsyncConnection) -> tuple[list[ClipRecord], int]:
            rows = (await conn.execute(statement, params)).all()
            if rows:
                total = int(rows[0][-1] or 0)
            elif query.offset or not query.limit:
                total = int(await conn.scalar(_count_statement(query, _clip_filters(query))) or 0)
            else:
                total = 0
            return [_listed_clip(row) for row in rows], total

        return await self._read(work)

    async def list_events(
        self, clip_id: str | None = None, offset: int = 0, limit: int = 100
    ) -> tuple[list[ClipEventRecord], int]:
        """Events in the order they were written (of one clip, or all), and their total."""
        _check_paging(offset, limit)
        where = [] if clip_id is None else [clip_events.c.clip_id == clip_id]
        page = (
            select(*_EVENT_COLUMNS)
            .where(*where)
            .order_by(clip_events.c.id)
            .offset(offset)
            .limit(limit)
        )
        count = select(func.count()).select_from(clip_events).where(*where)

        async def work(session: AsyncConnection) -> tuple[list[ClipEventRecord], int]:
            rows = (await session.execute(page)).all()
            total = await session.scalar(count)
            return [_event_record(row) for row in rows], int(total or 0)

        return await self._read(work)

    async def open_events(self, cameras: list[str] | None = None) -> list[ClipRecord]:
        """Clips whose live event is still `active` (left open by an engine that was killed),
        of every camera or of `cameras`."""
        where = [clips.c.event_state == "active"]
        if cameras is not None:
            where.append(clips.c.camera.in_(cameras))
        statement = select(*_CLIP_COLUMNS).where(*where)

        async def work(session: AsyncConnection) -> list[ClipRecord]:
            return [_clip_record(row) for row in (await session.execute(statement)).all()]

        return await self._read(work)

    async def list_live_events(self, camera: str | None = None, limit: int = 50
                               ) -> list[ClipRecord]:
        """Clips with a live event, newest first (of one camera, or all)."""
        _check_paging(0, limit)
        where = [clips.c.event_state.is_not(None), clips.c.status != "deleted"]
        if camera is not None:
            where.append(clips.c.camera == camera)
        statement = (select(*_CLIP_COLUMNS).where(*where)
                     .order_by(clips.c.created_at.desc(), clips.c.id.desc()).limit(limit))

        async def work(session: AsyncConnection) -> list[ClipRecord]:
            return [_clip_record(row) for row in (await session.execute(statement)).all()]

        return await self._read(work)

    async def count_clips_since(self, since: datetime) -> int:
        """Clips recorded at or after `since` (deleted ones included: they were recorded)."""
        return await self._count(clips.c.created_at >= since)

    async def count_alerts_since(self, since: datetime) -> int:
        """Clips that raised an alert at or after `since` (deleted ones included)."""
        return await self._count(clips.c.alerted.is_(True), clips.c.created_at >= since)

    async def _count(self, *where: ColumnElement[bool]) -> int:
        statement = select(func.count()).select_from(clips).where(*where)

        async def work(session: AsyncConnection) -> int:
            return int(await session.scalar(statement) or 0)

        return await self._read(work)

    # -- internals --------------------------------------------------------------------------

    def _require_open(self) -> None:
        if not self._started:
            raise RuntimeError("ClipRepository.start() has not been called")
        if self._closing:
            raise RuntimeError("ClipRepository is closed")

    async def _read(self, work: Callable[[AsyncConnection], Awaitable[T]]) -> T:
        """Run `work` in a read session; DatabaseUnavailable when the database is down.

        A pooled connection that died with a database restart fails once and is replaced
        (SQLAlchemy then drops the whole pool): the read is tried once more on a fresh one.
        """
        self._require_open()
        if not self._available:
            raise DatabaseUnavailable(self._down_reason)
        for attempt in range(2):
            try:
                async with self._read_engine.connect() as conn:
                    return await work(conn)
            except Exception as exc:
                if attempt == 0 and _lost_connection(exc):
                    continue
                if not await self._is_outage(exc):
                    raise
                self._mark_down(exc)
                raise DatabaseUnavailable(self._down_reason) from exc
        raise AssertionError("unreachable")

    async def _write(self, entry: Entry) -> None:
        self._require_open()
        json.dumps(entry, allow_nan=False)  # refuse what could not be kept in the outbox
        async with self._write_lock:
            dropped: Dropped = {}
            if self._available and not len(self._outbox):
                for attempt in range(2):
                    dropped.clear()
                    try:
                        async with self._engine.begin() as session:
                            await self._apply(session, entry, dropped)
                        self._generation += 1
                        break
                    except Exception as exc:
                        if attempt == 0 and _lost_connection(exc):
                            continue  # a connection from before a database restart
                        if not await self._is_outage(exc):
                            raise
                        self._mark_down(exc)
                        await self._outbox.put(entry)
                        break
            else:
                await self._outbox.put(entry)
        if len(self._outbox):
            self._ensure_recovery()
        await self._report_dropped(dropped)

    async def _report_dropped(self, dropped: Dropped) -> None:
        """Hand over what writes to deleted clips named (their files go); never raises."""
        for clip_id, uris in dropped.items():
            _LOGGER.info("clip %s was deleted: a later write to it was dropped", clip_id)
            if self.on_write_after_delete is None:
                continue
            try:
                await self.on_write_after_delete(clip_id, sorted(uris))
            except Exception:  # noqa: BLE001 - a stray file must not fail the write
                _LOGGER.exception("files of deleted clip %s not removed", clip_id)

    async def _deleted(self, session: AsyncConnection, clip_id: str) -> bool:
        if clip_id in self._fenced:  # refused by the fence: never to be written
            return True
        status = await session.scalar(select(clips.c.status).where(clips.c.id == clip_id))
        return status == ClipStatus.DELETED.value

    async def _apply(self, session: AsyncConnection, entry: Entry, dropped: Dropped) -> None:
        """Apply one write; a write to a deleted clip is left out and noted in `dropped`."""

        def drop(clip_id: str, named: Any) -> None:
            uris = dropped.setdefault(clip_id, set())
            if isinstance(named, str) and named:
                uris.add(named)

        op = entry.get("op")
        not_deleted = clips.c.status != literal_column("'deleted'")
        if op == "upsert_clip":
            values = _decode(entry["clip"])
            values["updated_at"] = _decode_at(entry)
            if await self._fenced_off(session, entry, values):
                drop(values["id"], values.get("storage_uri"))
                return
            insert = self._insert(clips).values(values)
            result = await session.execute(
                insert.on_conflict_do_update(
                    index_elements=[clips.c.id],
                    set_={name: insert.excluded[name] for name in values if name != "id"},
                    where=not_deleted,
                )
            )
            if not result.rowcount and await self._deleted(session, values["id"]):
                drop(values["id"], values.get("storage_uri"))
        elif op == "update_clip":
            values = _decode(entry["fields"])
            values["updated_at"] = _decode_at(entry)
            result = await session.execute(
                update(clips).where(clips.c.id == entry["id"], not_deleted).values(values))
            if not result.rowcount and values.get("status") != ClipStatus.DELETED.value \
                    and await self._deleted(session, entry["id"]):
                drop(entry["id"], values.get("storage_uri"))
        elif op == "add_event":
            values = _decode(entry["event"])
            if not values.get("uid"):  # kept by an engine from before event uids
                values["uid"] = _legacy_uid(entry["event"])
            if await self._deleted(session, values["clip_id"]):
                drop(values["clip_id"], (values.get("data") or {}).get("storage_uri"))
                return
            await session.execute(
                self._insert(clip_events)
                .values(values)
                .on_conflict_do_nothing(index_elements=[clip_events.c.uid])
            )
        elif op == "delete_clips":
            at, reason, ids = _decode_at(entry), entry["reason"], entry["ids"]
            await session.execute(
                update(clips)
                .where(clips.c.id.in_(ids), clips.c.status != ClipStatus.DELETED.value)
                .values(status=ClipStatus.DELETED.value, deleted_reason=reason, updated_at=at))
            events = [{"clip_id": clip_id, "type": "deleted", "created_at": at,
                       "data": {"reason": reason}, "uid": _legacy_uid({"deleted": clip_id})}
                      for clip_id in ids]
            statement = self._insert(clip_events).on_conflict_do_nothing(
                index_elements=[clip_events.c.uid])
            # Only events of clips that exist (the foreign key); unknown ids change nothing.
            known = set((await session.execute(
                select(clips.c.id).where(clips.c.id.in_(ids)))).scalars())
            events = [event for event in events if event["clip_id"] in known]
            if events:
                await session.execute(statement, events)
        else:
            raise ValueError(f"unknown outbox operation {op!r}")

    async def _fenced_off(self, session: AsyncConnection, entry: Entry,
                          values: Mapping[str, Any]) -> bool:
        """Whether the fence refuses this new clip row (an engine recorded it under a lease
        another engine had taken by then); remembered, so its later writes are dropped."""
        stamp = entry.get("fence")
        if stamp is None or self.fence is None:
            return values["id"] in self._fenced
        ended = values.get("created_at") or _decode_at(entry)
        if ended.tzinfo is None:
            ended = ended.replace(tzinfo=UTC)
        ended += timedelta(seconds=float(values.get("duration_s") or 0))
        reason = await self.fence.refusal(session, values["camera"], stamp, ended)
        if reason is None:
            return False
        if values["id"] not in self._fenced:
            _LOGGER.warning("clip %s not written: %s", values["id"], reason)
        self._fenced.add(values["id"])
        return True

    def _ensure_recovery(self) -> None:
        if self._closing:
            return
        if self._task is None or self._task.done():
            self._task = asyncio.get_running_loop().create_task(
                self._recover(), name="homesec-state-recovery"
            )

    async def _recover(self) -> None:
        """Retry with backoff until the database answers and the outbox is replayed."""
        delay = self._retry_initial
        while not self._closing:
            try:
                if await self._recover_once():
                    return
            except Exception:  # a bug must not end the retrying silently
                _LOGGER.exception("Unexpected error while replaying state writes")
            self._wake.clear()
            try:
                await asyncio.wait_for(self._wake.wait(), delay)
            except TimeoutError:
                pass
            delay = min(delay * 2, self._retry_max)

    async def _recover_once(self) -> bool:
        """One attempt: reconnect (migrating if it never could), then replay; True when done."""
        try:
            if not self._migrated:
                await migrate(self._engine)
                self._migrated = True
            elif not await self._ping_raw():
                self._mark_down(None)
                return False
        except Exception as exc:
            if not await self._is_outage(exc):
                raise
            self._mark_down(exc)
            return False
        self._mark_up()
        return await self._replay()

    async def _replay(self) -> bool:
        """Apply the outbox in order; True when it is empty, False to back off and retry."""
        single = 0  # entries to apply one at a time: a batch with one the database rejects
        while len(self._outbox) and not self._closing:
            batch = await self._outbox.head(1 if single else REPLAY_BATCH)
            if not batch:
                break
            dropped: Dropped = {}
            try:
                async with self._engine.begin() as session:
                    for entry in batch:
                        await self._apply(session, entry, dropped)
            except Exception as exc:
                dropped.clear()
                if await self._is_outage(exc):
                    self._mark_down(exc)
                    return False
                if len(batch) > 1:
                    single = len(batch)
                    continue
                self._head_failures += 1
                if self._head_failures < REPLAY_ATTEMPTS:
                    _LOGGER.warning(
                        "The database rejected a kept write (will retry): %s", _describe(exc)
                    )
                    return False
                _LOGGER.error(
                    "Dropping a kept write the database rejects: %s: %s", _describe(exc), batch[0]
                )
            self._generation += 1
            await self._outbox.drop(len(batch))
            self._head_failures = 0
            single = max(single - len(batch), 0)
            await self._report_dropped(dropped)
        return not len(self._outbox)

    async def _ping_raw(self) -> bool:
        for attempt in range(2):
            try:
                async with self._engine.connect() as conn:
                    await conn.execute(text("SELECT 1"))
                return True
            except Exception as exc:
                if attempt == 0 and _lost_connection(exc):
                    continue
                _LOGGER.debug("State database ping failed: %s", _describe(exc))
        return False

    async def _is_outage(self, exc: BaseException) -> bool:
        """Whether `exc` means the database cannot be reached (rather than a bad statement)."""
        if isinstance(exc, (OSError, TimeoutError)) or _lost_connection(exc):
            return True
        if _sqlstate(exc)[:2] in _OUTAGE_SQLSTATE_CLASSES:
            return True  # e.g. shutting down: a ping on a pooled connection may still answer
        if isinstance(exc, SQLAlchemyError):
            return not await self._ping_raw()
        return False

    def _mark_down(self, exc: BaseException | None) -> None:
        reason = "no answer to a ping" if exc is None else _describe(exc)
        if self._available or self._down_reason == "not started":
            _LOGGER.warning(
                "State database %s unavailable (%s); writes are kept until it returns",
                self.database_url,
                reason,
            )
        self._available = False
        self._down_reason = reason
        self._ensure_recovery()

    def _mark_up(self) -> None:
        if not self._available:
            if self._down_reason != "not started":
                _LOGGER.warning(
                    "State database %s answers again (%s kept writes to replay)",
                    self.database_url,
                    len(self._outbox),
                )
            self._available = True
            self._down_reason = None


# -- encoding (outbox entries are JSON) -------------------------------------------------------


def _encode(name: str, value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if name == "status" and value is not None:
        return str(value)
    if name in ("detected_objects", "objects", "zones") and value is not None:
        return list(value)
    return value


def _decode(values: Mapping[str, Any]) -> dict[str, Any]:
    return {
        name: datetime.fromisoformat(value) if name in _DATETIME_FIELDS and value else value
        for name, value in values.items()
    }


def _legacy_uid(event: Mapping[str, Any]) -> str:
    """A uid for an outbox event written without one: the same on every replay of it."""
    canonical = json.dumps(event, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()[:32]


def _decode_at(entry: Entry) -> datetime:
    return datetime.fromisoformat(entry["at"])


def _check_status(status: Any) -> None:
    if status not in _STATUSES:
        raise ValueError(f"invalid clip status {status!r}; one of {', '.join(ClipStatus)}")


def _check_paging(offset: int, limit: int) -> None:
    if offset < 0 or limit < 0:
        raise ValueError("offset and limit must not be negative")


def _value(query: ClipQuery, name: str, bound: bool) -> Any:
    """The filter's value, or (bound) a parameter of that name filled per execution."""
    if bound:
        column = clips.c[name] if name in clips.c else clips.c.created_at
        return bindparam(name, type_=column.type)
    value = getattr(query, name)
    return str(value) if name == "status" else value


def _clip_filters(query: ClipQuery, *, bound: bool = False) -> list[ColumnElement[bool]]:
    where: list[ColumnElement[bool]] = []

    def value(name: str) -> Any:
        return _value(query, name, bound)

    if query.camera is not None:
        where.append(clips.c.camera == value("camera"))
    if query.status is not None:
        where.append(clips.c.status == value("status"))
    else:
        # A literal, not a parameter: the planner matches it to ix_clips_listed's predicate
        # (a generic plan of a prepared statement cannot prove that for a parameter).
        where.append(clips.c.status != literal_column("'deleted'"))
    if query.alerted is not None:
        where.append(clips.c.alerted == value("alerted"))
    if query.risk_level is not None:
        where.append(clips.c.risk_level == value("risk_level"))
    if query.activity_type is not None:
        where.append(clips.c.activity_type == value("activity_type"))
    if query.since is not None:
        where.append(clips.c.created_at >= value("since"))
    if query.until is not None:
        where.append(clips.c.created_at < value("until"))
    return where


_FILTER_NAMES = ("camera", "status", "alerted", "risk_level", "activity_type", "since", "until")
_CLIP_WIDTH = len(_CLIP_COLUMNS)


def _list_params(query: ClipQuery) -> dict[str, Any]:
    """The bound values of a list query (only the filters that are given)."""
    params: dict[str, Any] = {
        name: getattr(query, name) for name in _FILTER_NAMES if getattr(query, name) is not None
    }
    if "status" in params:
        params["status"] = str(params["status"])
    params["offset"], params["limit"] = query.offset, query.limit
    return params


def _list_statement(query: ClipQuery) -> Select[Any]:
    """The page + total statement for the filters `query` gives, with bound parameters.

    One statement object per combination of filters, reused (SQLAlchemy memoises its cache
    key and compiled form on the object, so a request builds and compiles nothing).
    """
    where = _clip_filters(query, bound=True)
    total = _count_statement(query, where, bound=True).scalar_subquery()
    return (
        select(*_CLIP_COLUMNS, total.label("total"))
        .where(*where)
        .order_by(clips.c.created_at.desc(), clips.c.id.desc())
        .offset(bindparam("offset", type_=Integer))
        .limit(bindparam("limit", type_=Integer))
    )


def _count_statement(
    query: ClipQuery, where: list[ColumnElement[bool]], *, bound: bool = False
) -> Select[tuple[Any]]:
    """How many clips match: from clip_tallies unless a time range is asked for.

    Without since/until the filters are all tally columns, so the total sums a handful of
    tally rows instead of counting (up to every) clip; a time range counts the clips in it
    through the created_at indexes.
    """
    if query.since is not None or query.until is not None:
        return select(func.count()).select_from(clips).where(*where)

    def value(name: str) -> Any:
        return _value(query, name, bound)

    tally = [
        ClipTallyRow.status == value("status")
        if query.status is not None
        else ClipTallyRow.status != literal_column("'deleted'")
    ]
    if query.camera is not None:
        tally.append(ClipTallyRow.camera == value("camera"))
    if query.alerted is not None:
        tally.append(ClipTallyRow.alerted == value("alerted"))
    if query.risk_level is not None:
        tally.append(ClipTallyRow.risk_level == value("risk_level"))
    if query.activity_type is not None:
        tally.append(ClipTallyRow.activity_type == value("activity_type"))
    return select(func.coalesce(func.sum(ClipTallyRow.n), 0)).where(*tally)


def _clip_record(row: Row[Any]) -> ClipRecord:
    return ClipRecord(
        id=row.id,
        camera=row.camera,
        status=row.status,
        created_at=row.created_at,
        activity_type=row.activity_type,
        risk_level=row.risk_level,
        summary=row.summary,
        detected_objects=list(row.detected_objects or []),
        storage_uri=row.storage_uri,
        alerted=row.alerted,
        duration_s=row.duration_s,
        event=dict(row.event) if row.event else None,
        event_state=row.event_state,
        size_bytes=row.size_bytes,
        offsite_state=row.offsite_state,
        offsite_uri=row.offsite_uri,
        deleted_reason=row.deleted_reason,
        objects=list(row.objects or []),
        zones=list(row.zones or []),
    )


def _listed_clip(row: Row[Any]) -> ClipRecord:
    """A listed row, positionally (a page builds many); rows from before version 3 hold NULLs."""
    clip = ClipRecord(*row[:_CLIP_WIDTH])
    clip.objects = clip.objects or []  # NULL (None) on rows from before version 3
    clip.zones = clip.zones or []
    return clip


def _event_record(row: Row[Any]) -> ClipEventRecord:
    return ClipEventRecord(
        id=row.id,
        clip_id=row.clip_id,
        type=row.type,
        created_at=row.created_at,
        data=dict(row.data or {}),
    )


# PostgreSQL error classes that mean the server cannot take work now, whatever a ping on an
# existing connection says: 08 connection exception, 57 operator intervention (shutting down,
# starting up, in recovery).
_OUTAGE_SQLSTATE_CLASSES = ("08", "57")


def _sqlstate(exc: BaseException) -> str:
    """The PostgreSQL SQLSTATE of a database error, wrapped by SQLAlchemy or raw from the
    driver (asyncpg raises a refused connection, e.g. "shutting down", unwrapped); "" for
    others (SQLite's)."""
    orig = exc.orig if isinstance(exc, DBAPIError) else exc
    return str(getattr(orig, "sqlstate", None) or "")


def _lost_connection(exc: BaseException) -> bool:
    return isinstance(exc, DBAPIError) and exc.connection_invalidated


def _describe(exc: BaseException) -> str:
    """A short, password-free description of a database error."""
    cause = exc.orig if isinstance(exc, DBAPIError) and exc.orig is not None else exc
    message = str(cause).strip().splitlines()[0] if str(cause).strip() else ""
    name = type(cause).__name__
    return f"{name}: {message[:200]}" if message else name
