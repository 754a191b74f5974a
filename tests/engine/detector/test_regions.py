"""Looking where the subject is: regions around motion, at the model's own resolution.

A person 160 pixels tall in a 1080p frame shrinks to about 35 model pixels when the whole frame
is letterboxed into the 416-pixel model; the detector also looks at a crop around what moved.
Real photos (scikit-image's wheel, Debian's opencv-doc) made into 1080p camera clips.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("onnxruntime", reason="the detector runs on onnxruntime")
pytest.importorskip("skimage", reason="scikit-image's bundled photos are the test pictures")

from homesec_engine.filters import DetectorFilter  # noqa: E402
from homesec_engine.schema.validate import model_defaults  # noqa: E402
from homesec_engine.filters.detector.regions import (  # noqa: E402
    RegionPlanner,
    motion_boxes,
    plan_regions,
)
from tests import realdata  # noqa: E402

TRIGGERS = ["person", "vehicle", "animal"]


@pytest.fixture
async def detector() -> DetectorFilter:
    # The schema's defaults (regions on, frames decoded up to 1920 wide).
    detector = DetectorFilter({**model_defaults("FilterConfig"), "trigger_classes": TRIGGERS})
    await detector.start()
    return detector


def test_motion_is_boxed_where_it_happens_and_not_for_a_change_of_the_whole_view() -> None:
    # Given a grass scene with sensor noise, a patch of brick that moved, and the same scene
    # brighter all over (a cloud passing)
    rng = np.random.default_rng(1)
    scene = realdata.fit_width(realdata.skimage_photo("grass.png"), 1280)
    noisy = np.clip(scene + rng.normal(0, 3, scene.shape), 0, 255).astype(np.uint8)
    moved = noisy.copy()
    moved[300:420, 600:680] = realdata.skimage_photo("brick.png")[:120, :80]
    brighter = np.clip(scene * 1.3, 0, 255).astype(np.uint8)
    # When motion is looked for
    boxes = motion_boxes(scene, moved)
    # Then one box covers the patch, and sensor noise or a global change give none
    assert len(boxes) == 1
    x, y, w, h = boxes[0]
    assert x <= 600 and y <= 300 and x + w >= 680 and y + h >= 420 and w * h < 6 * 120 * 80
    assert motion_boxes(scene, noisy) == []
    assert motion_boxes(scene, brighter) == []


def test_regions_are_model_sized_inside_the_frame_and_merged() -> None:
    # Given two small boxes close together and one far away in a 1920x1080 frame
    boxes = [(100.0, 100.0, 40.0, 90.0), (180.0, 120.0, 40.0, 90.0), (1700.0, 900.0, 30.0, 60.0)]
    # When regions are planned for a 416x416 model, at most two
    regions = plan_regions(boxes, 1920, 1080, 416, 416, limit=2)
    # Then the close boxes share one crop, each crop is at least the model's size (never
    # upscaled) and lies inside the frame
    assert len(regions) == 2
    for x, y, w, h in regions:
        assert w >= 416 and h >= 416 and x >= 0 and y >= 0 and x + w <= 1920 and y + h <= 1080
    assert sum(1 for x, y, w, h in regions if x <= 100 and x + w >= 220) == 1
    # And a box over most of the frame is left to the whole-frame pass
    assert plan_regions([(0.0, 0.0, 1800.0, 1000.0)], 1920, 1080, 416, 416) == []


def test_a_frame_at_the_models_size_needs_no_region() -> None:
    # Given a planner for a 416 model and two frames 416 wide with motion between them
    planner = RegionPlanner(416, 416)
    first = np.zeros((312, 416, 3), np.uint8)
    second = first.copy()
    second[100:200, 100:150] = 255
    # When regions are asked for
    planner.regions(first)
    # Then none: the whole-frame pass already sees the frame 1:1
    assert planner.regions(second) == []


@pytest.mark.parametrize("height", [160, 40])
@pytest.mark.parametrize("photo", ["astronaut.png", "camera.png"])
async def test_a_distant_person_walking_in_1080p_is_found(
    detector: DetectorFilter, tmp_path: Path, photo: str, height: int
) -> None:
    # Given a 1080p clip of a person 160 or only 40 px tall walking across a wide empty lane
    # (40 px: under 10 model pixels in the whole frame letterboxed to 416)
    lane = realdata.opencv_photo("leuvenA.jpg")
    frames = realdata.small_in_scene(realdata.skimage_photo(photo), lane, 30, height=height)
    clip = realdata.write_clip(tmp_path / "far.mp4", frames)
    # When the clip is filtered with the defaults
    out = await detector.run(clip)
    # Then the person is reported, with a small box inside the frame
    assert "person" in out.classes
    person = next(d for d in out.result.detections if d.label == "person")
    assert person.box is not None and person.box[3] < 0.2
    assert 0 <= person.box[0] <= 1 and 0 <= person.box[1] <= 1


async def test_something_that_is_no_subject_moving_in_a_wide_scene_raises_nothing(
    detector: DetectorFilter, tmp_path: Path
) -> None:
    # Given a 1080p clip of an empty lane where a patch of brick wall moves (a swinging gate)
    lane = realdata.opencv_photo("leuvenA.jpg")
    frames = realdata.small_in_scene(realdata.skimage_photo("brick.png"), lane, 30, height=160)
    clip = realdata.write_clip(tmp_path / "gate.mp4", frames)
    # When the clip is filtered with the defaults
    out = await detector.run(clip)
    # Then no trigger class is reported
    assert not set(out.classes) & set(TRIGGERS)
