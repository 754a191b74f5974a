"""The detector's shared inference queue, on real footage with the shipped model: a camera whose
person is not yet confirmed goes before another camera's follow-up frames, whoever waited longer,
and each camera says how fast it is analysed and how long its frames wait."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

pytest.importorskip("onnxruntime", reason="the detector runs on onnxruntime")

from homesec_engine.filters import DetectorFilter  # noqa: E402
from homesec_engine.live.inference_queue import FIRST_SIGHT, FOLLOW_UP, InferenceQueue  # noqa: E402
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
            wait_for(lambda: busy.head() is None)
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
        wait_for(lambda: busy.head() is None)

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
