"""P0: an engine killed outright (SIGKILL) while the database is down loses no kept write.

A writer process (outbox_writer.py) records clips against a throw-away PostgreSQL that is
stopped; it reports each write once the repository returned from it. The process is killed
with SIGKILL, a new repository starts on the same outbox folder, the database comes back, and
every reported write must be in the database (events exactly once).
"""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from pathlib import Path

from homesec_engine.state import ClipRepository

from .conftest import FAST_RETRY
from .pgcluster import PgCluster

ROOT = Path(__file__).resolve().parents[3]
WRITER = Path(__file__).with_name("outbox_writer.py")
KILL_AFTER = 300  # reported writes before the kill (100 clips)
REPLAY_TIMEOUT = 60


async def run_writer_until(url: str, outbox_dir: Path, writes: int) -> list[str]:
    """Start the writer, SIGKILL it once it reported `writes` writes; its report lines."""
    proc = await asyncio.create_subprocess_exec(
        sys.executable, str(WRITER), url, str(outbox_dir),
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.DEVNULL,
        cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)},
    )  # fmt: skip
    assert proc.stdout is not None
    lines: list[str] = []
    try:
        first = (await asyncio.wait_for(proc.stdout.readline(), 60)).decode().strip()
        assert first == "started available=False", first
        while len(lines) < writes:
            raw = await asyncio.wait_for(proc.stdout.readline(), 60)
            assert raw, "the writer stopped on its own"
            lines.append(raw.decode().strip())
        proc.send_signal(signal.SIGKILL)  # mid-stream: it is writing the next one now
        rest = await proc.stdout.read()  # reported between our last read and the kill
        lines += [line for line in rest.decode().splitlines() if line.strip()]
    finally:
        if proc.returncode is None:
            proc.kill()
        await proc.wait()
    assert proc.returncode == -signal.SIGKILL
    return lines


async def test_sigkill_while_database_is_down_loses_no_kept_write(
    pg_cluster: PgCluster, tmp_path: Path
) -> None:
    # Given a database that is down and a writer process recording clips against it
    await pg_cluster.stop()
    outbox_dir = tmp_path / "outbox"

    # When the writer is killed with SIGKILL after hundreds of writes it was told were kept
    reported = await run_writer_until(pg_cluster.url, outbox_dir, KILL_AFTER)
    upserted = {line.split()[1] for line in reported if line.startswith("upsert ")}
    done = {line.split()[1] for line in reported if line.startswith("done ")}
    events = [tuple(line.split()[1:]) for line in reported if line.startswith("event ")]
    assert len(upserted) >= KILL_AFTER // 3

    # And a new repository starts on the same outbox while the database is still down
    repo = ClipRepository(pg_cluster.url, outbox_dir, **FAST_RETRY)
    await repo.start()
    try:
        assert not repo.available
        assert repo.pending_writes >= len(reported)
        # And the database comes back
        await pg_cluster.start()
        assert await repo.drain(timeout=REPLAY_TIMEOUT)

        # Then every clip the writer reported is there, in the state it reported last
        for clip_id in upserted:
            clip = await repo.get_clip(clip_id)
            assert clip is not None, f"{clip_id} was reported kept but is lost"
            if clip_id in done:
                assert clip.status == "done" and clip.storage_uri is not None
        # And every reported event is there exactly once, in the order it was written
        stored, _ = await repo.list_events(limit=100_000)
        stored_events = [(e.clip_id, e.type) for e in stored]
        assert len(stored_events) == len(set(stored_events))
        assert stored_events[: len(events)] == events
    finally:
        await repo.close()
