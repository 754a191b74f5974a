"""The outbox on its own: write-through spill file, bounded memory, order, restart, damage."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

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


@pytest.fixture
async def make_outbox(tmp_path: Path) -> AsyncIterator[Callable[..., Outbox]]:
    """Outboxes on tmp_path, closed at teardown (their batched fsync timer stopped)."""
    made: list[Outbox] = []

    def factory(**kwargs: Any) -> Outbox:
        made.append(Outbox(tmp_path, **kwargs))
        return made[-1]

    yield factory
    for outbox in made:
        await outbox.close()


def spill_lines(tmp_path: Path) -> list[int]:
    return [json.loads(line)["n"] for line in (tmp_path / SPILL_FILE_NAME).read_text().splitlines()]


async def test_every_kept_entry_is_on_disk_at_once(
    tmp_path: Path, make_outbox: Callable[..., Outbox]
) -> None:
    # Given room for 10 in memory, When 5 entries are kept
    outbox = make_outbox(memory_limit=10)
    for n in range(5):
        await outbox.put(entry(n))
        # Then each is in the spill file as soon as put() returns (a kill loses none)
        assert spill_lines(tmp_path) == list(range(n + 1))
    # And they come out oldest first (from memory: nothing is read back from the file)
    assert len(outbox) == 5 and outbox.spilled == 0
    assert await outbox.head(2) == [entry(0), entry(1)]
    assert len(outbox) == 5  # head does not remove
    assert await drain_all(outbox) == [0, 1, 2, 3, 4]
    assert not (tmp_path / SPILL_FILE_NAME).exists()  # removed once everything was replayed


async def test_a_kill_loses_nothing_that_was_kept(
    tmp_path: Path, make_outbox: Callable[..., Outbox]
) -> None:
    # Given 6 entries kept (2 of them replayed already) and no orderly close (a kill)
    outbox = make_outbox(memory_limit=100)
    for n in range(6):
        await outbox.put(entry(n))
    await outbox.drop(len(await outbox.head(2)))
    # When a new outbox loads the directory
    again = make_outbox(memory_limit=100)
    # Then every entry is pending again, the replayed ones too (at-least-once)
    assert await again.load() == 6
    assert await drain_all(again) == list(range(6))


async def test_spills_beyond_the_bound_and_keeps_order(
    tmp_path: Path, make_outbox: Callable[..., Outbox]
) -> None:
    # Given room for 3 in memory, When 10 entries are kept
    outbox = make_outbox(memory_limit=3)
    for n in range(10):
        await outbox.put(entry(n))
    # Then all are in the spill file, one JSON line each; 7 wait there only (not in memory)
    assert len(outbox) == 10 and outbox.spilled == 7
    assert spill_lines(tmp_path) == list(range(10))
    spill = tmp_path / SPILL_FILE_NAME

    # And replaying while new entries arrive keeps the order across memory and file
    got = [int(e["n"]) for e in await outbox.head(10)]
    assert got == [0, 1, 2]
    await outbox.drop(2)
    await outbox.put(entry(10))  # the file still has unread lines: goes behind them
    assert await drain_all(outbox, batch=2) == [2, *range(3, 11)]
    assert not spill.exists()  # removed once everything was replayed


async def test_persist_and_load_across_restart(
    tmp_path: Path, make_outbox: Callable[..., Outbox]
) -> None:
    # Given 9 entries kept (4 in memory, 5 only in the file), 2 already replayed
    outbox = make_outbox(memory_limit=4)
    for n in range(9):
        await outbox.put(entry(n))
    head = await outbox.head(2)
    await outbox.drop(len(head))
    # When the engine stops (persist) and a new outbox loads the directory
    await outbox.persist()
    assert spill_lines(tmp_path) == list(range(2, 9))  # the replayed ones are gone
    again = make_outbox(memory_limit=4)
    # Then the 7 left come back first, in order, before anything new
    assert await again.load() == 7
    await again.put(entry(9))
    assert await drain_all(again) == list(range(2, 10))


async def test_load_mends_a_torn_line(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, make_outbox: Callable[..., Outbox]
) -> None:
    # Given a spill file whose last line was cut short by a kill mid-append
    spill = tmp_path / SPILL_FILE_NAME
    spill.write_text(json.dumps(entry(0)) + "\n" + json.dumps(entry(1)) + "\n" + '{"op": "add_ev')
    # When loaded, Then the whole lines are kept, the broken one is reported, and later
    # entries are not glued onto it
    outbox = make_outbox(memory_limit=1)
    assert await outbox.load() == 2
    assert "damaged line 3" in caplog.text
    await outbox.put(entry(2))
    assert await drain_all(outbox) == [0, 1, 2]


async def test_persist_with_nothing_pending_removes_the_file(
    tmp_path: Path, make_outbox: Callable[..., Outbox]
) -> None:
    # Given everything replayed, When the engine stops, Then no spill file is left behind
    outbox = make_outbox(memory_limit=1)
    await outbox.put(entry(0))
    await outbox.put(entry(1))
    await drain_all(outbox)
    await outbox.persist()
    assert not (tmp_path / SPILL_FILE_NAME).exists()
    assert await Outbox(tmp_path).load() == 0
