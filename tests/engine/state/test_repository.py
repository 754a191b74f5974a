"""ClipRepository against SQLite and the real PostgreSQL (each test runs on both)."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from sqlalchemy.exc import IntegrityError

from homesec_engine.records import ClipEventRecord, ClipQuery, ClipRecord, ClipStatus
from homesec_engine.state import ClipRepository

from .conftest import Database, RepoFactory

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def clip(n: int, **fields: object) -> ClipRecord:
    values: dict[str, object] = {
        "id": f"clip-{n:03d}",
        "camera": "front",
        "created_at": T0 + timedelta(minutes=n),
    }
    values.update(fields)
    return ClipRecord(**values)  # type: ignore[arg-type]


async def test_upsert_get_round_trip(repo: ClipRepository) -> None:
    # Given a clip recorded at 14:30 in UTC+2, with every field set
    cest = timezone(timedelta(hours=2))
    record = ClipRecord(
        id="20260301T120000-abc",
        camera="front_door",
        status=ClipStatus.ANALYZED,
        created_at=datetime(2026, 3, 1, 14, 30, 15, 123456, tzinfo=cest),
        activity_type="person_at_door",
        risk_level="medium",
        summary="A person rings the bell — and waits.",
        detected_objects=["person", "package"],
        storage_uri="local:front_door/2026/03/01/clip.mp4",
        alerted=True,
        duration_s=12.5,
    )
    # When it is stored and read back
    await repo.upsert_clip(record)
    got = await repo.get_clip(record.id)

    # Then it is the same clip at the same instant, in UTC
    assert got == record
    assert got is not None
    assert got.created_at.utcoffset() == timedelta(0)
    assert got.created_at == datetime(2026, 3, 1, 12, 30, 15, 123456, tzinfo=UTC)
    assert got.detected_objects == ["person", "package"]
    assert got.status == "analyzed"

    # When the same id is upserted again, Then every field is replaced, None included
    replaced = ClipRecord(
        id=record.id, camera="garage", status="done", created_at=T0, detected_objects=[]
    )
    await repo.upsert_clip(replaced)
    assert await repo.get_clip(record.id) == replaced
    assert await repo.get_clip("nope") is None


async def test_naive_datetime_is_taken_as_utc(repo: ClipRepository) -> None:
    # Given a clip whose time has no zone, When it is stored and read back
    await repo.upsert_clip(clip(1, created_at=datetime(2026, 3, 1, 8, 0)))
    got = await repo.get_clip("clip-001")
    # Then it comes back as that time in UTC
    assert got is not None
    assert got.created_at == datetime(2026, 3, 1, 8, 0, tzinfo=UTC)


async def test_update_clip(repo: ClipRepository) -> None:
    # Given a stored clip, When several of its fields are updated
    await repo.upsert_clip(clip(1))
    await repo.update_clip(
        "clip-001",
        status=ClipStatus.DONE,
        risk_level="high",
        activity_type="intruder",
        summary="someone at the fence",
        detected_objects=["person"],
        alerted=True,
        duration_s=3.25,
        storage_uri="local:front/x.mp4",
    )
    # Then exactly those fields changed
    got = await repo.get_clip("clip-001")
    assert got == clip(
        1,
        status="done",
        risk_level="high",
        activity_type="intruder",
        summary="someone at the fence",
        detected_objects=["person"],
        alerted=True,
        duration_s=3.25,
        storage_uri="local:front/x.mp4",
    )
    await repo.update_clip("clip-001", summary=None)
    got = await repo.get_clip("clip-001")
    assert got is not None and got.summary is None and got.risk_level == "high"

    # An unknown id changes nothing; unknown fields and statuses are refused up front
    await repo.update_clip("unknown-clip", status="done")
    assert await repo.get_clip("unknown-clip") is None
    with pytest.raises(TypeError, match="colour"):
        await repo.update_clip("clip-001", colour="red")
    with pytest.raises(TypeError, match="id"):
        await repo.update_clip("clip-001", id="other")
    with pytest.raises(ValueError, match="invalid clip status"):
        await repo.update_clip("clip-001", status="lost")
    with pytest.raises(ValueError, match="invalid clip status"):
        await repo.upsert_clip(clip(2, status="lost"))
    assert repo.pending_writes == 0


async def test_updated_at_follows_writes(repo: ClipRepository) -> None:
    from sqlalchemy import select

    from homesec_engine.state.tables import clips

    # Given a stored clip, When it is updated, Then its updated_at moves forward
    await repo.upsert_clip(clip(1))
    async with repo.engine.connect() as conn:
        first = (await conn.execute(select(clips.c.updated_at))).scalar_one()
    await repo.update_clip("clip-001", status="done")
    async with repo.engine.connect() as conn:
        second = (await conn.execute(select(clips.c.updated_at))).scalar_one()
    assert first.tzinfo is not None and second > first


async def _seed(repo: ClipRepository) -> list[ClipRecord]:
    person, vehicle, animal = "person", "vehicle", "animal"
    records = [
        clip(0, camera="front", status="done", alerted=True, risk_level="high",
             activity_type=person),
        clip(1, camera="front", status="done", risk_level="low", activity_type=vehicle),
        clip(2, camera="back", status="analyzed", alerted=True, risk_level="critical",
             activity_type=person),
        clip(3, camera="back", status="queued_local"),
        clip(4, camera="garage", status="error", risk_level="low", activity_type=animal),
        clip(5, camera="front", status="uploaded", alerted=True, risk_level="medium",
             activity_type=person),
        clip(6, camera="back", status="deleted", alerted=True, risk_level="high",
             activity_type=person),
    ]  # fmt: skip
    for record in records:
        await repo.upsert_clip(record)
    return records


def ids(clips: list[ClipRecord]) -> list[str]:
    return [c.id for c in clips]


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        (ClipQuery(), [5, 4, 3, 2, 1, 0]),  # newest first, deleted left out
        (ClipQuery(camera="front"), [5, 1, 0]),
        (ClipQuery(camera="back"), [3, 2]),
        (ClipQuery(status="done"), [1, 0]),
        (ClipQuery(status=ClipStatus.QUEUED_LOCAL), [3]),
        (ClipQuery(status="deleted"), [6]),
        (ClipQuery(alerted=True), [5, 2, 0]),
        (ClipQuery(alerted=False), [4, 3, 1]),
        (ClipQuery(risk_level="low"), [4, 1]),
        (ClipQuery(risk_level="high"), [0]),
        (ClipQuery(activity_type="person"), [5, 2, 0]),
        (ClipQuery(since=T0 + timedelta(minutes=2)), [5, 4, 3, 2]),  # since is inclusive
        (ClipQuery(until=T0 + timedelta(minutes=2)), [1, 0]),  # until is exclusive
        (ClipQuery(since=T0 + timedelta(minutes=1), until=T0 + timedelta(minutes=4)), [3, 2, 1]),
        # an aware datetime in another zone means the same instant
        (ClipQuery(since=(T0 + timedelta(minutes=4)).astimezone(timezone(-timedelta(hours=5)))),
         [5, 4]),
        (ClipQuery(camera="front", alerted=True, activity_type="person"), [5, 0]),
        (ClipQuery(camera="back", status="deleted", alerted=True), [6]),
        (ClipQuery(camera="nowhere"), []),
    ],
)
async def test_list_filters(repo: ClipRepository, query: ClipQuery, expected: list[int]) -> None:
    # Given seven clips across cameras, statuses, alerts, risks and times
    await _seed(repo)
    # When they are listed with a filter
    clips, total = await repo.list_clips(query)
    # Then exactly the matching ones come back, newest first, with their total
    assert ids(clips) == [f"clip-{n:03d}" for n in expected]
    assert total == len(expected)


async def test_list_returns_full_records(repo: ClipRepository) -> None:
    # Given the seeded clips, When listed, Then each is the complete record that was stored
    records = await _seed(repo)
    clips, _ = await repo.list_clips(ClipQuery(camera="front", limit=1))
    assert clips == [records[5]]


async def test_paging_and_total(repo: ClipRepository) -> None:
    # Given six listable clips (and a deleted one)
    await _seed(repo)
    # When they are read page by page, Then the pages cover them all once and total stays 6
    seen: list[str] = []
    for offset in (0, 2, 4):
        page, total = await repo.list_clips(ClipQuery(offset=offset, limit=2))
        assert total == 6
        assert len(page) == 2
        seen += ids(page)
    assert seen == [f"clip-{n:03d}" for n in (5, 4, 3, 2, 1, 0)]
    oldest = await repo.get_clip("clip-000")
    assert await repo.list_clips(ClipQuery(offset=5, limit=2)) == ([oldest], 6)
    assert await repo.list_clips(ClipQuery(offset=6, limit=2)) == ([], 6)
    assert await repo.list_clips(ClipQuery(offset=50, limit=2)) == ([], 6)
    assert await repo.list_clips(ClipQuery(limit=0)) == ([], 6)
    page, total = await repo.list_clips(ClipQuery(camera="front", offset=1, limit=10))
    assert (ids(page), total) == (["clip-001", "clip-000"], 3)
    with pytest.raises(ValueError):
        await repo.list_clips(ClipQuery(offset=-1))


async def test_same_timestamp_pages_stably(repo: ClipRepository) -> None:
    # Given five clips with the same time, When paged, Then no clip is skipped or repeated
    for n in range(5):
        await repo.upsert_clip(clip(n, created_at=T0))
    first, _ = await repo.list_clips(ClipQuery(limit=3))
    second, _ = await repo.list_clips(ClipQuery(offset=3, limit=3))
    assert ids(first) + ids(second) == [f"clip-{n:03d}" for n in (4, 3, 2, 1, 0)]


async def test_events_in_order(repo: ClipRepository) -> None:
    # Given two clips, When six events are written for them alternately
    await repo.upsert_clip(clip(1))
    await repo.upsert_clip(clip(2))
    written = []
    for n in range(6):
        event = ClipEventRecord(
            clip_id="clip-001" if n % 2 == 0 else "clip-002",
            type=f"step_{n}",
            # deliberately out of time order: the write order is what counts
            created_at=T0 - timedelta(seconds=n),
            data={"n": n, "labels": ["person"], "nested": {"ok": True}},
        )
        await repo.add_event(event)
        written.append(event)

    # Then they are listed in write order with their data and times intact
    events, total = await repo.list_events()
    assert total == 6
    assert [e.type for e in events] == [f"step_{n}" for n in range(6)]
    assert [e.id for e in events] == sorted(e.id for e in events if e.id is not None)
    for got, want in zip(events, written, strict=True):
        assert (got.clip_id, got.type, got.created_at, got.data) == (
            want.clip_id,
            want.type,
            want.created_at,
            want.data,
        )
        assert got.created_at.tzinfo is not None

    # And per clip, paged
    one, total = await repo.list_events("clip-001")
    assert total == 3 and [e.type for e in one] == ["step_0", "step_2", "step_4"]
    page, total = await repo.list_events("clip-002", offset=1, limit=1)
    assert total == 3 and [e.type for e in page] == ["step_3"]
    assert await repo.list_events("clip-404") == ([], 0)


async def test_event_for_unknown_clip_is_refused(repo: ClipRepository) -> None:
    """With the database up, a write the database rejects is the caller's error."""
    # Given no clip "ghost", When an event for it is written, Then the database refuses it
    with pytest.raises(IntegrityError):
        await repo.add_event(ClipEventRecord(clip_id="ghost", type="created"))
    assert repo.available and repo.pending_writes == 0


async def test_write_that_cannot_be_kept_is_refused(repo: ClipRepository) -> None:
    # Given event data that is not JSON, When written, Then it is refused before anything else
    await repo.upsert_clip(clip(1))
    with pytest.raises(TypeError):
        await repo.add_event(ClipEventRecord(clip_id="clip-001", type="x", data={"when": T0}))
    assert repo.pending_writes == 0


async def test_delete_clip(repo: ClipRepository) -> None:
    # Given two stored clips
    await repo.upsert_clip(clip(1, storage_uri="local:front/1.mp4", status="done"))
    await repo.upsert_clip(clip(2))

    # When one is deleted, Then its record comes back (for removing the file), marked deleted
    deleted = await repo.delete_clip("clip-001")
    assert deleted is not None
    assert deleted.status == ClipStatus.DELETED
    assert deleted.storage_uri == "local:front/1.mp4"

    # And it is left out of lists unless deleted clips are asked for
    stored = await repo.get_clip("clip-001")
    assert stored is not None and stored.status == "deleted"
    assert ids((await repo.list_clips(ClipQuery()))[0]) == ["clip-002"]
    assert ids((await repo.list_clips(ClipQuery(status="deleted")))[0]) == ["clip-001"]
    assert await repo.delete_clip("clip-404") is None
    again = await repo.delete_clip("clip-001")  # idempotent
    assert again is not None and again.status == "deleted"


async def test_counters_since(repo: ClipRepository) -> None:
    # Given seven clips a minute apart, four of them alerts (one alert clip deleted)
    await _seed(repo)
    # When counted since a time, Then clips and alerts at or after it count, deleted ones too
    assert await repo.count_clips_since(T0) == 7
    assert await repo.count_alerts_since(T0) == 4
    assert await repo.count_clips_since(T0 + timedelta(minutes=2)) == 5  # inclusive
    assert await repo.count_alerts_since(T0 + timedelta(minutes=2)) == 3
    assert await repo.count_clips_since(T0 + timedelta(minutes=2, microseconds=1)) == 4
    assert await repo.count_clips_since(T0 + timedelta(days=1)) == 0
    assert await repo.count_alerts_since(T0 + timedelta(days=1)) == 0


async def test_health_properties(repo: ClipRepository) -> None:
    # Given a started repository on a working database, Then it reports itself available
    assert repo.available
    assert repo.pending_writes == 0
    assert await repo.ping()
    assert await repo.drain(timeout=1)


async def test_data_survives_a_restart(make_repo: RepoFactory) -> None:
    # Given a clip and an event written before the repository closes
    first = await make_repo()
    await first.upsert_clip(clip(1))
    await first.add_event(ClipEventRecord(clip_id="clip-001", type="created", created_at=T0))
    await first.close()

    # When a new repository starts on the same database, Then both are there
    second = await make_repo()
    assert await second.get_clip("clip-001") == clip(1)
    events, total = await second.list_events("clip-001")
    assert total == 1 and events[0].type == "created"


async def test_use_outside_start_and_close(database: Database, tmp_path: Path) -> None:
    # Given a repository not started yet, Then it refuses reads and writes
    repo = ClipRepository(database.url, tmp_path / "outbox", schema=database.schema)
    with pytest.raises(RuntimeError, match="start"):
        await repo.get_clip("x")
    with pytest.raises(RuntimeError, match="start"):
        await repo.upsert_clip(clip(1))
    # When used as a context manager and closed, Then later writes are refused too
    async with repo:
        await repo.upsert_clip(clip(1))
    with pytest.raises(RuntimeError, match="closed"):
        await repo.upsert_clip(clip(2))
    await repo.close()  # twice is fine


async def test_totals_follow_every_change(repo: ClipRepository) -> None:
    """The totals (kept per filter combination by triggers) agree with counting the clips."""
    import random

    # Given 60 clips with random filter values, then 80 random updates, upserts and deletes
    rng = random.Random(7)
    cameras, statuses = ["front", "back", "garage"], [s.value for s in ClipStatus]
    for n in range(60):
        await repo.upsert_clip(
            clip(
                n,
                camera=rng.choice(cameras),
                status=rng.choice(statuses),
                alerted=rng.random() < 0.4,
                risk_level=rng.choice([None, "low", "high"]),
                activity_type=rng.choice([None, "person", "vehicle"]),
            )
        )
    for _ in range(80):
        n = rng.randrange(60)
        match rng.randrange(4):
            case 0:
                await repo.update_clip(
                    f"clip-{n:03d}", status=rng.choice(statuses), alerted=rng.random() < 0.5
                )
            case 1:
                await repo.update_clip(
                    f"clip-{n:03d}", risk_level=rng.choice([None, "low", "critical"])
                )
            case 2:
                await repo.upsert_clip(clip(n, camera=rng.choice(cameras), activity_type="animal"))
            case _:
                await repo.delete_clip(f"clip-{n:03d}")

    # When totals are asked for under each filter
    # Then they equal the clips that match (worked out here from the clips themselves) and
    # the count over a time range that holds every clip
    alive, _ = await repo.list_clips(ClipQuery(limit=1000))
    deleted, _ = await repo.list_clips(ClipQuery(status="deleted", limit=1000))
    every_clip = alive + deleted
    assert len(every_clip) == 60
    for query in [
        ClipQuery(),
        ClipQuery(status="deleted"),
        ClipQuery(camera="back"),
        ClipQuery(alerted=True),
        ClipQuery(alerted=False, camera="front"),
        ClipQuery(risk_level="low"),
        ClipQuery(risk_level="critical", status="done"),
        ClipQuery(activity_type="animal"),
        ClipQuery(activity_type="person", alerted=True),
    ]:
        expected = [
            c
            for c in every_clip
            if (c.status == query.status if query.status else c.status != "deleted")
            and query.camera in (None, c.camera)
            and query.alerted in (None, c.alerted)
            and query.risk_level in (None, c.risk_level)
            and query.activity_type in (None, c.activity_type)
        ]
        # limit=1 forces a count; since=T0 counts the clip rows rather than the tallies
        _, total = await repo.list_clips(dataclasses.replace(query, limit=1))
        _, counted = await repo.list_clips(dataclasses.replace(query, limit=1, since=T0))
        assert total == counted == len(expected), query


async def test_generation_changes_with_every_stored_write(repo: ClipRepository) -> None:
    """Read caches (the API's /clips answers) are valid while the generation stays put."""
    # Given a repository that has read but not written
    before = repo.generation
    await repo.list_clips(ClipQuery())
    assert repo.generation == before
    # When a clip, an update and an event are stored, Then each one moves the generation on
    seen = [before]
    await repo.upsert_clip(clip(1))
    seen.append(repo.generation)
    await repo.update_clip("clip-001", status="done")
    seen.append(repo.generation)
    await repo.add_event(ClipEventRecord(clip_id="clip-001", type="done"))
    seen.append(repo.generation)
    assert len(set(seen)) == 4


async def test_page_and_total_for_every_filter_shape(repo: ClipRepository) -> None:
    """Statements are reused per combination of filters: values must never leak between."""
    # Given clips on two cameras, some alerted
    for n in range(6):
        await repo.upsert_clip(clip(n, camera="front" if n % 2 else "back", alerted=n < 3))
    # When the same filter shape is asked with different values, Then each gets its own rows
    front, front_total = await repo.list_clips(ClipQuery(camera="front", limit=2))
    back, back_total = await repo.list_clips(ClipQuery(camera="back", limit=2))
    assert [c.id for c in front] == ["clip-005", "clip-003"] and front_total == 3
    assert [c.id for c in back] == ["clip-004", "clip-002"] and back_total == 3
    both, total = await repo.list_clips(ClipQuery(camera="front", alerted=True))
    assert [c.id for c in both] == ["clip-001"] and total == 1
    # And a page past the end still reports the total; a zero-size page counts only
    assert await repo.list_clips(ClipQuery(camera="back", offset=10, limit=2)) == ([], 3)
    assert await repo.list_clips(ClipQuery(limit=0)) == ([], 6)
