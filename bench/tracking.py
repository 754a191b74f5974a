"""CPU per tracker update against the detector's CPU per frame, with crowds of 1 to 200.

A crowd walks across the frame (every person moving a little each look, boxes jittering);
the tracker is fed 2 looks a second for 60 s of stream time. Printed: CPU microseconds per
update (p50, p99) per crowd size, and the ratio to the shipped detector's CPU per frame
measured in the same run on a real frame, so machine load distorts neither much.
Run: .venvs/newest/bin/python bench/tracking.py
"""

from __future__ import annotations

import asyncio
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from homesec_engine.filters import DetectorFilter  # noqa: E402
from homesec_engine.records import Detection  # noqa: E402
from homesec_engine.tracking import Tracker, TrackerSettings  # noqa: E402
from tests import realdata  # noqa: E402


def crowd_looks(people: int, looks: int, seed: int = 1) -> list[list[Detection]]:
    rng = np.random.default_rng(seed)
    start = rng.uniform(0.05, 0.85, (people, 2))
    speed = rng.uniform(-0.01, 0.01, (people, 2))
    out = []
    for i in range(looks):
        pos = np.clip(start + speed * i + rng.normal(0, 0.002, (people, 2)), 0, 0.9)
        out.append([Detection("person", 0.8, i, (float(x), float(y), 0.03, 0.09))
                    for x, y in pos])
    return out


def detector_cpu_s() -> float:
    detector = DetectorFilter({"trigger_classes": ["person"], "min_hits": 2})
    asyncio.run(detector.start())
    frames = list(realdata.video_frames(realdata.opencv_samples() / "vtest.avi", every=20))[:10]
    detector.detect(frames[0])  # warm up
    started = time.process_time()
    for frame in frames:
        detector.detect(frame)
    return (time.process_time() - started) / len(frames)


def main() -> None:
    per_frame = detector_cpu_s()
    print(f"detector: {per_frame * 1e3:.1f} ms CPU per frame (shipped model, real frame)")
    for people in (1, 10, 40, 200):
        settings = TrackerSettings.from_config({"max_tracks": max(40, people)}, min_hits=2)
        tracker = Tracker(settings)
        costs = []
        for i, found in enumerate(crowd_looks(people, 120)):
            started = time.process_time()
            tracker.update(found, i * 0.5)
            costs.append(time.process_time() - started)
        costs.sort()
        p50, p99 = costs[len(costs) // 2], costs[int(len(costs) * 0.99)]
        print(f"crowd {people:3d}: tracker p50 {p50 * 1e6:8.0f} us, p99 {p99 * 1e6:8.0f} us "
              f"CPU per update = {p50 / per_frame:.3f} of a detector frame "
              f"({len(tracker.tracks)} tracks)")


if __name__ == "__main__":
    main()
