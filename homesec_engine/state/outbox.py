"""Writes kept while the state database is down, replayed strictly in order.

Entries are JSON-ready dicts (the repository encodes its writes). The oldest `memory_limit`
entries are held in memory; beyond that bound new entries are appended, one JSON line each,
to `<directory>/state-outbox.jsonl`, and once anything is in that file every later entry goes
there too, so the order is always: memory, then the file's unread lines, oldest first. When
memory runs empty the next lines are read from the file into memory.

`persist()` (called on close) writes the memory part in front of the file's unread lines, so
a restart loses nothing: `load()` on the next start finds the file and everything in it is
pending again, to be replayed before any new write. Lines are only dropped from the file once
all of them were replayed, so an engine killed in the middle of a replay replays some entries
a second time rather than losing them (at-least-once; clip upserts and updates are
idempotent).

File work runs in a worker thread; an asyncio lock keeps the methods from interleaving.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
from collections import deque
from pathlib import Path
from typing import Any

_LOGGER = logging.getLogger(__name__)

SPILL_FILE_NAME = "state-outbox.jsonl"

Entry = dict[str, Any]


class Outbox:
    def __init__(self, directory: str | os.PathLike[str], *, memory_limit: int = 1000) -> None:
        if memory_limit < 1:
            raise ValueError("memory_limit must be at least 1")
        self.directory = Path(directory)
        self.path = self.directory / SPILL_FILE_NAME
        self.memory_limit = memory_limit
        self._memory: deque[Entry] = deque()
        self._unread = 0  # lines in the file not yet read into memory
        self._read_pos = 0  # byte offset of the first unread line
        self._lock = asyncio.Lock()

    def __len__(self) -> int:
        return len(self._memory) + self._unread

    @property
    def spilled(self) -> int:
        """Entries waiting in the spill file (not read into memory yet)."""
        return self._unread

    async def load(self) -> int:
        """Pick up a spill file left by an earlier run; the number of entries pending."""
        async with self._lock:
            if self._memory or self._unread:
                raise RuntimeError("load() must come before any put()")
            count = await asyncio.to_thread(self._load_file)
            self._unread, self._read_pos = count, 0
            if count:
                _LOGGER.warning("Replaying %s state writes left in %s", count, self.path)
            return count

    async def put(self, entry: Entry) -> None:
        line = json.dumps(entry, separators=(",", ":"), allow_nan=False)
        async with self._lock:
            if not self._unread and len(self._memory) < self.memory_limit:
                self._memory.append(json.loads(line))  # a copy, as it would come from the file
                return
            await asyncio.to_thread(self._append, line)
            self._unread += 1

    async def head(self, count: int) -> list[Entry]:
        """Up to `count` of the oldest entries (they stay pending until `drop`)."""
        async with self._lock:
            if not self._memory and self._unread:
                entries, self._read_pos, read = await asyncio.to_thread(
                    self._read, self._read_pos, self.memory_limit
                )
                self._memory.extend(entries)
                self._unread = 0 if read == 0 else max(self._unread - read, 0)
            return [self._memory[i] for i in range(min(count, len(self._memory)))]

    async def drop(self, count: int) -> None:
        """Forget the `count` oldest entries (replayed)."""
        async with self._lock:
            for _ in range(min(count, len(self._memory))):
                self._memory.popleft()
            if not self._memory and not self._unread:
                self._read_pos = 0
                await asyncio.to_thread(self._remove)

    async def persist(self) -> None:
        """Write every pending entry to the spill file (for a restart)."""
        async with self._lock:
            if not self._memory and not self._unread:
                await asyncio.to_thread(self._remove)
                return
            if self._memory or self._read_pos:
                lines = [json.dumps(e, separators=(",", ":")) for e in self._memory]
                count = await asyncio.to_thread(self._rewrite, lines, self._read_pos)
                self._memory.clear()
                self._unread, self._read_pos = count, 0
            _LOGGER.warning("Kept %s pending state writes in %s", self._unread, self.path)

    # -- file work (worker thread) -------------------------------------------------------

    def _append(self, line: str) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        with self.path.open("a", encoding="utf-8") as spill:
            spill.write(line + "\n")

    def _read(self, pos: int, limit: int) -> tuple[list[Entry], int, int]:
        entries: list[Entry] = []
        read = 0
        if not self.path.exists():
            _LOGGER.error("The state outbox file %s disappeared; its writes are lost", self.path)
            return entries, 0, read
        with self.path.open("rb") as spill:
            spill.seek(pos)
            while read < limit:
                raw = spill.readline()
                if not raw:
                    break
                read += 1
                entries.append(json.loads(raw))
            return entries, spill.tell(), read

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
