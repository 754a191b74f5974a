"""The outbox on its own: bounded memory, spill file, order, restart, damaged lines."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from homesec_engine.state.outbox import SPILL_FILE_NAME, Outbox


def entry(n: int) -> dict[str, object]:
    return {"op": "add_event", "n": n}


async def drain_all(outbox: Outbox, batch: int = 3) -> list[int]:
    got: list[int] = []
    while len(outbox):
        head = await outbox.head(batch)
        got += [int(e["n"]) for e in head]
        await outbox.drop(len(head))
    return got


async def test_memory_only_keeps_order(tmp_path: Path) -> None:
    # Given room for 10 in memory, When 5 entries are kept
    outbox = Outbox(tmp_path, memory_limit=10)
    for n in range(5):
        await outbox.put(entry(n))
    # Then nothing touches the disk and they come out oldest first
    assert len(outbox) == 5 and outbox.spilled == 0
    assert not (tmp_path / SPILL_FILE_NAME).exists()
    assert await outbox.head(2) == [entry(0), entry(1)]
    assert len(outbox) == 5  # head does not remove
    assert await drain_all(outbox) == [0, 1, 2, 3, 4]


async def test_spills_beyond_the_bound_and_keeps_order(tmp_path: Path) -> None:
    # Given room for 3 in memory, When 10 entries are kept
    outbox = Outbox(tmp_path, memory_limit=3)
    for n in range(10):
        await outbox.put(entry(n))
    # Then 7 are in the spill file, one JSON line each
    spill = tmp_path / SPILL_FILE_NAME
    assert len(outbox) == 10 and outbox.spilled == 7
    assert [json.loads(line)["n"] for line in spill.read_text().splitlines()] == list(range(3, 10))

    # And replaying while new entries arrive keeps the order across memory and file
    got = [int(e["n"]) for e in await outbox.head(10)]
    assert got == [0, 1, 2]
    await outbox.drop(2)
    await outbox.put(entry(10))  # the file still has unread lines: goes behind them
    assert await drain_all(outbox, batch=2) == [2, *range(3, 11)]
    assert not spill.exists()  # removed once everything was replayed


async def test_persist_and_load_across_restart(tmp_path: Path) -> None:
    # Given 9 entries kept (4 in memory, 5 spilled), 2 already replayed
    outbox = Outbox(tmp_path, memory_limit=4)
    for n in range(9):
        await outbox.put(entry(n))
    head = await outbox.head(2)
    await outbox.drop(len(head))
    # When the engine stops (persist) and a new outbox loads the directory
    await outbox.persist()
    again = Outbox(tmp_path, memory_limit=4)
    # Then the 7 left come back first, in order, before anything new
    assert await again.load() == 7
    await again.put(entry(9))
    assert await drain_all(again) == list(range(2, 10))


async def test_load_mends_a_torn_line(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    # Given a spill file whose last line was cut short by a kill mid-append
    spill = tmp_path / SPILL_FILE_NAME
    spill.write_text(json.dumps(entry(0)) + "\n" + json.dumps(entry(1)) + "\n" + '{"op": "add_ev')
    # When loaded, Then the whole lines are kept, the broken one is reported, and later
    # entries are not glued onto it
    outbox = Outbox(tmp_path, memory_limit=1)
    assert await outbox.load() == 2
    assert "damaged line 3" in caplog.text
    await outbox.put(entry(2))
    assert await drain_all(outbox) == [0, 1, 2]


async def test_persist_with_nothing_pending_removes_the_file(tmp_path: Path) -> None:
    # Given everything replayed, When the engine stops, Then no spill file is left behind
    outbox = Outbox(tmp_path, memory_limit=1)
    await outbox.put(entry(0))
    await outbox.put(entry(1))
    await drain_all(outbox)
    await outbox.persist()
    assert not (tmp_path / SPILL_FILE_NAME).exists()
    assert await Outbox(tmp_path).load() == 0
