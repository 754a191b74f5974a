"""Live events on a real RTSP stream of real footage: started while people are seen, ended with
the clip's judgement, interrupted by a lost stream, and ended after a kill at the next start."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml

from homesec_engine.config import ConfigManager
from homesec_engine.events import Subscription
from homesec_engine.records import ClipRecord, utcnow
from homesec_engine.runtime import EngineRuntime
from tests.livestream import PersonStream, person_stream
from tests.videotools import RtspTestServer


@pytest.fixture(autouse=True)
def _tcp_sockets(request: pytest.FixtureRequest) -> None:
    """pytest-homeassistant-custom-component blocks sockets; these tests use loopback TCP."""
    try:
        request.getfixturevalue("socket_enabled")
    except pytest.FixtureLookupError:
        pass


@pytest.fixture(scope="module")
def plaza(tmp_path_factory: pytest.TempPathFactory) -> PersonStream:
    return person_stream(tmp_path_factory.mktemp("plaza"))


def engine_config(tmp: Path, url: str | None) -> ConfigManager:
    cameras = [] if url is None else [{
        "name": "plaza", "enabled": True, "source_backend": "rtsp",
        "source_config": {"url": url, "pre_roll_s": 1, "post_roll_s": 2, "min_motion_s": 0.3,
                          "live_fps": 5},
    }]
    config = {
        "storage": {"backend": "local", "path": str(tmp / "clips")},
        "state": {"url": f"sqlite:///{tmp / 'homesec.db'}", "outbox_path": str(tmp / "outbox")},
        "cameras": cameras,
    }
    path = tmp / "homesec.yaml"
    path.write_text(yaml.safe_dump(config))
    return ConfigManager([path], tmp / "overrides.yaml")


async def next_message(live: Subscription, wanted: Any, timeout: float = 60.0,
                       seen: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    async with asyncio.timeout(timeout):
        while True:
            message = await live.get()
            if seen is not None:
                seen.append(message)
            if wanted(message):
                return message


def phase(name: str) -> Any:
    return lambda m: m["type"] == "event" and m["data"]["phase"] == name


async def test_an_event_starts_while_people_are_seen_and_ends_with_the_clip_judgement(
    tmp_path: Path, plaza: PersonStream
) -> None:
    # Given an RTSP camera streaming the empty plaza, into which people walk
    manager = engine_config(tmp_path, None)
    with RtspTestServer(plaza.path) as server:
        manager = engine_config(tmp_path, server.url)
        await manager.load()
        runtime = EngineRuntime(manager)
        seen: list[dict[str, Any]] = []
        with runtime.events.subscribe() as live:
            # When the engine watches the stream
            await runtime.start()
            try:
                started = await next_message(live, phase("started"), seen=seen)
                ended = await next_message(live, phase("ended"), seen=seen)
                clip_id = started["data"]["clip_id"]
                events, _ = await runtime.repository.list_events(clip_id)
                clip = await runtime.repository.get_clip(clip_id)
            finally:
                await runtime.stop()
    # Then the event started while the clip was recorded, with a person, a snapshot link
    event = started["data"]
    assert event["camera"] == "plaza" and "person" in event["detected_objects"]
    assert event["state"] == "active" and event["summary"] is None
    assert event["snapshot_url"] == f"/api/v1/clips/{clip_id}/snapshot"
    # And it ended, for the same clip, with the clip's duration, link and judgement
    done = ended["data"]
    assert done["clip_id"] == clip_id and done["state"] == "ended"
    assert done["end_reason"] == "clip_closed"
    assert done["duration_s"] > plaza.person_s / 2
    assert done["summary"] and done["view_url"] == f"/api/v1/clips/{clip_id}/media"
    # And exactly one alert went out for it, sent at the start (before the event ended)
    alerts = [m for m in seen if m["type"] == "alert" and m["data"]["clip_id"] == clip_id]
    assert len(alerts) == 1
    assert seen.index(alerts[0]) < seen.index(ended)
    # And the event is kept with the clip: its state, its history, the alert flag
    assert clip is not None and clip.alerted and clip.event_state == "ended"
    assert clip.event is not None and clip.event["summary"] == done["summary"]
    kinds = [e.type for e in events]
    assert kinds.index("event_started") < kinds.index("event_ended")
    assert (tmp_path / "clips" / f"{clip_id}.jpg").is_file()


async def test_a_lost_stream_interrupts_the_event(tmp_path: Path, plaza: PersonStream) -> None:
    # Given an event that started on the plaza stream
    with RtspTestServer(plaza.path) as server:
        manager = engine_config(tmp_path, server.url)
        await manager.load()
        runtime = EngineRuntime(manager)
        with runtime.events.subscribe() as live:
            await runtime.start()
            try:
                started = await next_message(live, phase("started"))
                # When the camera drops off the network while the people are still there
                server.stop()
                interrupted = await next_message(live, phase("interrupted"))
                clip_id = started["data"]["clip_id"]
                await asyncio.sleep(0)
            finally:
                await runtime.stop()
            listed = await _listed(tmp_path)
    # Then the event is over, ended by the lost stream
    assert interrupted["data"]["clip_id"] == clip_id
    assert interrupted["data"]["state"] == "interrupted"
    assert interrupted["data"]["end_reason"] == "stream_lost"
    assert interrupted["data"]["ended_at"] is not None
    # And the stored event stays interrupted after the cut-off clip was judged
    assert listed[clip_id]["state"] == "interrupted"


async def _listed(tmp: Path) -> dict[str, dict[str, Any]]:
    manager = engine_config(tmp, None)
    await manager.load()
    runtime = EngineRuntime(manager)
    await runtime.start(run_sources=False)
    try:
        return {c.id: dict(c.event or {}) for c in await runtime.repository.list_live_events()}
    finally:
        await runtime.stop()


async def test_an_event_left_open_by_a_kill_is_ended_at_the_next_start(tmp_path: Path) -> None:
    # Given a database holding an event that was active when the engine was killed
    manager = engine_config(tmp_path, None)
    await manager.load()
    first = EngineRuntime(manager)
    await first.start(run_sources=False)
    event = {"clip_id": "killed-1", "camera": "plaza", "state": "active",
             "started_at": "2026-01-02T03:04:05Z", "ended_at": None, "duration_s": None,
             "detected_objects": ["person"], "zones": [], "objects": [], "activity_type": "person",
             "risk_level": "medium", "summary": None, "alerted": True,
             "snapshot_url": "/api/v1/clips/killed-1/snapshot",
             "view_url": "/api/v1/clips/killed-1/media", "end_reason": None}
    await first.repository.upsert_clip(ClipRecord(
        id="killed-1", camera="plaza", created_at=utcnow(), event=event, event_state="active"))
    # (written behind the engine's back: the engine that wrote it is gone, nothing ended it)
    await first.stop()
    # When the engine starts again
    again = EngineRuntime(engine_config(tmp_path, None))
    await again.config_manager.load()
    with again.events.subscribe() as live:
        await again.start(run_sources=False)
        try:
            ended = await next_message(live, phase("ended"), timeout=10)
            clip = await again.repository.get_clip("killed-1")
        finally:
            await again.stop()
    # Then the event is ended (pushed once, stored), marked as ended by the restart
    assert ended["data"]["clip_id"] == "killed-1"
    assert ended["data"]["end_reason"] == "engine_restart"
    assert clip is not None and clip.event_state == "ended"


class _Sink:
    """Collects what a live watch reports (the LiveSink protocol)."""

    def __init__(self) -> None:
        self.recorded: list[str] = []
        self.found_classes: list[list[str]] = []
        self.closed_clips: list[tuple[str, bool]] = []

    def recording(self, clip_id: str, started_at: Any) -> None:
        self.recorded.append(clip_id)

    def found(self, camera: str, found: Any) -> None:
        self.found_classes.append(found.classes)

    def closed(self, camera: str, clip_id: str, interrupted: bool) -> None:
        self.closed_clips.append((clip_id, interrupted))


async def test_a_detector_failing_on_live_frames_never_stops_recording(
    tmp_path: Path, plaza: PersonStream, caplog: pytest.LogCaptureFixture
) -> None:
    # Given an RTSP camera whose live detector cannot run (its model was never loaded)
    from homesec_engine.filters.detector.backend import DetectorFilter
    from homesec_engine.live.watch import LiveWatch
    from homesec_engine.sources.rtsp import RtspSource
    from homesec_engine.zones import CameraZones

    broken = DetectorFilter({"trigger_classes": ["person"]})
    sink = _Sink()
    clips: list[Any] = []
    done = asyncio.Event()

    async def on_clip(clip: Any) -> None:
        clips.append(clip)
        done.set()

    async def on_health(camera: str, healthy: bool) -> None:
        return None

    with RtspTestServer(plaza.path) as server:
        source = RtspSource("plaza", {"url": server.url, "pre_roll_s": 1, "post_roll_s": 2,
                                      "min_motion_s": 0.3}, tmp_path / "work")
        source.set_live(LiveWatch("plaza", broken, CameraZones((), ["person"]), 5.0, sink))
        # When people walk in and leave again
        await source.start(on_clip, on_health)
        try:
            async with asyncio.timeout(60):
                await done.wait()
        finally:
            await source.stop()
    # Then the clip was recorded and handed on as usual, under the id its event would have
    clip = clips[0]
    assert clip.path.is_file() and clip.duration_s > plaza.person_s / 2
    assert clip.clip_id is not None and clip.clip_id in sink.recorded
    # And nothing was confirmed live, and the watch still closed the clip normally
    assert sink.found_classes == []
    assert (clip.clip_id, False) in sink.closed_clips
    # And the failure was told once for the clip, naming it
    failures = [r for r in caplog.records if "live detection failed" in r.getMessage()]
    assert len(failures) == 1 and clip.clip_id in failures[0].getMessage()


async def test_a_new_class_updates_the_event_and_the_clip_judgement_raises_its_risk(
    tmp_path: Path
) -> None:
    # Given a running engine and the live detector confirming a vehicle on a recording
    import numpy as np

    from homesec_engine.live.watch import Found
    from homesec_engine.pipeline import ClipOutcome
    from homesec_engine.records import AlertDecision, Analysis, ClipFile

    manager = engine_config(tmp_path, None)
    await manager.load()
    runtime = EngineRuntime(manager)
    frame = np.zeros((48, 64, 3), dtype=np.uint8)
    seen: list[dict[str, Any]] = []
    with runtime.events.subscribe() as live:
        await runtime.start(run_sources=False)
        try:
            assert runtime.live is not None
            runtime.live.recording("rec-1", utcnow())
            runtime.live.found("drive", Found("rec-1", ["vehicle"], ["vehicle"], [], [], [], frame))
            started = await next_message(live, phase("started"), timeout=10, seen=seen)
            # When a person is confirmed too, and the clip is then judged as an intrusion
            runtime.live.found("drive", Found("rec-1", ["person", "vehicle"], ["person", "vehicle"], [], [], [], frame))
            updated = await next_message(live, phase("updated"), timeout=10, seen=seen)
            out = ClipOutcome(clip_id="rec-1", camera="drive",
                              analysis=Analysis("intrusion", "high", "Someone climbs the gate."),
                              decision=AlertDecision(alert=True, reason="intrusion at risk high",
                                                     risk_level="high",
                                                     activity_type="intrusion"))
            now = utcnow()
            await runtime.live.judged(out, ClipFile("drive", tmp_path / "x.mp4",
                                                    now - timedelta(seconds=12), now))
            ended = await next_message(live, phase("ended"), timeout=10, seen=seen)
        finally:
            await runtime.stop()
    # Then the event started with the vehicle at the risk known then, and alerted once then
    assert started["data"]["detected_objects"] == ["vehicle"] and started["data"]["risk_level"] == "low"
    alerts = [m for m in seen if m["type"] == "alert" and m["data"]["clip_id"] == "rec-1"]
    # And the person updated it (the policy had already alerted: no second alert)
    assert updated["data"]["detected_objects"] == ["person", "vehicle"]
    assert updated["data"]["risk_level"] == "medium"
    assert len(alerts) == 1
    # And its end carries the judgement: summary, a risk raised to high, the clip's length
    assert ended["data"]["summary"] == "Someone climbs the gate."
    assert ended["data"]["risk_level"] == "high"
    assert ended["data"]["duration_s"] == 12.0
