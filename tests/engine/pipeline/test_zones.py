"""Zones through the real pipeline (real video, the builtin filter, SQLite state), and the
pure zone logic on detections built directly."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import av
import numpy as np

from homesec_engine.records import ClipFile, Detection
from homesec_engine.snapshots import BOX_COLOUR
from homesec_engine.zones import CameraZones, point_in_polygon, summarize_objects

from .conftest import PipelineRig, Scene

# A person-shaped subject walking along the path: its feet at 80 % of the picture's height.
PERSON = Scene(subject=(36, 90))
PATH = {"name": "path", "points": [[0, 0.6], [1, 0.6], [1, 1], [0, 1]], "classes": []}
SKY = {"name": "sky", "points": [[0, 0], [1, 0], [1, 0.4], [0, 0.4]], "classes": []}
TRIGGERS = ["person", "vehicle", "animal", "package"]


def clip_in(rig: PipelineRig, video: Path, camera: str) -> ClipFile:
    path = rig.work_dir / f"{camera}-{video.name}"
    shutil.copy(video, path)
    ended = datetime.now(UTC)
    return ClipFile(camera, path, ended - timedelta(seconds=4), ended)


async def test_a_person_inside_a_zone_alerts_and_names_the_zone(
    pipeline_rig: Callable[..., Any], make_video: Callable[..., Path]
) -> None:
    # Given a camera whose "path" zone covers where the person walks (and a "sky" zone that
    # does not)
    rig = await pipeline_rig(camera_zones={"gate": [SKY, PATH]})
    clip = clip_in(rig, make_video(PERSON), "gate")
    with rig.events.subscribe() as sub:
        # When the clip goes through the pipeline
        out = await rig.pipeline.process(clip)
        message = await sub.get()
    # Then it alerts, and the alert says where and what: one person in the path zone
    assert out.decision is not None and out.decision.alert
    data = message["data"]
    assert data["zones"] == ["path"]
    assert [(o["class"], o["count"]) for o in data["objects"]] == [("person", 1)]
    person = data["objects"][0]
    assert 0.5 <= person["confidence"] <= 1.0
    x, y, w, h = person["boxes"][0]
    assert 0.6 <= y + h <= 1.0  # the box's foot lies in the zone
    # And the clip's record keeps the same per-object results and zones
    record = await rig.repository.get_clip(out.clip_id)
    assert record.zones == ["path"] and record.objects == data["objects"]
    assert rig.last_alerts["gate"]["zones"] == ["path"]


async def test_a_person_outside_every_zone_does_not_alert(
    pipeline_rig: Callable[..., Any], make_video: Callable[..., Path]
) -> None:
    # Given a camera whose only zone is the sky, away from the person's feet
    rig = await pipeline_rig(camera_zones={"gate": [SKY]})
    clip = clip_in(rig, make_video(PERSON), "gate")
    with rig.events.subscribe() as sub:
        # When the clip with the person goes through the pipeline
        out = await rig.pipeline.process(clip)
        # Then no alert goes out: the filter saw the person, but outside the zones
        assert sub.queue.empty()
    assert out.decision is not None and not out.decision.alert
    assert out.decision.reason == "no trigger class detected"
    assert out.alert is None and "gate" not in rig.last_alerts
    record = await rig.repository.get_clip(out.clip_id)
    assert record.detected_objects == ["person"]
    assert record.objects == [] and record.zones == [] and not record.alerted


async def test_a_zone_only_alerts_for_its_own_classes(
    pipeline_rig: Callable[..., Any], make_video: Callable[..., Path]
) -> None:
    # Given a driveway zone under the person's feet that only takes vehicles
    driveway = {**PATH, "name": "driveway", "classes": ["vehicle"]}
    rig = await pipeline_rig(camera_zones={"gate": [driveway]})
    # When a person walks through it
    out = await rig.pipeline.process(clip_in(rig, make_video(PERSON), "gate"))
    # Then nothing alerts
    assert out.decision is not None and not out.decision.alert
    assert out.objects == []


async def test_a_zone_tier_rule_makes_a_person_there_a_detection_and_elsewhere_an_alert(
    pipeline_rig: Callable[..., Any], make_video: Callable[..., Path]
) -> None:
    # Given the person walking along the path zone, where the alert policy's zone rule alerts
    # on nothing (the pavement in front of a house: recorded, not notified)
    policy = {"cameras": {"gate": {"zones": {"path": {"alert_classes": []}}}}}
    rig = await pipeline_rig(camera_zones={"gate": [SKY, PATH]}, policy=policy)
    with rig.events.subscribe() as sub:
        # When the clip goes through the pipeline
        out = await rig.pipeline.process(clip_in(rig, make_video(PERSON), "gate"))
        # Then no alert goes out: it is a detection, and the decision says by which rule
        assert sub.queue.empty()
    assert out.decision is not None and out.decision.tier == "detection"
    assert "zone path alert_classes: none" in out.decision.reason
    record = await rig.repository.get_clip(out.clip_id)
    assert record.zones == ["path"] and not record.alerted and "gate" not in rig.last_alerts
    # And with a rule that takes people on the path, the same clip alerts, tier alert
    other = await pipeline_rig(camera_zones={"gate": [SKY, PATH]}, policy={
        "cameras": {"gate": {"zones": {"path": {"alert_classes": ["person"]}}}}})
    with other.events.subscribe() as sub:
        alerted = await other.pipeline.process(clip_in(other, make_video(PERSON), "gate"))
        message = await sub.get()
    assert alerted.decision is not None and alerted.decision.tier == "alert"
    assert message["type"] == "alert" and message["data"]["tier"] == "alert"
    assert message["data"]["zones"] == ["path"]


async def test_a_camera_without_zones_alerts_on_the_whole_picture(
    pipeline_rig: Callable[..., Any], make_video: Callable[..., Path]
) -> None:
    # Given zones on another camera only
    rig = await pipeline_rig(camera_zones={"other": [SKY]})
    # When the person walks past the gate camera
    out = await rig.pipeline.process(clip_in(rig, make_video(PERSON), "gate"))
    # Then it alerts, with the person counted and no zone named
    assert out.alert is not None
    assert out.alert.zones == [] and [o["class"] for o in out.alert.objects] == ["person"]


async def test_the_snapshot_is_full_size_with_the_box_drawn(
    pipeline_rig: Callable[..., Any], make_video: Callable[..., Path]
) -> None:
    # Given a 640x480 clip of a person (the filter itself looks at 320-pixel frames)
    scene = Scene(size=(640, 480), subject=(72, 180))
    rig = await pipeline_rig()
    # When it goes through the pipeline
    out = await rig.pipeline.process(clip_in(rig, make_video(scene), "gate"))
    # Then the stored snapshot has the clip's own size...
    snapshot = rig.storage.resolve(f"local://{out.clip_id}.jpg")
    with av.open(str(snapshot)) as container:
        picture = next(container.decode(video=0)).to_ndarray(format="rgb24")
    assert picture.shape == (480, 640, 3)
    # ...and shows the person's box outlined and labelled in the box colour
    x, y, w, h = out.objects[0]["boxes"][0]
    frame = picture.astype(np.int16)
    near = np.abs(frame - np.array(BOX_COLOUR)).max(axis=2) < 60
    left = round(x * 640)
    column = near[round(y * 480) + 10 : round((y + h) * 480) - 10, max(0, left - 3) : left + 4]
    assert column.any(axis=1).mean() > 0.8  # the box's left edge runs down the person
    label_rows = near[max(0, round(y * 480) - 20) : round(y * 480) + 2, left : left + 60]
    assert label_rows.mean() > 0.3  # the label's filled background above the box


def test_the_foot_point_decides_zone_membership() -> None:
    # Given a doorstep zone on the lower half of the picture's left side, for people only
    zones = CameraZones([{"name": "doorstep", "points": [[0, 0.5], [0.5, 0.5], [0.5, 1],
                                                          [0, 1]], "classes": ["person"]}],
                        TRIGGERS)
    # When a person stands with their feet on the doorstep but their head above it
    standing = Detection("person", 0.9, 0, (0.1, 0.2, 0.2, 0.5))
    # Then they count in the zone; a person whose feet are above it does not
    assert zones.zones_of(standing) == ["doorstep"]
    assert not zones.counts(Detection("person", 0.9, 0, (0.1, 0.0, 0.2, 0.4)))
    # And a car on the doorstep does not count (the zone takes people only)
    assert not zones.counts(Detection("vehicle", 0.9, 0, (0.1, 0.6, 0.2, 0.3)))
    # And a zone without classes takes every trigger class, but not `object`
    open_zone = CameraZones([{"name": "all", "points": [[0, 0], [1, 0], [1, 1], [0, 1]],
                              "classes": []}], TRIGGERS)
    assert open_zone.counts(Detection("vehicle", 0.9, 0, (0.1, 0.6, 0.2, 0.3)))
    assert not open_zone.counts(Detection("object", 0.9, 0, (0.1, 0.6, 0.2, 0.3)))


def test_point_in_a_concave_polygon() -> None:
    # Given an L-shaped zone, When points in its arms and in its notch are tested
    ell = [[0, 0], [0.4, 0], [0.4, 0.6], [1, 0.6], [1, 1], [0, 1]]
    # Then the arms are inside and the notch is not
    assert point_in_polygon((0.2, 0.3), ell)
    assert point_in_polygon((0.8, 0.8), ell)
    assert not point_in_polygon((0.8, 0.3), ell)


def test_objects_count_what_is_seen_together_not_frames() -> None:
    # Given one person seen in three frames and two cars seen together in one frame
    detections = [
        Detection("person", 0.7, 0, (0.1, 0.1, 0.1, 0.3)),
        Detection("person", 0.9, 1, (0.2, 0.1, 0.1, 0.3)),
        Detection("person", 0.8, 2, (0.3, 0.1, 0.1, 0.3)),
        Detection("vehicle", 0.6, 1, (0.5, 0.5, 0.2, 0.1)),
        Detection("vehicle", 0.65, 1, (0.7, 0.5, 0.2, 0.1)),
    ]
    # When they are summarised
    objects = summarize_objects(detections)
    # Then there is one person (best confidence 0.9) and two vehicles with both boxes
    assert [(o["class"], o["count"], o["confidence"]) for o in objects] == [
        ("person", 1, 0.9), ("vehicle", 2, 0.65)]
    assert objects[1]["boxes"] == [[0.7, 0.5, 0.2, 0.1], [0.5, 0.5, 0.2, 0.1]]
