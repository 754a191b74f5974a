"""P0: the database goes down for real (a throw-away PostgreSQL cluster is stopped).

Writes never raise and nothing is lost: they are kept (in memory, then in the spill file),
reads raise DatabaseUnavailable, and when the cluster is back everything reaches the database
in the order it was written, also across a restart of the repository while the database is down.
"""

from __future__ import annotations

import logging
import socket
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from homesec_engine.records import ClipEventRecord, ClipQuery, ClipRecord
from homesec_engine.state import ClipRepository, DatabaseUnavailable
from homesec_engine.state import outbox as outbox_module
from homesec_engine.state.outbox import SPILL_FILE_NAME

from .conftest import FAST_RETRY
from .pgcluster import PgCluster

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
REPLAY_TIMEOUT = 60


class Writer:
    """Writes a clip's life (upsert, events, updates) and remembers what it wrote, in order."""

    def __init__(self, repo: ClipRepository) -> None:
        self.repo = repo
        self.clips: dict[str, ClipRecord] = {}
        self.events: list[tuple[str, str]] = []

    async def clip_life(self, n: int) -> None:
        when = T0 + timedelta(seconds=n)
        record = ClipRecord(id=f"clip-{n:03d}", camera="front", created_at=when)
        await self.repo.upsert_clip(record)
        await self.event(record.id, f"recorded-{n}")
        await self.repo.update_clip(record.id, status="uploaded", storage_uri=f"local:{n}.mp4")
        await self.event(record.id, f"uploaded-{n}")
        await self.repo.update_clip(
            record.id, status="done", alerted=n % 2 == 0, detected_objects=["person"]
        )
        record.status, record.storage_uri = "done", f"local:{n}.mp4"
        record.alerted, record.detected_objects = n % 2 == 0, ["person"]
        self.clips[record.id] = record

    async def event(self, clip_id: str, kind: str) -> None:
        await self.repo.add_event(ClipEventRecord(clip_id=clip_id, type=kind, data={"kind": kind}))
        self.events.append((clip_id, kind))

    async def verify(self, repo: ClipRepository) -> None:
        """Every clip in its final state, every event once and in write order."""
        listed, total = await repo.list_clips(ClipQuery(limit=1000))
        assert total == len(self.clips)
        assert {c.id: c for c in listed} == self.clips
        events, total = await repo.list_events(limit=10_000)
        assert [(e.clip_id, e.type) for e in events] == self.events
        assert total == len(self.events)


async def assert_reads_unavailable(repo: ClipRepository) -> None:
    with pytest.raises(DatabaseUnavailable, match="unavailable"):
        await repo.get_clip("clip-000")
    with pytest.raises(DatabaseUnavailable):
        await repo.list_clips(ClipQuery())
    with pytest.raises(DatabaseUnavailable):
        await repo.list_events()
    with pytest.raises(DatabaseUnavailable):
        await repo.count_clips_since(T0)
    with pytest.raises(DatabaseUnavailable):
        await repo.count_alerts_since(T0)
    with pytest.raises(DatabaseUnavailable):
        await repo.delete_clip("clip-000")


async def test_outage_keeps_writes_and_replays_them_in_order(
    pg_cluster: PgCluster, tmp_path: Path
) -> None:
    # Given a repository on a running cluster, keeping at most 8 writes in memory
    outbox_dir = tmp_path / "outbox"
    repo = ClipRepository(pg_cluster.url, outbox_dir, memory_limit=8, **FAST_RETRY)
    await repo.start()
    try:
        writer = Writer(repo)
        for n in range(3):
            await writer.clip_life(n)
        assert repo.available and repo.pending_writes == 0

        # When the database stops and clips keep being recorded (nothing has told the
        # repository: the first write finds out)
        await pg_cluster.stop()
        for n in range(3, 10):
            await writer.clip_life(n)

        # Then no write raised, all are kept (beyond memory in the spill file), reads fail
        assert not repo.available
        assert repo.pending_writes == 7 * 5
        assert (outbox_dir / SPILL_FILE_NAME).exists()  # beyond 8 in memory: spilled
        assert not await repo.ping()
        await assert_reads_unavailable(repo)
        assert not await repo.drain(timeout=0.3)  # retries keep failing meanwhile

        # When the database is back, Then everything is replayed and the spill file is gone
        await pg_cluster.start()
        assert await repo.drain(timeout=REPLAY_TIMEOUT)
        assert repo.available and repo.pending_writes == 0
        assert not (outbox_dir / SPILL_FILE_NAME).exists()

        # And new writes go straight to the database; every write is there, in order
        await writer.clip_life(10)
        assert repo.pending_writes == 0
        await writer.verify(repo)
        assert await repo.count_clips_since(T0) == 11
        assert await repo.count_alerts_since(T0) == 6
    finally:
        await repo.close()


async def test_spill_file_survives_a_restart_while_down(
    pg_cluster: PgCluster, tmp_path: Path
) -> None:
    # Given 20 writes kept during an outage (4 in memory, the rest spilled)
    outbox_dir = tmp_path / "outbox"
    first = ClipRepository(pg_cluster.url, outbox_dir, memory_limit=4, **FAST_RETRY)
    await first.start()
    writer = Writer(first)
    try:
        await writer.clip_life(0)
        await pg_cluster.stop()
        for n in range(1, 5):
            await writer.clip_life(n)
        assert first.pending_writes == 20
    finally:
        # When the engine restarts while the database is still down
        await first.close()
    # Then all 20 are on disk (the memory part written in front of the spilled ones)
    spill = outbox_dir / SPILL_FILE_NAME
    assert len(spill.read_text().splitlines()) == 20

    second = ClipRepository(pg_cluster.url, outbox_dir, memory_limit=4, **FAST_RETRY)
    await second.start()
    try:
        assert not second.available
        assert second.pending_writes == 20
        writer.repo = second
        await writer.clip_life(5)  # queued behind the leftover writes
        assert second.pending_writes == 25

        # When the database returns, Then the leftover writes land first, then the new ones
        await pg_cluster.start()
        assert await second.drain(timeout=REPLAY_TIMEOUT)
        assert not spill.exists()
        await writer.verify(second)
    finally:
        await second.close()


async def test_start_while_database_is_down(pg_cluster: PgCluster, tmp_path: Path) -> None:
    """An engine started before its database records anyway; the schema comes later."""
    # Given a database that is down, When the repository starts, Then start does not raise
    await pg_cluster.stop()
    repo = ClipRepository(pg_cluster.url, tmp_path / "outbox", **FAST_RETRY)
    await repo.start()
    try:
        assert not repo.available
        # And writes are kept while reads fail
        writer = Writer(repo)
        await writer.clip_life(0)
        await assert_reads_unavailable(repo)

        # When the database comes up, Then the schema is created and the writes replayed
        await pg_cluster.start()
        assert await repo.ping()
        assert await repo.drain(timeout=REPLAY_TIMEOUT)
        await writer.verify(repo)
    finally:
        await repo.close()


async def test_outage_seen_by_a_read_then_recovered_without_writes(
    pg_cluster: PgCluster, tmp_path: Path
) -> None:
    repo = ClipRepository(pg_cluster.url, tmp_path / "outbox", **FAST_RETRY)
    await repo.start()
    try:
        # Given an outage noticed by a read (no write pending)
        await pg_cluster.stop()
        with pytest.raises(DatabaseUnavailable):
            await repo.list_clips(ClipQuery())
        assert not repo.available
        # When the database returns, Then the repository notices by itself and serves reads
        await pg_cluster.start()
        assert await repo.drain(timeout=REPLAY_TIMEOUT)
        assert await repo.list_clips(ClipQuery()) == ([], 0)
    finally:
        await repo.close()


async def test_database_restart_between_uses_goes_unnoticed(
    pg_cluster: PgCluster, tmp_path: Path
) -> None:
    """Pooled connections die with a restart; the next read and write use fresh ones."""
    repo = ClipRepository(pg_cluster.url, tmp_path / "outbox", **FAST_RETRY)
    await repo.start()
    try:
        # Given pooled connections from a first round of writes and reads
        writer = Writer(repo)
        await writer.clip_life(0)
        await writer.verify(repo)

        # When the database restarts between two uses, Then the next read just works
        await pg_cluster.stop()
        await pg_cluster.start()
        await writer.verify(repo)
        assert repo.available
        await writer.clip_life(1)
        assert repo.available and repo.pending_writes == 0

        # And so does the next write (nothing is kept back in the outbox)
        await pg_cluster.stop()
        await pg_cluster.start()
        await writer.clip_life(2)
        assert repo.available and repo.pending_writes == 0
        await writer.verify(repo)
    finally:
        await repo.close()


async def test_kept_write_the_database_rejects_is_dropped(
    pg_cluster: PgCluster, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """One bad entry (an event for a clip that never existed) cannot block the others."""
    repo = ClipRepository(pg_cluster.url, tmp_path / "outbox", **FAST_RETRY)
    await repo.start()
    try:
        # Given writes kept during an outage, one of them an event for an unknown clip
        writer = Writer(repo)
        await pg_cluster.stop()
        await writer.clip_life(0)
        await repo.add_event(ClipEventRecord(clip_id="never-recorded", type="orphan"))
        await writer.clip_life(1)
        assert repo.pending_writes == 11

        # When the database returns, Then the bad one is dropped (and logged) after retries
        # and everything else arrives, in order
        await pg_cluster.start()
        assert await repo.drain(timeout=REPLAY_TIMEOUT)
        await writer.verify(repo)
        assert "Dropping a kept write the database rejects" in caplog.text
        assert "never-recorded" in caplog.text
    finally:
        await repo.close()


async def test_a_password_in_the_url_query_stays_out_of_the_outage_log(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    # Given a database URL (from the env var named by state.url_env) that carries its
    # password as a query parameter, and a server that does not answer
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    url = f"postgresql://postgres@127.0.0.1:{port}/test?password=pg-s3cret-q&ssl=disable"
    caplog.set_level(logging.DEBUG, logger="homesec_engine")
    # When the repository starts (the database is down) and describes itself
    repo = ClipRepository(url, tmp_path / "outbox", **FAST_RETRY)
    await repo.start()
    try:
        assert not repo.available
        # Then the log says the database is unavailable but never shows the password
        assert "unavailable" in caplog.text
        assert "pg-s3cret-q" not in caplog.text
        assert "pg-s3cret-q" not in repo.database_url
        assert "ssl=disable" in repo.database_url  # the rest of the URL is still shown
    finally:
        await repo.close()


async def test_drain_returns_only_once_the_spill_file_is_gone(
    pg_cluster: PgCluster, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given writes spilled to disk during an outage, on a disk that is slow to delete files
    real_remove = outbox_module.Outbox._remove

    def slow_remove(self: outbox_module.Outbox) -> None:
        time.sleep(0.3)  # in the worker thread, as the real removal runs
        real_remove(self)

    monkeypatch.setattr(outbox_module.Outbox, "_remove", slow_remove)
    outbox_dir = tmp_path / "outbox"
    repo = ClipRepository(pg_cluster.url, outbox_dir, memory_limit=2, **FAST_RETRY)
    await repo.start()
    writer = Writer(repo)
    try:
        await writer.clip_life(0)
        await pg_cluster.stop()
        for n in range(1, 3):
            await writer.clip_life(n)
        assert (outbox_dir / SPILL_FILE_NAME).exists()
        # When the database returns and drain() says everything landed
        await pg_cluster.start()
        assert await repo.drain(timeout=REPLAY_TIMEOUT)
        # Then nothing is left on disk either
        assert repo.pending_writes == 0
        assert not (outbox_dir / SPILL_FILE_NAME).exists()
    finally:
        await repo.close()


async def test_a_write_while_the_database_shuts_down_is_kept_and_replayed(
    pg_cluster: PgCluster, tmp_path: Path
) -> None:
    import asyncio

    import asyncpg

    # Given a repository that has written a clip, and the database beginning a shutdown that
    # waits for an open session (new connections are refused: "the database system is
    # shutting down"), the repository's own connections cut
    repo = ClipRepository(pg_cluster.url, tmp_path / "outbox", **FAST_RETRY)
    await repo.start()
    holder = await asyncpg.connect(pg_cluster.url)
    stopping = asyncio.ensure_future(pg_cluster.stop("smart"))
    try:
        writer = Writer(repo)
        await writer.clip_life(0)
        deadline = time.monotonic() + 30
        while True:  # until the shutdown refuses new connections
            try:
                await (await asyncpg.connect(pg_cluster.url)).close()
            except asyncpg.CannotConnectNowError:
                break
            assert time.monotonic() < deadline, "the database never began shutting down"
            await asyncio.sleep(0.1)
        await holder.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                             "WHERE pid <> pg_backend_pid() AND datname = current_database()")
        # When the next clip is recorded
        await writer.clip_life(1)
        # Then none of its writes raised or was lost: they are kept until the database is back
        assert not repo.available and repo.pending_writes == 5
        await holder.close()
        await stopping
        await pg_cluster.start()
        assert await repo.drain(timeout=REPLAY_TIMEOUT)
        # And once it is, both clips and every event are there, in order
        await writer.verify(repo)
    finally:
        if not holder.is_closed():
            await holder.close()
        await stopping
        await repo.close()
