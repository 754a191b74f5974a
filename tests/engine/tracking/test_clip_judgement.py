"""A clip's judgement from all its tracks, through the real pipeline with the shipped model on
real footage: people crossing a plaza where vehicles are parked make a `person` clip (the
parked vehicles are reported as stationary, never alerted on); a parked vehicle alone alerts
nothing; a vehicle that drives in alerts as a vehicle.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("onnxruntime", reason="the detector runs on onnxruntime")
pytest.importorskip("skimage", reason="scikit-image's bundled photos are the test pictures")

from homesec_engine.filters import DetectorFilter  # noqa: E402
from homesec_engine.schema.validate import model_defaults  # noqa: E402
from homesec_engine.records import ClipFile  # noqa: E402
from tests import realdata  # noqa: E402

TRIGGERS = ["person", "vehicle", "animal", "package"]


@pytest.fixture(scope="module")
def detector() -> Iterator[DetectorFilter]:
    # The defaults a fresh install gets (the schema's FilterConfig defaults).
    detector = DetectorFilter({**model_defaults("FilterConfig"), "trigger_classes": TRIGGERS})
    asyncio.run(detector.start())
    yield detector


async def _judge(pipeline_rig: Callable[..., Any], detector: DetectorFilter, clip_path: Path,
                 ) -> tuple[Any, Any, list[dict[str, Any]]]:
    rig = await pipeline_rig()
    rig.pipeline.filter = detector
    rig.pipeline.filter_for = lambda camera: detector
    now = datetime.now(UTC)
    clip = ClipFile("plaza", clip_path, now - timedelta(seconds=10), now)
    with rig.events.subscribe() as sub:
        out = await rig.pipeline.process(clip)
        alerts = []
        while not sub.queue.empty():
            alerts.append((await sub.get())["data"])
    record = await rig.repository.get_clip(out.clip_id)
    return out, record, alerts


async def test_people_crossing_a_plaza_with_parked_vehicles_make_a_person_clip(
    pipeline_rig: Callable[..., Any], detector: DetectorFilter, tmp_path: Path,
) -> None:
    # Given 10 s of the real plaza: a van and a car parked at its top right (the detector
    # sees them from the first frame), people walking across
    frames = list(realdata.video_frames(realdata.opencv_samples() / "vtest.avi"))[:100]
    path = realdata.write_clip(tmp_path / "plaza.mp4", frames, fps=10)
    # When the clip goes through the pipeline
    out, record, alerts = await _judge(pipeline_rig, detector, path)
    # Then it is a person clip, alerted as one
    assert record.activity_type == "person" and record.alerted
    assert [a["activity_type"] for a in alerts] == ["person"]
    # ... which counts the people that moved and reports the parked vehicles as stationary
    objects = {o["class"]: o for o in record.objects}
    assert objects["person"]["count"] >= 3
    assert objects["vehicle"]["count"] == 0 and objects["vehicle"]["stationary"] == 2
    assert "vehicle" in record.detected_objects  # present, but not what happened
    # ... and its picture is the best look of a person, not the van
    assert out.filtered.best_detection is not None
    assert out.filtered.best_detection.label == "person"


async def test_an_empty_scene_with_a_parked_vehicle_alerts_nothing(
    pipeline_rig: Callable[..., Any], detector: DetectorFilter, tmp_path: Path,
) -> None:
    # Given 10 s of an empty yard with a motorcycle parked in it all along (sensor noise)
    frames = realdata.arrival_clip(realdata.skimage_photo("gravel.png"),
                                   realdata.skimage_photo("motorcycle_left.png"), 100,
                                   arrive_frames=0)
    path = realdata.write_clip(tmp_path / "parked.mp4", frames, fps=10)
    # When the clip goes through the pipeline
    out, record, alerts = await _judge(pipeline_rig, detector, path)
    # Then nothing alerts: the vehicle is recorded as stationary, not as an activity
    assert not alerts and not record.alerted
    assert out.decision is not None and out.decision.reason == "no trigger class detected"
    assert [(o["class"], o["count"], o["stationary"]) for o in record.objects] == \
        [("vehicle", 0, 1)]


async def test_a_vehicle_that_drives_in_alerts_as_a_vehicle(
    pipeline_rig: Callable[..., Any], detector: DetectorFilter, tmp_path: Path,
) -> None:
    # Given 10 s of the same yard: the motorcycle comes in from the left over 3 s and stays
    frames = realdata.arrival_clip(realdata.skimage_photo("gravel.png"),
                                   realdata.skimage_photo("motorcycle_left.png"), 100,
                                   arrive_frames=30)
    path = realdata.write_clip(tmp_path / "arrives.mp4", frames, fps=10)
    # When the clip goes through the pipeline
    _out, record, alerts = await _judge(pipeline_rig, detector, path)
    # Then it alerts as a vehicle that moved
    assert [a["activity_type"] for a in alerts] == ["vehicle"]
    assert [(o["class"], o["count"], o["stationary"]) for o in record.objects] == \
        [("vehicle", 1, 0)]
