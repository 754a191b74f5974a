"""Writes kept while the state database is down, written through to disk, replayed in order.

Entries are JSON-ready dicts (the repository encodes its writes). Every entry is appended, one
JSON line, to `<directory>/state-outbox.jsonl` before `put()` returns (write-through): the
line is in the kernel's page cache at that point, so a process that is killed outright
(SIGKILL, OOM killer) loses nothing a caller was told was kept. `fsync` (against a power
loss) is batched: at most `sync_interval` seconds or `sync_every` entries after an append.

Memory holds at most `memory_limit` of the oldest pending entries as a read cache for the
replay; the rest are read from the file when memory runs empty. The file holds, in order:
lines already replayed (dropped), the lines cached in memory, then the unread lines. Lines are
only removed from the file once all of them were replayed (or by `persist()`, which drops the
replayed ones), so an engine killed in the middle of a replay replays some entries a second
time rather than losing them (at-least-once; the repository makes every write idempotent).

`load()` on the next start finds the file and everything in it is pending again, to be
replayed before any new write. File work runs in a worker thread; an asyncio lock keeps the
methods from interleaving.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import time
from collections import deque
from pathlib import Path
from typing import Any

_LOGGER = logging.getLogger(__name__)

SPILL_FILE_NAME = "state-outbox.jsonl"

Entry = dict[str, Any]


class Outbox:
    def __init__(
        self,
        directory: str | os.PathLike[str],
        *,
        memory_limit: int = 1000,
        sync_interval: float = 0.1,
        sync_every: int = 100,
    ) -> None:
        if memory_limit < 1:
            raise ValueError("memory_limit must be at least 1")
        self.directory = Path(directory)
        self.path = self.directory / SPILL_FILE_NAME
        self.memory_limit = memory_limit
        self.sync_interval = sync_interval
        self.sync_every = max(1, sync_every)
        # The replay's read cache: (entry, its line's length in bytes), oldest first.
        self._memory: deque[tuple[Entry, int]] = deque()
        self._unread = 0  # lines in the file not read into memory yet
        self._read_pos = 0  # byte offset of the first unread line
        self._head_pos = 0  # byte offset of the first line not replayed yet
        self._unsynced = 0  # appends since the last fsync
        self._synced_at = 0.0  # time.monotonic() of the last fsync
        self._sync_timer: asyncio.TimerHandle | None = None
        self._sync_task: asyncio.Task[None] | None = None
        self._lock = asyncio.Lock()

    def __len__(self) -> int:
        return len(self._memory) + self._unread

    @property
    def spilled(self) -> int:
        """Entries waiting in the file that are not read into memory yet."""
        return self._unread

    async def load(self) -> int:
        """Pick up a spill file left by an earlier run; the number of entries pending."""
        async with self._lock:
            if self._memory or self._unread:
                raise RuntimeError("load() must come before any put()")
            count = await asyncio.to_thread(self._load_file)
            self._unread, self._read_pos, self._head_pos = count, 0, 0
            if count:
                _LOGGER.warning("Replaying %s state writes left in %s", count, self.path)
            return count

    async def put(self, entry: Entry) -> None:
        """Keep `entry`; it is in the file (not necessarily fsynced yet) when this returns."""
        line = (json.dumps(entry, separators=(",", ":"), allow_nan=False) + "\n").encode()
        async with self._lock:
            sync = self._unsynced + 1 >= self.sync_every or (
                time.monotonic() - self._synced_at >= self.sync_interval
            )
            await asyncio.to_thread(self._append, line, sync)
            if sync:
                self._synced()
            else:
                self._unsynced += 1
                self._arm_sync()
            if not self._unread and len(self._memory) < self.memory_limit:
                self._memory.append((json.loads(line), len(line)))  # as the file would give it
                self._read_pos += len(line)
            else:
                self._unread += 1

    async def head(self, count: int) -> list[Entry]:
        """Up to `count` of the oldest entries (they stay pending until `drop`)."""
        async with self._lock:
            if not self._memory and self._unread:
                entries, self._read_pos = await asyncio.to_thread(
                    self._read, self._read_pos, self.memory_limit
                )
                self._memory.extend(entries)
                self._unread = 0 if not entries else max(self._unread - len(entries), 0)
            return [self._memory[i][0] for i in range(min(count, len(self._memory)))]

    async def drop(self, count: int) -> None:
        """Forget the `count` oldest entries (replayed)."""
        async with self._lock:
            if count >= len(self._memory) and not self._unread:
                # The last pending entries: the file goes first and only then do they stop
                # counting, so "nothing pending" (what drain() waits for) also means "nothing
                # left on disk".
                self._cancel_sync()
                await asyncio.to_thread(self._remove)
                self._memory.clear()
                self._read_pos = self._head_pos = 0
                return
            for _ in range(min(count, len(self._memory))):
                self._head_pos += self._memory.popleft()[1]

    async def persist(self) -> None:
        """On close: drop the replayed lines from the file and fsync what is left."""
        async with self._lock:
            self._cancel_sync()
            if not self._memory and not self._unread:
                await asyncio.to_thread(self._remove)
                return
            count = len(self)
            if self._head_pos:
                count = await asyncio.to_thread(self._rewrite, [], self._head_pos)
            elif self._unsynced:
                await asyncio.to_thread(self._fsync)
            self._memory.clear()
            self._unread, self._read_pos, self._head_pos = count, 0, 0
            self._synced()
            _LOGGER.warning("Kept %s pending state writes in %s", self._unread, self.path)

    async def close(self) -> None:
        """fsync what is not synced yet and stop the sync timer (the entries stay pending)."""
        async with self._lock:
            self._cancel_sync()
            if self._unsynced:
                await asyncio.to_thread(self._fsync)
                self._synced()

    # -- batched fsync ---------------------------------------------------------------------

    def _synced(self) -> None:
        self._unsynced = 0
        self._synced_at = time.monotonic()
        self._cancel_sync()

    def _arm_sync(self) -> None:
        """fsync at most `sync_interval` after the oldest unsynced append."""
        if self._sync_timer is not None or self._sync_task is not None:
            return
        delay = max(0.0, self._synced_at + self.sync_interval - time.monotonic())
        self._sync_timer = asyncio.get_running_loop().call_later(delay, self._start_sync)

    def _start_sync(self) -> None:
        self._sync_timer = None
        self._sync_task = asyncio.get_running_loop().create_task(
            self._deferred_sync(), name="homesec-outbox-fsync"
        )

    async def _deferred_sync(self) -> None:
        try:
            async with self._lock:
                if self._unsynced:
                    await asyncio.to_thread(self._fsync)
                    self._unsynced = 0
                    self._synced_at = time.monotonic()
        except OSError as exc:
            _LOGGER.error("Could not fsync the state outbox %s: %s", self.path, exc)
        finally:
            if self._sync_task is asyncio.current_task():
                self._sync_task = None

    def _cancel_sync(self) -> None:
        if self._sync_timer is not None:
            self._sync_timer.cancel()
            self._sync_timer = None
        task = self._sync_task
        if task is not None and task is not asyncio.current_task():
            task.cancel()  # it waits for the lock we hold: it has not touched the file
            self._sync_task = None

    # -- file work (worker thread) -------------------------------------------------------

    def _append(self, line: bytes, sync: bool) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        # Unbuffered: the bytes reach the kernel in this write() call, before put() returns.
        with self.path.open("ab", buffering=0) as spill:
            spill.write(line)
            if sync:
                os.fsync(spill.fileno())

    def _fsync(self) -> None:
        if self.path.exists():
            with self.path.open("rb") as spill:
                os.fsync(spill.fileno())

    def _read(self, pos: int, limit: int) -> tuple[list[tuple[Entry, int]], int]:
        entries: list[tuple[Entry, int]] = []
        if not self.path.exists():
            _LOGGER.error("The state outbox file %s disappeared; its writes are lost", self.path)
            return entries, 0
        with self.path.open("rb") as spill:
            spill.seek(pos)
            while len(entries) < limit:
                raw = spill.readline()
                if not raw:
                    break
                entries.append((json.loads(raw), len(raw)))
            return entries, spill.tell()

    def _remove(self) -> None:
        self.path.unlink(missing_ok=True)

    def _rewrite(self, head_lines: list[str], pos: int) -> int:
        """Replace the file with `head_lines` followed by its lines from byte `pos`."""
        self.directory.mkdir(parents=True, exist_ok=True)
        tail = b""
        if self.path.exists():
            with self.path.open("rb") as spill:
                spill.seek(pos)
                tail = spill.read()
        data = "".join(line + "\n" for line in head_lines).encode() + tail
        if not data:
            self._remove()
            return 0
        tmp = self.path.with_name(self.path.name + ".tmp")
        with tmp.open("wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        os.replace(tmp, self.path)
        return data.count(b"\n")

    def _load_file(self) -> int:
        """Count the file's entries, first mending damage an abrupt stop can leave behind.

        A line cut short (the engine killed in the middle of an append) is not valid JSON; such
        lines are dropped and the file is rewritten, so later appends start on a fresh line.
        """
        if not self.path.exists():
            return 0
        data = self.path.read_bytes()
        raw_lines = data.splitlines()
        good: list[str] = []
        for number, raw in enumerate(raw_lines, 1):
            try:
                json.loads(raw)
            except ValueError:
                _LOGGER.error("Skipping damaged line %s of %s", number, self.path)
                continue
            good.append(raw.decode())
        if not good:
            self._remove()
            return 0
        if len(good) != len(raw_lines) or not data.endswith(b"\n"):
            return self._rewrite(good, len(data))
        return len(good)
