"""A writer process for the SIGKILL test (test_kill.py): records clips until it is killed.

    python -m tests.engine.state.outbox_writer DATABASE_URL OUTBOX_DIR

Each clip's life is an upsert, an event and an update to `done`. After each write returns,
one line goes to stdout: `upsert <id>`, `event <id> <uid-less type>`, `done <id>`, so the
parent knows which writes the repository reported as kept. Runs until killed.
"""

from __future__ import annotations

import asyncio
import sys
from datetime import UTC, datetime, timedelta

from homesec_engine.records import ClipEventRecord, ClipRecord
from homesec_engine.state import ClipRepository

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def report(line: str) -> None:
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


async def main(url: str, outbox_dir: str) -> None:
    # A memory bound far above what is written: without write-through every kept write
    # would be in memory only.
    repo = ClipRepository(url, outbox_dir, memory_limit=100_000, timeout=2, retry_max=0.5)
    await repo.start()
    report(f"started available={repo.available}")
    n = 0
    while True:
        clip_id = f"clip-{n:05d}"
        await repo.upsert_clip(
            ClipRecord(id=clip_id, camera="front", created_at=T0 + timedelta(seconds=n))
        )
        report(f"upsert {clip_id}")
        await repo.add_event(ClipEventRecord(clip_id=clip_id, type=f"recorded-{n}"))
        report(f"event {clip_id} recorded-{n}")
        await repo.update_clip(clip_id, status="done", storage_uri=f"local:{n}.mp4")
        report(f"done {clip_id}")
        n += 1


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], sys.argv[2]))
