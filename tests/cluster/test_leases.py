"""Leases in a real PostgreSQL database, driven beat by beat (no engine process): engines
with other versions refuse to hold cameras and say why; an engine that was paused past its
lease is fenced off by the newer holder's token, in its renewals and in its clip writes."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from homesec_engine.alerts.event import CameraEvent
from homesec_engine.alerts.owner import CameraEvents
from homesec_engine.cluster import ClusterCoordinator, ClusterSettings
from homesec_engine.cluster.settings import camera_digest
from homesec_engine.records import ClipEventRecord, ClipRecord, ClipStatus, utcnow
from homesec_engine.events import EventHub, Subscription
from homesec_engine.notifiers.fanout import NotifierFanout
from homesec_engine.policy import AlertPolicyEngine
from homesec_engine.state import ClipRepository
from homesec_engine.storage.local import LocalStorage
from homesec_engine.state.db import create_engine, normalize_url
from tests.services import pg_url

CAMS = ["back", "front", "side"]


class Cameras:
    """What the coordinator starts and stops: the cameras one engine records now."""

    def __init__(self) -> None:
        self.running: set[str] = set()

    async def start(self, name: str) -> bool:
        self.running.add(name)
        return True

    async def stop(self, name: str) -> bool:
        self.running.discard(name)
        return True


Factory = Callable[..., tuple[ClusterCoordinator, Cameras]]


@pytest.fixture
async def coordinators(cluster_db: str) -> AsyncIterator[Factory]:
    made: list[ClusterCoordinator] = []

    def make(engine_id: str, *, schema_version: int = 5, config_version: int = 1,
             lease_s: float = 30.0, cameras: list[str] = CAMS,
             end_left_open: Any = None) -> tuple[ClusterCoordinator, Cameras]:
        settings = ClusterSettings(
            engine_id=engine_id, capacity=16, lease_s=lease_s, heartbeat_s=lease_s / 4,
            advertise_url=f"http://{engine_id}:8080", config_version=config_version,
            config_digest=camera_digest([{"name": c} for c in cameras]))
        recorder = Cameras()
        url = normalize_url(pg_url(cluster_db))
        coordinator = ClusterCoordinator(settings, create_engine(url), schema_version=schema_version,
                                         cameras=lambda: list(cameras),
                                         start_camera=recorder.start, stop_camera=recorder.stop,
                                         end_left_open=end_left_open)
        made.append(coordinator)
        return coordinator, recorder

    yield make
    for coordinator in made:
        await coordinator.close()


async def _beats(*coordinators: ClusterCoordinator, rounds: int = 3) -> None:
    for _ in range(rounds):
        for coordinator in coordinators:
            await coordinator.beat()


@pytest.mark.parametrize(("older", "newer", "reason"), [
    ({"config_version": 1}, {"config_version": 2},
     "config_version 1 differs from engine b's 2"),
    ({"schema_version": 4}, {"schema_version": 5},
     "database schema version 4 differs from engine b's 5"),
])
async def test_engine_with_other_versions_refuses_to_hold_cameras(
        coordinators: Factory, older: dict[str, Any], newer: dict[str, Any],
        reason: str) -> None:
    # Given two engines of one installation, one with an older config or schema
    a, a_cams = coordinators("a", **older)
    await a.store.create_tables()
    b, b_cams = coordinators("b", **newer)
    # When they beat
    await _beats(a, b)
    # Then the older one holds nothing and says why; the newer one holds every camera
    status = a.status()
    assert status["state"] == "refused"
    assert reason in status["reason"]
    assert a_cams.running == set() and status["cameras_held"] == []
    assert b_cams.running == set(CAMS)


async def test_engines_with_other_cameras_refuse(coordinators: Factory) -> None:
    # Given two engines at the same versions that disagree on the enabled cameras
    a, a_cams = coordinators("a", cameras=["front"])
    await a.store.create_tables()
    b, b_cams = coordinators("b")
    await _beats(a, b)
    # Then only one of them holds cameras, and the other says why
    refused = [c.status() for c in (a, b) if c.status()["state"] == "refused"]
    assert len(refused) == 1
    assert "enabled cameras differ" in refused[0]["reason"]
    assert not (a_cams.running and b_cams.running)


async def test_paused_engine_is_fenced_off_by_the_newer_token(coordinators: Factory) -> None:
    # Given engine a holding every camera on short leases
    a, a_cams = coordinators("a", lease_s=2.0)
    await a.store.create_tables()
    await a.beat()
    assert a_cams.running == set(CAMS)
    first = a.status()["fencing"]

    # When a is paused past its leases and b takes the cameras over
    await asyncio.sleep(2.2)
    b, b_cams = coordinators("b", lease_s=2.0)
    await b.beat()
    assert b_cams.running == set(CAMS)
    # Then b's fencing tokens are higher than a's
    assert all(b.status()["fencing"][c] > first[c] for c in CAMS)

    # When a wakes up: its own clock tells it at once that it no longer holds them
    await a.expire_overdue()
    assert a_cams.running == set()
    # And its next renewal changes nothing in the database: b still holds every lease
    await a.beat()
    leases = {lease.camera: lease for lease in await a.store.leases()}
    assert {lease.engine_id for lease in leases.values()} == {"b"}
    assert all(lease.live for lease in leases.values())


async def test_leaving_engine_hands_its_cameras_over_at_once(coordinators: Factory) -> None:
    # Given two engines sharing three cameras on long leases (30 s)
    a, a_cams = coordinators("a")
    await a.store.create_tables()
    b, b_cams = coordinators("b")
    await _beats(a, b)
    assert a_cams.running | b_cams.running == set(CAMS)
    assert not a_cams.running & b_cams.running
    # When a stops cleanly
    await a.close()
    # Then b takes its cameras on its next beat, without waiting for the leases to run out
    await b.beat()
    assert b_cams.running == set(CAMS)


async def test_paused_engine_cannot_write_clips_as_the_holder(
        coordinators: Factory, cluster_db: str, tmp_path: Path) -> None:
    # Given engine a holding every camera on short leases, writing clips through its
    # repository (the outbox kept beside it, as an engine does)
    repo_a = await _holder_writing(coordinators, cluster_db, tmp_path)
    repo_b = ClipRepository(pg_url(cluster_db), tmp_path / "b-outbox")
    try:
        recorded_while_holding = _clip("front", "held")
        await repo_a.upsert_clip(recorded_while_holding)

        # When a is paused past its leases and b takes the cameras over
        await asyncio.sleep(2.2)
        b, b_cams = coordinators("b", lease_s=2.0)
        await b.beat()
        assert "front" in b_cams.running
        repo_b.fence = b.fence
        await repo_b.start()
        await asyncio.sleep(0.05)  # the clips below start after b's take, on any clock

        # And a wakes up and writes a clip it recorded since, as if it still held the camera
        woke = _clip("front", "woke")
        await repo_a.upsert_clip(woke)
        await repo_a.update_clip(woke.id, status=ClipStatus.DONE.value,
                                 storage_uri="local://woke.mp4")
        await repo_a.add_event(ClipEventRecord(clip_id=woke.id, type="uploaded", data={}))
        # While b records the camera as its holder
        by_b = _clip("front", "b")
        await repo_b.upsert_clip(by_b)

        # Then a's clip is refused in the database, with every later write to it
        assert await repo_b.get_clip(woke.id) is None
        assert (await repo_b.list_events(woke.id))[1] == 0
        # And b's clip and the clip a recorded while it held the camera are both kept
        assert await repo_b.get_clip(by_b.id) is not None
        assert await repo_b.get_clip(recorded_while_holding.id) is not None

        # When a clip a recorded before b's take reaches the database only now (kept in
        # a's outbox through an outage, say)
        late = _clip("front", "late", started=recorded_while_holding.created_at)
        await repo_a.upsert_clip(late)
        # Then it is written: a clip recorded under a lease is never lost
        assert await repo_b.get_clip(late.id) is not None
    finally:
        await repo_a.close()
        await repo_b.close()


async def _holder_writing(coordinators: Factory, cluster_db: str,
                          tmp_path: Path) -> ClipRepository:
    """Engine a holding every camera on short leases (2 s), and its repository writing under
    its fencing tokens (started; the caller closes it)."""
    a, _a_cams = coordinators("a", lease_s=2.0)
    await a.store.create_tables()
    await a.beat()
    repo_a = ClipRepository(pg_url(cluster_db), tmp_path / "a-outbox")
    repo_a.fence = a.fence
    await repo_a.start()
    return repo_a


async def _event_owner(repository: ClipRepository, tmp_path: Path) -> CameraEvents:
    """An engine's owner of camera events over `repository` (started; the caller closes it)."""
    events = CameraEvents(repository=repository, hub=EventHub(), fanout=NotifierFanout([]),
                          policy=lambda: AlertPolicyEngine({}),
                          storage=LocalStorage({"path": str(tmp_path / "clips")}),
                          last_alerts={})
    await events.start()
    return events


def _clip(camera: str, name: str, started: datetime | None = None) -> ClipRecord:
    return ClipRecord(id=f"20261207T000000-{name}", camera=camera,
                      status=ClipStatus.QUEUED_LOCAL, created_at=started or utcnow(),
                      duration_s=1.0)


def _open_event(camera: str, name: str, started: datetime) -> ClipRecord:
    """A clip with its live event open, as an engine's event owner writes it at first sight."""
    clip_id = f"20261207T000000-{name}"
    event = CameraEvent(clip_id=clip_id, camera=camera, started_at=started,
                        snapshot_url=f"/api/v1/clips/{clip_id}/snapshot",
                        view_url=f"/api/v1/clips/{clip_id}/media",
                        detected_objects=["person"], tier="detection")
    return ClipRecord(id=clip_id, camera=camera, status=ClipStatus.QUEUED_LOCAL,
                      created_at=started, detected_objects=["person"], event=event.stored(),
                      event_state=event.state)


async def _ended_messages(sub: Subscription) -> dict[str, dict[str, Any]]:
    """{clip id: message} of the `ended` event messages published so far."""
    out = {}
    while not sub.queue.empty():
        message = await sub.get()
        if message["type"] == "event" and message["data"]["phase"] == "ended":
            out[message["data"]["clip_id"]] = message["data"]
    return out


async def test_new_holder_ends_the_events_a_paused_engine_left_open(
        coordinators: Factory, cluster_db: str, tmp_path: Path) -> None:
    # Given engine a holding every camera on short leases, with a live event open on front
    # (its row written through a's repository, under a's fencing token)
    repo_a = await _holder_writing(coordinators, cluster_db, tmp_path)
    repo_b = ClipRepository(pg_url(cluster_db), tmp_path / "b-outbox")
    await repo_b.start()
    events_b = await _event_owner(repo_b, tmp_path)
    hub = events_b.hub
    try:
        recording_started = utcnow()
        left_open = _open_event("front", "left-open", recording_started)
        await repo_a.upsert_clip(left_open)

        # When a is paused past its leases and b takes the cameras over
        await asyncio.sleep(2.2)
        b, b_cams = coordinators("b", lease_s=2.0, end_left_open=events_b.end_left_open)
        repo_b.fence = b.fence
        with hub.subscribe() as sub:
            await b.beat()
            assert b_cams.running == set(CAMS)
            # Then b ends the event a left open (holder_lost), stored and pushed like any end
            clip = await repo_b.get_clip(left_open.id)
            assert clip is not None and clip.event_state == "ended"
            assert clip.event is not None and clip.event["end_reason"] == "holder_lost"
            pushed = await _ended_messages(sub)
            assert pushed[left_open.id]["end_reason"] == "holder_lost"

            # When a wakes up and writes an event for the recording it was making when it
            # was paused (it started before b's take, so the fence lets the row in)
            late = _open_event("front", "woke-late", recording_started)
            await repo_a.upsert_clip(late)
            assert (await repo_b.get_clip(late.id)).event_state == "active"  # type: ignore[union-attr]
            # Then b's next beat ends that one too, pushed once; the first is not pushed again
            await b.beat()
            clip = await repo_b.get_clip(late.id)
            assert clip is not None and clip.event_state == "ended"
            assert clip.event is not None and clip.event["end_reason"] == "holder_lost"
            assert set(await _ended_messages(sub)) == {late.id}
    finally:
        await events_b.close()
        await repo_a.close()
        await repo_b.close()


async def test_events_of_a_camera_given_up_cleanly_are_left_to_their_engine(
        coordinators: Factory, cluster_db: str, tmp_path: Path) -> None:
    # Given engine a holding every camera, with a live event open on front
    a, _a_cams = coordinators("a")
    await a.store.create_tables()
    await a.beat()
    repo = ClipRepository(pg_url(cluster_db), tmp_path / "outbox")
    await repo.start()
    events_b = await _event_owner(repo, tmp_path)
    try:
        still_judged = _open_event("front", "being-judged", utcnow())
        await repo.upsert_clip(still_judged)
        # When a stops cleanly (it gives its leases up, then finishes its last clips) and b
        # takes the cameras
        await a.close()
        b, b_cams = coordinators("b", end_left_open=events_b.end_left_open)
        await _beats(b, rounds=2)
        assert b_cams.running == set(CAMS)
        # Then b leaves the event open: its engine ends it once the clip is judged
        clip = await repo.get_clip(still_judged.id)
        assert clip is not None and clip.event_state == "active"
    finally:
        await events_b.close()
        await repo.close()
