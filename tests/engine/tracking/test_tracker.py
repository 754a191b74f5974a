"""The tracker on real footage with the shipped detector: parked vehicles in a plaza stay
stationary while people crossing it are active tracks; a motorcycle that drives in is active,
then goes quiet once it has parked; a parked vehicle on an empty scene never becomes active.

Footage: Debian's opencv-doc pedestrian video (a real plaza with two parked vehicles at its top
right) and scikit-image's photos (a real motorcycle brought onto a real gravel surface).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

import numpy as np
import pytest

pytest.importorskip("onnxruntime", reason="the detector runs on onnxruntime")
pytest.importorskip("skimage", reason="scikit-image's bundled photos are the test pictures")

from homesec_engine.filters import DetectorFilter  # noqa: E402
from homesec_engine.records import Detection  # noqa: E402
from homesec_engine.schema.validate import SchemaValidationError, model_defaults  # noqa: E402
from homesec_engine.tracking import Tracker, TrackerSettings, TrackUpdate  # noqa: E402
from tests import realdata  # noqa: E402

TRIGGERS = ["person", "vehicle", "animal", "package"]
STEP_S = 0.5  # frames are looked at twice a second, as the clip filter's default sample_fps


@pytest.fixture(scope="module")
def detector() -> Iterator[DetectorFilter]:
    import asyncio

    # The defaults a fresh install gets (the schema's FilterConfig defaults).
    detector = DetectorFilter({**model_defaults("FilterConfig"), "trigger_classes": TRIGGERS})
    asyncio.run(detector.start())
    assert detector.status()["status"] == "ok", detector.status()
    yield detector


@pytest.fixture(scope="module")
def plaza(detector: DetectorFilter) -> list[list[Detection]]:
    """30 s of the real plaza (every 5th frame of the 10 fps video: 2 looks a second)."""
    frames = realdata.video_frames(realdata.opencv_samples() / "vtest.avi", every=5)
    return [detector.detect(rgb, i) for i, rgb in zip(range(60), frames, strict=False)]


def _feed(tracker: Tracker, looks: Sequence[Sequence[Detection]], step: float = STEP_S
          ) -> list[TrackUpdate]:
    return [tracker.update(found, i * step) for i, found in enumerate(looks)]


def _settings(**tracking: object) -> TrackerSettings:
    return TrackerSettings.from_config(tracking, min_hits=2)


def test_parked_vehicles_in_a_plaza_stay_stationary_while_people_crossing_are_active(
    plaza: list[list[Detection]],
) -> None:
    # Given the real plaza: two vehicles parked at the top right, people walking across
    tracker = Tracker(_settings())
    # When the tracker follows 30 s of it
    updates = _feed(tracker, plaza)
    # Then no vehicle is ever active: they were there from the start and never moved
    assert all(t.label != "vehicle" for u in updates for t in u.active)
    parked = [t for t in tracker.tracks if t.label == "vehicle"]
    assert len(parked) == 2 and all(t.stationary and not t.ever_moved for t in parked)
    # ... and the same two tracks hold all along (no new vehicle track on a missed frame)
    assert {t.id for u in updates for t in u.tracks if t.label == "vehicle"} == \
        {t.id for t in parked}
    # ... while people are active tracks, several at once, each with a path across the frame
    assert max(sum(t.label == "person" for t in u.active) for u in updates) >= 4
    walkers = [t for u in updates for t in u.tracks if t.label == "person" and t.ever_moved]
    longest = max(walkers, key=lambda t: len(t.path))
    xs, ys = [p[1] for p in longest.path], [p[2] for p in longest.path]
    assert max(max(xs) - min(xs), max(ys) - min(ys)) > 0.1
    # ... and each track keeps a best look, with the time it was seen
    assert all(t.best is not None and t.first_seen <= t.best_time <= t.last_seen
               for t in tracker.tracks)


def test_parked_vehicles_first_made_out_mid_watch_never_become_active(
    plaza: list[list[Detection]],
) -> None:
    # Given the real plaza, but its parked vehicles made out only from the 7th second on (a
    # passer-by hid them until then, or the detector only then scored them high enough)
    late = [[d for d in found if d.label != "vehicle"] if i < 14 else found
            for i, found in enumerate(plaza)]
    assert any(d.label == "vehicle" for d in late[14])
    tracker = Tracker(_settings())
    # When the tracker follows it
    updates = _feed(tracker, late)
    # Then the vehicles are followed, stationary, and never active: they did not drive in
    assert any(t.label == "vehicle" for t in tracker.tracks)
    assert all(t.stationary for t in tracker.tracks if t.label == "vehicle")
    assert not any(t.label == "vehicle" for u in updates for t in u.became_active)
    # ... while the people walking are active as before
    assert any(t.label == "person" for u in updates for t in u.became_active)


def test_people_keep_their_tracks_at_a_lower_detection_rate(
    plaza: list[list[Detection]],
) -> None:
    # Given the same plaza looked at twice a second, and once a second
    fast, slow = Tracker(_settings()), Tracker(_settings(max_missing_s=3.0))
    # When each follows 30 s of it
    fast_ids = {t.id for u in _feed(fast, plaza) for t in u.tracks if t.label == "person"}
    slow_ids = {t.id for u in _feed(slow, plaza[::2], step=2 * STEP_S) for t in u.tracks
                if t.label == "person"}
    # Then half the looks do not split people into many more tracks (each walker is followed)
    assert len(slow_ids) <= 1.5 * len(fast_ids)
    # ... and the parked vehicles are still the only vehicle tracks, still stationary
    assert sorted(t.stationary for t in slow.tracks if t.label == "vehicle") == [True, True]


def _arrival(detector: DetectorFilter, arrive_frames: int, frames: int) -> list[list[Detection]]:
    clip = realdata.arrival_clip(realdata.skimage_photo("gravel.png"),
                                 realdata.skimage_photo("motorcycle_left.png"), frames,
                                 arrive_frames=arrive_frames)
    return [detector.detect(rgb, i) for i, rgb in enumerate(clip)]


def test_a_vehicle_that_drives_in_is_active_then_goes_quiet_once_parked(
    detector: DetectorFilter,
) -> None:
    # Given an empty gravel yard; a real motorcycle comes in from the left over 5 s and stays
    looks = _arrival(detector, arrive_frames=10, frames=50)
    tracker = Tracker(_settings(stationary_s=10.0))
    # When the tracker follows the 25 s
    updates = _feed(tracker, looks)
    # Then it becomes one active vehicle track as it arrives ...
    started = [(u.timestamp, t) for u in updates for t in u.became_active]
    assert len(started) == 1 and started[0][1].label == "vehicle"
    assert started[0][0] <= 5.0
    track = started[0][1]
    # ... it stays active while it parks, and goes stationary 10 s after it stopped
    stopped = [u.timestamp for u in updates if track in u.stopped]
    assert len(stopped) == 1 and 14.0 <= stopped[0] <= 17.0
    assert not updates[-1].active and track in updates[-1].stationary
    # ... the same track throughout, whose path runs from the left edge to where it parked
    assert {t.id for u in updates for t in u.tracks} == {track.id}
    assert track.path[0][1] < 0.25 and track.path[-1][1] > 0.55


def test_a_parked_vehicle_on_an_empty_scene_is_never_active(detector: DetectorFilter) -> None:
    # Given an empty yard with a motorcycle parked in it from the first frame (sensor noise)
    looks = _arrival(detector, arrive_frames=0, frames=40)
    assert sum(bool(found) for found in looks) >= 35  # the detector sees it all along
    tracker = Tracker(_settings())
    # When the tracker follows the 20 s
    updates = _feed(tracker, looks)
    # Then it is one stationary track that never becomes active
    assert not any(u.became_active for u in updates)
    assert [t.state for t in tracker.tracks] == ["stationary"]


def test_a_parked_vehicle_that_drives_off_is_active_again(detector: DetectorFilter) -> None:
    # Given the parked motorcycle for 10 s, then the same footage played back: it leaves
    parked = _arrival(detector, arrive_frames=0, frames=20)
    leaving = list(reversed(_arrival(detector, arrive_frames=10, frames=12)))
    tracker = Tracker(_settings())
    # When the tracker follows both
    updates = _feed(tracker, parked + leaving)
    # Then the stationary track starts moving and is active again (same track)
    moved = [t for u in updates for t in u.started_moving]
    assert len(moved) == 1 and moved[0].label == "vehicle"
    assert moved[0] in [t for u in updates for t in u.became_active]


def test_a_crowd_beyond_the_cap_is_counted_not_followed() -> None:
    # Given a tracker capped at 10 objects and a crowd of 40 people in view
    tracker = Tracker(_settings(max_tracks=10))
    crowd = [Detection("person", 0.8, 0, (0.02 * i, 0.5, 0.02, 0.1)) for i in range(40)]
    # When it looks at the crowd twice
    _feed(tracker, [crowd, crowd])
    # Then it follows 10 and says how many detections it left out
    status = tracker.status()
    assert status["tracks"] == 10 and status["max_tracks"] == 10
    assert status["dropped_detections"] == 60


def test_a_one_frame_flicker_opens_no_track() -> None:
    # Given a tracker that confirms after two looks, and a box that shows once
    tracker = Tracker(_settings())
    box = Detection("animal", 0.7, 0, (0.4, 0.4, 0.1, 0.1))
    # When it is seen in one frame only
    updates = _feed(tracker, [[], [box], [], [], []])
    # Then no track was ever reported
    assert not any(u.tracks or u.new for u in updates)


@pytest.mark.parametrize(("field", "value"), [
    ("stationary_move", 0.0), ("stationary_move", 2.0), ("max_tracks", 0),
    ("iou_min", -1), ("stationary_s", "soon"), ("class_stationary_s", {"dragon": 5.0}),
    ("activity_priority", ["spaceship"]),
])
def test_a_tracker_setting_out_of_range_is_refused_naming_the_field(
    field: str, value: object,
) -> None:
    # Given a tracking section with one bad value
    # When the tracker settings are read
    with pytest.raises(SchemaValidationError) as refused:
        TrackerSettings.from_config({field: value})
    # Then the error names the field
    assert any(e["path"].startswith(f"tracking.{field}") for e in refused.value.errors), \
        refused.value.errors


def test_defaults_let_people_stand_still_but_not_parked_cars() -> None:
    # Given the default settings
    settings = TrackerSettings.from_config()
    # Then a person is never stationary, a vehicle after the default time
    assert settings.stationary_after("person") is None
    assert settings.stationary_after("vehicle") == settings.stationary_s
    assert np.isclose(settings.stationary_s, 10.0)
