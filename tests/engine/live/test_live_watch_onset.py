"""Live detection from motion onset, on real footage with the shipped model: what is confirmed
before the clip opens is reported the moment it opens, and never when the motion run ends
unconfirmed (no clip, so no event)."""

from __future__ import annotations

import threading
import time
from datetime import datetime
from pathlib import Path
from typing import Any

import av
import pytest

pytest.importorskip("onnxruntime", reason="the detector runs on onnxruntime")

from homesec_engine.filters import DetectorFilter  # noqa: E402
from homesec_engine.live.watch import Found, LiveWatch  # noqa: E402
from homesec_engine.records import utcnow  # noqa: E402
from homesec_engine.zones import CameraZones  # noqa: E402
from tests.livestream import PersonStream, person_stream  # noqa: E402

TRIGGERS = ["person", "vehicle", "animal", "package"]


class Sink:
    """Records what the watch reports, in order."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, Any]] = []
        self.changed = threading.Event()

    def recording(self, clip_id: str, started_at: datetime) -> None:
        self.calls.append(("recording", clip_id))

    def found(self, camera: str, found: Found) -> None:
        self.calls.append(("found", found))
        self.changed.set()

    def closed(self, camera: str, clip_id: str, interrupted: bool) -> None:
        self.calls.append(("closed", clip_id))


@pytest.fixture(scope="module")
def plaza(tmp_path_factory: pytest.TempPathFactory) -> PersonStream:
    return person_stream(tmp_path_factory.mktemp("plaza"))


@pytest.fixture
async def detector() -> DetectorFilter:
    detector = DetectorFilter({"trigger_classes": TRIGGERS, "min_confidence": 0.5,
                               "min_hits": 2, "min_box_size": 0.02, "sample_fps": 2.0})
    await detector.start()
    assert detector.status()["status"] == "ok", detector.status()
    return detector


def people_frames(stream: PersonStream, count: int) -> list[tuple[float, Any]]:
    """Decoded frames (stream time, av.VideoFrame) from the people's first one, 0.2 s apart."""
    out: list[tuple[float, Any]] = []
    with av.open(str(stream.path)) as container:
        video = container.streams.video[0]
        for frame in container.decode(video):
            t = float(frame.pts * video.time_base)
            if t >= stream.person_at_s + 0.2 * len(out):
                out.append((t, frame))
                if len(out) == count:
                    break
    return out


def offer_all(watch: LiveWatch, clip_id: str, frames: list[tuple[float, Any]]) -> None:
    for t, frame in frames:
        watch.offer(clip_id, t, frame)
        time.sleep(0.4)  # one frame at a time: the watch keeps only the newest waiting


async def test_people_seen_before_the_clip_opens_are_reported_when_it_opens(
    detector: DetectorFilter, plaza: PersonStream, tmp_path: Path
) -> None:
    # Given a live watch started at motion onset, on frames with people walking in
    sink = Sink()
    watch = LiveWatch("plaza", detector, CameraZones([], TRIGGERS), 5.0, sink)
    watch.watch("clip-1")
    try:
        offer_all(watch, "clip-1", people_frames(plaza, 5))
        # Then nothing is reported while the motion is not confirmed (no clip yet)
        assert sink.calls == []
        # When the motion is confirmed and the clip opens
        watch.begin("clip-1", utcnow())
        # Then the recording and the person confirmed meanwhile are reported at once, in order
        kinds = [kind for kind, _ in sink.calls]
        assert kinds[0] == "recording" and kinds[1:] and set(kinds[1:]) == {"found"}
        found = sink.calls[1][1]
        assert found.clip_id == "clip-1" and "person" in found.classes
    finally:
        watch.stop()


async def test_people_seen_in_motion_that_never_confirms_raise_nothing(
    detector: DetectorFilter, plaza: PersonStream, tmp_path: Path
) -> None:
    # Given a live watch started at motion onset that detected people
    sink = Sink()
    watch = LiveWatch("plaza", detector, CameraZones([], TRIGGERS), 5.0, sink)
    watch.watch("clip-2")
    try:
        offer_all(watch, "clip-2", people_frames(plaza, 5))
        # When the motion run ends unconfirmed (no clip opens) and later frames still arrive
        watch.discard("clip-2")
        offer_all(watch, "clip-2", people_frames(plaza, 2))
        # Then nothing at all is reported for it
        assert sink.calls == []
    finally:
        watch.stop()
