"""The shipped CenterNet on real photos and real video: subjects found, empty scenes silent.

Pictures and video come from tests/realdata.py (scikit-image's bundled photos, Debian's
opencv-doc samples); clips are encoded with PyAV and filtered the way the pipeline does.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("onnxruntime", reason="the detector runs on onnxruntime")
pytest.importorskip("skimage", reason="scikit-image's bundled photos are the test pictures")

from homesec_engine.filters import DetectorFilter  # noqa: E402
from homesec_engine.schema.validate import model_defaults  # noqa: E402
from tests import realdata  # noqa: E402

TRIGGERS = ["person", "vehicle", "animal", "package"]


@pytest.fixture
async def detector() -> DetectorFilter:
    # The defaults a fresh install gets (the schema's FilterConfig defaults).
    detector = DetectorFilter({**model_defaults("FilterConfig"), "trigger_classes": TRIGGERS})
    await detector.start()
    assert detector.status()["status"] == "ok", detector.status()
    return detector


@pytest.mark.parametrize(("photo", "label"), [
    ("astronaut.png", "person"), ("camera.png", "person"), ("chelsea.png", "animal"),
    ("motorcycle_left.png", "vehicle"),
])
async def test_the_shipped_model_finds_the_subject_of_real_photos(
    detector: DetectorFilter, photo: str, label: str
) -> None:
    # Given a real photo of a person, a cat or a motorcycle
    image = realdata.skimage_photo(photo)
    # When the detector looks at it
    found = detector.detect(image)
    # Then its subject is found as the HomeSec class, with a box over a good part of the frame
    best = max((d for d in found if d.label == label), key=lambda d: d.confidence)
    assert best.box is not None and best.box[2] * best.box[3] > 0.2


async def test_small_birds_in_the_sky_are_animals_and_the_building_nothing(
    detector: DetectorFilter,
) -> None:
    # Given a real photo of a palace with birds flying in the sky, each under 40 px across
    image = realdata.opencv_photo("home.jpg")
    # When the detector looks at it
    found = detector.detect(image)
    # Then several birds are found as animals, high in the picture (the sky), and nothing on it
    # is taken for a person or a vehicle
    birds = [d for d in found if d.label == "animal"]
    assert len(birds) >= 3
    assert all(d.box is not None and d.box[1] < 0.5 and d.box[2] < 0.1 for d in birds)
    assert not {d.label for d in found} & {"person", "vehicle"}


def _iou(a: tuple[float, ...], b: tuple[float, ...]) -> float:
    ix = max(0.0, min(a[0] + a[2], b[0] + b[2]) - max(a[0], b[0]))
    iy = max(0.0, min(a[1] + a[3], b[1] + b[3]) - max(a[1], b[1]))
    inter = ix * iy
    return inter / (a[2] * a[3] + b[2] * b[3] - inter)


async def test_a_wide_camera_is_looked_at_without_the_square_padding_and_finds_the_same_people(
    detector: DetectorFilter,
) -> None:
    # Given a 16:9 camera picture of Debian's real pedestrian video (the plaza cut to 16:9)
    samples = realdata.opencv_samples()
    frame = next(iter(realdata.video_frames(samples / "vtest.avi", width=768)))
    wide = frame[: frame.shape[1] * 9 // 16]  # 768 x 432
    model = detector.model
    assert model is not None and model.flexible
    # When the detector looks at it
    canvas = model.canvas_size(wide.shape[1], wide.shape[0])
    found = [d for d in detector.detect(wide) if d.confidence >= 0.5]
    # Then the model is fed a picture of the camera's shape, not a padded square
    assert canvas == (416, 256)
    # And it finds the people a square canvas finds, in the same places
    detector.model = dataclasses.replace(model, flexible=False)
    square = [d for d in detector.detect(wide) if d.confidence >= 0.5]
    detector.model = model
    assert len(square) >= 3 and abs(len(found) - len(square)) <= 1
    matched = [d for d in square
               if any(f.label == d.label and _iou(f.box, d.box) > 0.7 for f in found)]  # type: ignore[arg-type]
    assert len(matched) >= len(square) - 1


@pytest.mark.parametrize("seed", [1, 2, 3])
async def test_a_motorcycle_at_night_is_found_in_a_dark_noisy_greyscale_clip(
    detector: DetectorFilter, tmp_path: Path, seed: int
) -> None:
    # Given a clip of a real photo of a motorcycle as an infrared camera shows it at night:
    # greyscale, about a third of the light, heavy sensor noise (three noise patterns; without
    # brightening dark pictures the shipped model finds it in none of these three)
    image = realdata.fit_width(realdata.skimage_photo("motorcycle_left.png"), 640)
    clip = realdata.write_clip(tmp_path / "night.mp4", realdata.night(image, 20, seed=seed))
    # When the detector judges it as the pipeline does (dark pictures brightened first)
    output = await detector.run(clip)
    # Then the motorcycle is found as a vehicle
    assert "vehicle" in {d.label for d in output.result.detections}, output.result.detections


async def test_someone_already_standing_in_view_for_the_whole_clip_is_found(
    detector: DetectorFilter, tmp_path: Path
) -> None:
    # Given a clip of a still scene with a person in it from the first frame (sensor noise)
    clip = realdata.write_clip(tmp_path / "standing.mp4",
                               realdata.still_clip(realdata.skimage_photo("astronaut.png"), 30))
    # When the clip is filtered
    out = await detector.run(clip)
    # Then a person is reported (confirmed over two sampled frames), as one track, which
    # counts although the person stood still (people are never stationary by default)
    assert out.classes == ["person"]
    assert out.tracks is not None and [t.label for t in out.tracks.moved()] == ["person"]
    assert out.best_detection is not None and out.best_detection.label == "person"


async def test_pedestrians_in_real_video_are_found(
    detector: DetectorFilter, tmp_path: Path
) -> None:
    # Given four seconds of Debian's real pedestrian video (a plaza, people walking)
    samples = realdata.opencv_samples()
    frames = list(realdata.video_frames(samples / "vtest.avi"))[:40]
    clip = realdata.write_clip(tmp_path / "plaza.mp4", frames, fps=10)
    # When the clip is filtered
    out = await detector.run(clip)
    # Then people are found with boxes inside the frame
    assert "person" in out.classes
    person = next(d for d in out.result.detections if d.label == "person")
    assert person.box is not None
    assert all(0.0 <= v <= 1.0 for v in person.box)


@pytest.mark.parametrize("scene", [
    "coffee-noise", "brick-shake", "grass-ramp", "gravel-still", "night-noise", "floor-shake",
    "tree-in-wind",
])
async def test_empty_scenes_textures_and_lighting_changes_stay_silent(
    detector: DetectorFilter, tmp_path: Path, scene: str
) -> None:
    # Given a clip with nobody in it: a still table, textures, a lighting ramp, night noise,
    # two books on a floor seen by a shaking camera, or a real tree in wind
    if scene == "coffee-noise":
        frames = realdata.still_clip(realdata.skimage_photo("coffee.png"), 30, noise=6)
    elif scene == "brick-shake":
        frames = realdata.camera_shake(realdata.skimage_photo("brick.png"), 30)
    elif scene == "grass-ramp":
        frames = realdata.lighting_ramp(realdata.skimage_photo("grass.png"), 30)
    elif scene == "gravel-still":
        frames = realdata.still_clip(realdata.skimage_photo("gravel.png"), 30)
    elif scene == "night-noise":
        frames = realdata.noise_frames(640, 360, 30)
    elif scene == "floor-shake":
        frames = realdata.camera_shake(realdata.opencv_photo("left.jpg"), 30)
    else:
        frames = list(realdata.video_frames(realdata.opencv_samples() / "tree.avi"))[:60]
    clip = realdata.write_clip(tmp_path / f"{scene}.mp4", frames, fps=10)
    # When the clip is filtered
    out = await detector.run(clip)
    # Then no trigger class is reported
    assert not set(out.classes) & set(TRIGGERS), out.result.detections
    assert out.result.frames_sampled >= 3


async def test_a_one_frame_flicker_is_not_confirmed(
    detector: DetectorFilter, tmp_path: Path
) -> None:
    # Given an empty lane where a person shows in one sampled frame only (a reflection, a
    # glitch): frames 0-4 and 6-9 empty, frame 5 (2 fps sampling at 10 fps: sampled) a person
    room = realdata.opencv_photo("leuvenA.jpg")
    person = realdata.skimage_photo("astronaut.png")
    canvas = room.copy()
    canvas[:, :] = np.asarray(
        person[np.linspace(0, 511, room.shape[0]).astype(int)][
            :, np.linspace(0, 511, room.shape[1]).astype(int)])
    frames = realdata.still_clip(room, 40)
    frames[20] = canvas[: frames[0].shape[0], : frames[0].shape[1]]
    clip = realdata.write_clip(tmp_path / "flicker.mp4", frames, fps=10)
    # When the clip is filtered with min_hits 2
    out = await detector.run(clip)
    # Then the single frame is not enough for an alert
    assert "person" not in out.classes
