"""The detector's shared inference queue, on real footage with the shipped model: a camera whose
person is not yet confirmed goes before another camera's follow-up frames, whoever waited longer,
and before the frames of a finished clip being judged; a camera one look from confirming its
person goes before cameras that have seen nothing yet, for a bounded time; each camera says how
fast it is analysed and how long its frames wait."""

from __future__ import annotations

import os
import sys
import threading
import time
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("onnxruntime", reason="the detector runs on onnxruntime")

from homesec_engine.filters import DetectorFilter  # noqa: E402
from homesec_engine.filters.frames import SampledFrame  # noqa: E402
from homesec_engine.live.inference_queue import (  # noqa: E402
    CONFIRM_HEAD_START_S,
    FIRST_SIGHT,
    FOLLOW_UP,
    FOLLOW_UP_DEADLINE_S,
    InferenceQueue,
)
from homesec_engine.live.watch import LiveWatch  # noqa: E402
from homesec_engine.records import utcnow  # noqa: E402
from homesec_engine.zones import CameraZones  # noqa: E402
from tests.engine.live.test_live_watch_onset import (  # noqa: E402
    TRIGGERS,
    Sink,
    detector,  # noqa: F401  (fixture)
    people_frames,
    plaza,  # noqa: F401  (fixture)
)
from tests.livestream import PersonStream  # noqa: E402


def wait_for(condition: object, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition() and time.monotonic() < deadline:  # type: ignore[operator]
        time.sleep(0.05)


async def test_first_sight_goes_before_another_cameras_follow_ups(
    detector: DetectorFilter, plaza: PersonStream, tmp_path: Path  # noqa: F811
) -> None:
    frames = people_frames(plaza, 8)
    queue = InferenceQueue("test")
    busy_sink, quiet_sink = Sink(), Sink()
    zones = CameraZones([], TRIGGERS)
    busy = LiveWatch("driveway", detector, zones, 5.0, busy_sink, queue=queue, follow_fps=5.0)
    quiet = LiveWatch("porch", detector, zones, 5.0, quiet_sink, queue=queue)
    try:
        # Given a camera whose event has started: its person is confirmed and followed
        busy.begin("busy-clip", utcnow())
        for t, frame in frames[:4]:
            busy.offer("busy-clip", t, frame)
            wait_for(lambda: busy.frames_detected == busy.frames_offered)
        assert [c for c, _ in busy_sink.calls if c == "found"] == ["found"]

        # When, with the detector busy, that camera hands in a follow-up frame first and a
        # second camera then hands in the first frame of a person it has not confirmed yet
        quiet.begin("quiet-clip", utcnow())
        with queue.paused():
            assert busy.offer("busy-clip", frames[5][0], frames[5][1])
            assert quiet.offer("quiet-clip", frames[1][0], frames[1][1])
            # Then the second camera's first sight is served next, though it waited less
            chosen = queue.pick()
            assert chosen is not None and chosen[0] is quiet and chosen[2] == FIRST_SIGHT
            assert busy.head() is not None and busy.head()[0] == FOLLOW_UP  # type: ignore[index]

        # And both are served: the second camera's person is confirmed and reported too
        for t, frame in frames[2:6]:
            wait_for(lambda: quiet.head() is None)
            quiet.offer("quiet-clip", t, frame)
        wait_for(lambda: any(c == "found" for c, _ in quiet_sink.calls))
        assert any(c == "found" for c, _ in quiet_sink.calls)
        wait_for(lambda: busy.frames_detected == busy.frames_offered - busy.frames_replaced)

        # And each camera says how fast it was analysed and how long its frames waited
        stats = quiet.stats()
        assert stats["detected"] >= 2 and stats["rate_fps"] > 0 and stats["delay_s"] >= 0
        assert busy.stats()["detected"] == 5 and busy.stats()["saturated"] is False
    finally:
        busy.end("busy-clip", interrupted=False)
        quiet.end("quiet-clip", interrupted=False)
        busy.stop()
        quiet.stop()
        queue.stop()
    # And each clip's close was reported once its frames were done
    assert busy_sink.calls[-1] == ("closed", "busy-clip")
    assert quiet_sink.calls[-1] == ("closed", "quiet-clip")


async def test_a_first_sight_goes_before_the_frames_of_a_clip_being_judged(
    detector: DetectorFilter, plaza: PersonStream  # noqa: F811
) -> None:
    frames = people_frames(plaza, 4)
    queue = InferenceQueue("test")
    sink = Sink()
    watch = LiveWatch("porch", detector, CameraZones([], TRIGGERS), 5.0, sink, queue=queue)
    detector.clip_turn = queue.clip_turn  # as the runtime does once a camera detects live
    order: list[str] = []
    detect_frame = detector.detect_frame

    def recorded(frame: SampledFrame) -> list[Any]:
        live = threading.current_thread().name.startswith("homesec-inference")
        order.append("live" if live else "clip")
        return detect_frame(frame)

    detector.detect_frame = recorded  # type: ignore[method-assign]
    judged: list[Any] = []
    clip = threading.Thread(target=lambda: judged.append(detector.run_sync(plaza.path)))
    try:
        # Given a camera whose person appeared: its first-sight frame is waiting
        watch.begin("porch-clip", utcnow())
        with queue.paused():
            assert watch.offer("porch-clip", frames[0][0], frames[0][1])
            # When a finished clip of another camera starts being judged at the same moment
            clip.start()
        clip.join(timeout=120)
        wait_for(lambda: watch.frames_detected == 1)
        # Then the camera's first sight did not wait for the clip: it ran first, or beside the
        # clip's first frame (two inferences are in flight at once)
        assert "live" in order[:2], order
        assert order.count("clip") == judged[0].result.frames_sampled > 1, order
        # And the clip was still judged in full: the people in it were found
        assert "person" in {d.label for d in judged[0].result.detections}
    finally:
        watch.end("porch-clip", interrupted=False)
        watch.stop()
        queue.stop()


async def test_a_camera_one_look_from_its_event_goes_before_cameras_that_saw_nothing_yet(
    detector: DetectorFilter, plaza: PersonStream  # noqa: F811
) -> None:
    frames = people_frames(plaza, 3)
    queue = InferenceQueue("test")
    zones = CameraZones([], TRIGGERS)
    seen_sink, fresh_sink = Sink(), Sink()
    seen = LiveWatch("driveway", detector, zones, 5.0, seen_sink, queue=queue)
    fresh = LiveWatch("porch", detector, zones, 5.0, fresh_sink, queue=queue)
    try:
        # Given a camera that has looked once at people walking in (min_hits 2: not confirmed)
        seen.begin("seen-clip", utcnow())
        fresh.begin("fresh-clip", utcnow())
        assert seen.offer("seen-clip", frames[0][0], frames[0][1])
        wait_for(lambda: seen.frames_detected == 1)
        assert not [c for c, _ in seen_sink.calls if c == "found"]

        # When another camera hands in its first frame of people and only then the first
        # camera hands in its next one, both waiting for the busy detector
        with queue.paused():
            assert fresh.offer("fresh-clip", frames[0][0], frames[0][1])
            time.sleep(0.05)
            assert seen.offer("seen-clip", frames[1][0], frames[1][1])
            # Then the camera one look from its event is served first, though it waited less
            chosen = queue.pick()
            assert chosen is not None and chosen[0] is seen and chosen[2] == FIRST_SIGHT

        # And that look starts its event, and the other camera is served right after
        seen_sink.changed.wait(30)
        assert [c for c, _ in seen_sink.calls if c == "found"] == ["found"]
        wait_for(lambda: fresh.frames_detected == 1)
        assert fresh.frames_detected == 1
    finally:
        for watch, clip in ((seen, "seen-clip"), (fresh, "fresh-clip")):
            watch.end(clip, interrupted=False)
            watch.stop()
        queue.stop()


@pytest.mark.skipif(sys.platform != "linux", reason="per-thread priority is Linux's")
async def test_finished_clips_are_judged_below_live_detections_cpu_priority(
    detector: DetectorFilter, plaza: PersonStream  # noqa: F811
) -> None:
    frames = people_frames(plaza, 1)
    watch = LiveWatch("porch", detector, CameraZones([], TRIGGERS), 5.0, Sink())
    niceness: dict[str, int] = {}
    detect_frame = detector.detect_frame

    def recorded(frame: SampledFrame) -> list[Any]:
        where = "live" if threading.current_thread().name.startswith("homesec-inference") \
            else "clip"
        niceness[where] = os.getpriority(os.PRIO_PROCESS, threading.get_native_id())
        return detect_frame(frame)

    detector.detect_frame = recorded  # type: ignore[method-assign]
    try:
        # Given a camera detecting live while a finished clip of people is judged
        watch.begin("clip", utcnow())
        assert watch.offer("clip", frames[0][0], frames[0][1])
        judged = await detector.run(plaza.path)
        wait_for(lambda: watch.frames_detected == 1)
        # Then the clip was judged in full, at a lower CPU priority than the live look, so a
        # person appearing on a camera gets the cores before the backlog of finished clips
        assert "person" in judged.classes
        assert niceness["clip"] > niceness["live"], niceness
    finally:
        watch.end("clip", interrupted=False)
        watch.stop()


class _Waiting:
    """A member whose one first-sight frame has waited since `queued_at` (no worker runs)."""

    def __init__(self, camera: str, queued_at: float) -> None:
        self.camera = camera
        self.queued_at = queued_at

    def head(self) -> tuple[int, float] | None:
        return (FIRST_SIGHT, self.queued_at)

    def run_head(self, now: float, drop_stale: bool) -> None:
        raise AssertionError("no worker runs in this test")


async def test_the_head_start_is_bounded_a_camera_that_waited_longer_still_goes_first(
    detector: DetectorFilter, plaza: PersonStream  # noqa: F811
) -> None:
    frames = people_frames(plaza, 2)
    queue = InferenceQueue("test")
    seen = LiveWatch("driveway", detector, CameraZones([], TRIGGERS), 5.0, Sink(), queue=queue)
    try:
        # Given a camera one look from confirming its person
        seen.begin("seen-clip", utcnow())
        assert seen.offer("seen-clip", frames[0][0], frames[0][1])
        wait_for(lambda: seen.frames_detected == 1)
        with queue.paused():
            # When its next frame waits beside a camera whose first frame has waited longer
            # than the head start
            assert seen.offer("seen-clip", frames[1][0], frames[1][1])
            long_ago = time.monotonic() - CONFIRM_HEAD_START_S - 0.5
            queue.join(_Waiting("porch", long_ago))
            # Then that camera still goes first: nobody waits unboundedly
            chosen = queue.pick()
            assert chosen is not None and chosen[0].camera == "porch"
            queue.leave(chosen[0])
    finally:
        seen.end("seen-clip", interrupted=False)
        seen.stop()
        queue.stop()


class _OneFirstSight:
    """A member with one first-sight frame; running it records that it ran."""

    camera = "porch"

    def __init__(self) -> None:
        self.waiting = True
        self.ran = threading.Event()

    def head(self) -> tuple[int, float] | None:
        return (FIRST_SIGHT, time.monotonic()) if self.waiting else None

    def run_head(self, now: float, drop_stale: bool) -> None:
        self.waiting = False
        self.ran.set()


def test_clips_being_judged_never_take_every_inference_slot_from_live_detection() -> None:
    # Given a queue of two inferences in flight and two clips being judged at once (their
    # threads run at a low CPU priority, so a slot they hold may be held long)
    queue = InferenceQueue("test", workers=2)
    inside, most, lock = 0, 0, threading.Lock()
    release = threading.Event()

    def judge() -> None:
        nonlocal inside, most
        with queue.clip_turn():
            with lock:
                inside += 1
                most = max(most, inside)
            release.wait(10)
            with lock:
                inside -= 1

    clips = [threading.Thread(target=judge) for _ in range(2)]
    for clip in clips:
        clip.start()
    time.sleep(0.2)
    # When a camera's first sight arrives meanwhile
    live = _OneFirstSight()
    queue.join(live)
    queue.wake()
    # Then it runs at once, beside the one clip frame allowed in flight
    assert live.ran.wait(5)
    assert most == 1
    release.set()
    for clip in clips:
        clip.join(10)
    queue.leave(live)
    queue.stop()


class _EndlessFirstSights:
    """A member that always has a first sight due and never gets served (no worker runs)."""

    camera = "busy"

    def head(self) -> tuple[int, float] | None:
        return (FIRST_SIGHT, time.monotonic())

    def run_head(self, now: float, drop_stale: bool) -> None:
        raise AssertionError("no worker runs in this test")


def test_a_clip_is_still_judged_while_first_sights_never_stop() -> None:
    # Given a queue whose live side always has a first sight due
    queue = InferenceQueue("test")
    queue.join(_EndlessFirstSights())
    # When a clip's frame asks for its turn
    with queue.clip_turn():
        ran = True
    # Then it gets it after waiting its bounded time, and counts as having yielded
    assert ran and queue.clip_turns == queue.clip_turns_yielded == 1


async def test_a_follow_up_that_waited_past_the_deadline_is_dropped_and_shown(
    detector: DetectorFilter, plaza: PersonStream, tmp_path: Path  # noqa: F811
) -> None:
    frames = people_frames(plaza, 6)
    sink = Sink()
    watch = LiveWatch("driveway", detector, CameraZones([], TRIGGERS), 5.0, sink,
                      follow_fps=5.0)
    try:
        # Given a camera whose event has started
        watch.begin("clip", utcnow())
        for t, frame in frames[:4]:
            watch.offer("clip", t, frame)
            wait_for(lambda: watch.head() is None)
        wait_for(lambda: watch.frames_detected == watch.frames_offered - watch.frames_replaced)
        assert any(c == "found" for c, _ in sink.calls)
        assert watch.stats()["saturated"] is False
        detected = watch.stats()["detected"]

        # When a follow-up frame waits longer than the queue's deadline (the detector is busy)
        with watch.queue.paused():
            assert watch.offer("clip", frames[5][0], frames[5][1])
            time.sleep(FOLLOW_UP_DEADLINE_S + 0.2)
            # Then while it waits, the camera's delay shows the wait
            assert watch.stats()["delay_s"] > FOLLOW_UP_DEADLINE_S
        wait_for(lambda: watch.head() is None)

        # And it is dropped rather than detected late, and the camera says it is saturated
        stats = watch.stats()
        assert stats["detected"] == detected
        assert stats["follow_ups_stale"] == 1 and stats["dropped"] >= 1
        assert stats["saturated"] is True
    finally:
        watch.end("clip", interrupted=False)
        watch.stop()
