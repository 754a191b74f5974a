"""Frame-difference motion detection (pure functions on numpy frames)."""

from __future__ import annotations

import numpy as np

from homesec_engine.sources.motion import MotionDetector, downscale_gray, thresholds_for

FPS = 10


def scene(rng: np.random.Generator, obj_x: int | None, noise: float = 3.0) -> np.ndarray:
    """A 120x160 grey scene with sensor noise and, optionally, a bright 20x40 object at obj_x."""
    img = np.full((120, 160), 90.0) + rng.normal(0, noise, (120, 160))
    if obj_x is not None:
        img[40:80, obj_x : obj_x + 20] = 220
    return np.clip(img, 0, 255).astype(np.uint8)


def feed(detector: MotionDetector, frames: list[np.ndarray]) -> list:
    return [detector.update(f, i / FPS) for i, f in enumerate(frames)]


def test_noisy_still_scene_is_not_motion() -> None:
    # Given 5 s of a still scene with sensor noise, When fed at the most sensitive setting
    rng = np.random.default_rng(1)
    updates = feed(MotionDetector(sensitivity=1.0, min_motion_s=0.3), [scene(rng, None) for _ in range(50)])
    # Then no frame counts as motion
    assert not any(u.moving or u.confirmed for u in updates)


def test_moving_object_is_confirmed_after_min_motion_and_reports_its_start() -> None:
    # Given 1 s still, then an object moving for 2 s, then still again
    rng = np.random.default_rng(2)
    frames = [scene(rng, None) for _ in range(10)]
    frames += [scene(rng, 5 + 6 * i) for i in range(20)]
    frames += [scene(rng, None) for _ in range(20)]
    updates = feed(MotionDetector(sensitivity=0.5, min_motion_s=0.5), frames)
    confirmed = [i for i, u in enumerate(updates) if u.confirmed]
    # Then motion is confirmed once it has lasted 0.5 s, dating back to when it began
    assert confirmed[0] == 15
    assert updates[15].run_start == 1.0
    # And the last motion is when the object left; later frames are quiet
    assert updates[-1].last_motion == 3.0 and not updates[-1].confirmed


def test_blip_shorter_than_min_motion_is_ignored() -> None:
    # Given a still scene where something flashes for two frames
    rng = np.random.default_rng(3)
    frames = [scene(rng, None) for _ in range(10)] + [scene(rng, 60)] * 2
    frames += [scene(rng, None) for _ in range(15)]
    updates = feed(MotionDetector(sensitivity=0.9, min_motion_s=0.5), frames)
    # Then frames changed, but no motion was confirmed
    assert any(u.moving for u in updates)
    assert not any(u.confirmed for u in updates)


def test_higher_sensitivity_catches_smaller_changes() -> None:
    # Given a small, faint object appearing in a still scene
    rng = np.random.default_rng(4)
    still = scene(rng, None, noise=0)
    faint = still.copy()
    faint[50:60, 50:60] = 115  # 100 pixels, +25 grey levels
    outcomes = {}
    for sensitivity in (0.1, 0.9):
        detector = MotionDetector(sensitivity=sensitivity, min_motion_s=0)
        detector.update(still, 0.0)
        outcomes[sensitivity] = detector.update(faint, 0.1).moving
    # Then only the sensitive setting reports it
    assert outcomes == {0.1: False, 0.9: True}
    low, high = thresholds_for(0.1), thresholds_for(0.9)
    assert high.pixel_delta < low.pixel_delta and high.area_fraction < low.area_fraction


def test_downscale_keeps_aspect_and_targets_the_analysis_width() -> None:
    # Given a 1080p luma plane, When reduced for analysis at width 320
    small = downscale_gray(np.zeros((1080, 1920), dtype=np.uint8), 320)
    # Then it is 320 wide with the same aspect ratio, and contiguous for fast differencing
    assert small.shape == (180, 320) and small.flags.c_contiguous


# -- motion masks ------------------------------------------------------------------------------

# The bright object of scene() sits in rows 40..80 of 120 (a third to two thirds of the height).
BAND = [[0, 0.3], [1, 0.3], [1, 0.7], [0, 0.7]]


def swaying(rng: np.random.Generator, i: int) -> np.ndarray:
    """scene() with a "tree" in the top-left corner whose leaves change every frame."""
    img = scene(rng, None)
    img[0:30, 0:40] = rng.integers(0, 255, (30, 40), dtype=np.uint8)
    return img


def test_a_masked_tree_does_not_count_as_motion() -> None:
    # Given a scene whose top-left corner sways every frame (a tree in the wind)
    rng = np.random.default_rng(7)
    frames = [swaying(rng, i) for i in range(30)]
    # When it is watched without a mask, Then the tree alone is confirmed motion
    assert any(u.confirmed for u in feed(MotionDetector(0.5, 0.3), frames))
    # When the tree is masked, Then nothing moves
    tree = [[0, 0], [0.3, 0], [0.3, 0.3], [0, 0.3]]
    masked = MotionDetector(0.5, 0.3, masks=[tree])
    assert not any(u.moving or u.confirmed for u in feed(masked, frames))


def test_motion_outside_a_mask_is_still_seen() -> None:
    # Given the masked tree, and a person walking through the rest of the picture
    rng = np.random.default_rng(8)
    frames = [swaying(rng, i) for i in range(10)]
    frames += [np.where(scene(rng, 45 + 5 * i) == 220, 220, swaying(rng, i)).astype(np.uint8)
               for i in range(15)]
    masked = MotionDetector(0.5, 0.3, masks=[[[0, 0], [0.3, 0], [0.3, 0.3], [0, 0.3]]])
    updates = feed(masked, frames)
    # Then the still part with the tree is quiet and the walk is confirmed motion
    assert not any(u.moving for u in updates[:10])
    assert any(u.confirmed for u in updates[10:])


def test_a_mask_over_the_moving_object_hides_it() -> None:
    # Given an object crossing the middle band of the picture
    rng = np.random.default_rng(9)
    frames = [scene(rng, None) for _ in range(10)] + [scene(rng, 5 + 6 * i) for i in range(20)]
    # When that band is masked (a timestamp overlay would be such a band)
    updates = feed(MotionDetector(0.5, 0.3, masks=[BAND]), frames)
    # Then the crossing is not motion
    assert not any(u.confirmed for u in updates)
