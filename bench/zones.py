"""Zones, motion masks and snapshots benchmark: what they add per frame, detection and clip.

Measures, single-threaded (wall p50/p99 over many runs, and CPU per unit of work):

* motion detection per analysis frame (320x180 grey, sensor noise) without masks and with two
  masks (a tree and a timestamp band): the masks' extra cost per frame;
* zone checks per detection on a camera with four zones (foot point in polygon);
* per-object summaries of a clip with 200 detections;
* the snapshot of a 1080p clip: the best frame decoded again at full size, boxes and labels
  drawn, JPEG encoded; against the old 320-pixel snapshot (encode only).

Prints figures and a Markdown table; asserts nothing.

    python bench/zones.py [--frames 2000]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from homesec_engine.filters.base import FilterOutput  # noqa: E402
from homesec_engine.records import Detection, FilterResult  # noqa: E402
from homesec_engine.snapshots import encode_jpeg, render_snapshot  # noqa: E402
from homesec_engine.sources.motion import MotionDetector  # noqa: E402
from homesec_engine.zones import CameraZones, summarize_objects  # noqa: E402
from tests.videotools import scripted_frames, Segment, write_h264  # noqa: E402

TREE = [[0, 0], [0.3, 0], [0.35, 0.45], [0.05, 0.5]]
CLOCK = [[0.6, 0], [1, 0], [1, 0.06], [0.6, 0.06]]
ZONES = [
    {"name": "path", "points": [[0.1, 0.55], [0.9, 0.55], [0.9, 1], [0.1, 1]], "classes": []},
    {"name": "driveway", "points": [[0.5, 0.3], [1, 0.3], [1, 0.6], [0.5, 0.6]],
     "classes": ["vehicle"]},
    {"name": "door", "points": [[0.4, 0.2], [0.55, 0.2], [0.55, 0.7], [0.4, 0.7]],
     "classes": ["person"]},
    {"name": "lawn", "points": [[0, 0.5], [0.3, 0.45], [0.35, 1], [0, 1]],
     "classes": ["animal", "person"]},
]


def timed(work: Callable[[], Any], runs: int) -> tuple[float, float, float]:
    """(p50 ms, p99 ms, CPU ms per run) of `work`."""
    walls = []
    cpu0 = time.process_time()
    for _ in range(runs):
        start = time.perf_counter()
        work()
        walls.append((time.perf_counter() - start) * 1000)
    cpu = (time.process_time() - cpu0) * 1000 / runs
    walls.sort()
    return statistics.median(walls), walls[min(len(walls) - 1, int(len(walls) * 0.99))], cpu


def motion_frames(count: int) -> list[np.ndarray]:
    rng = np.random.default_rng(3)
    base = rng.integers(40, 200, (180, 320)).astype(np.int16)
    return [np.clip(base + rng.normal(0, 3, base.shape), 0, 255).astype(np.uint8)
            for _ in range(count)]


def bench_motion(frames: list[np.ndarray], masks: list[Any]) -> tuple[float, float, float]:
    detector = MotionDetector(0.5, 0.5, masks=masks)
    detector.update(frames[0], 0.0)
    index = iter(range(1, 10**9))

    def step() -> None:
        i = next(index)
        detector.update(frames[i % len(frames)], i / 5)

    return timed(step, len(frames))


def detections(count: int) -> list[Detection]:
    rng = np.random.default_rng(5)
    labels = ["person", "vehicle", "animal"]
    return [Detection(labels[i % 3], float(rng.uniform(0.5, 1)), i // 3,
                      (float(rng.uniform(0, 0.8)), float(rng.uniform(0, 0.6)), 0.1, 0.3))
            for i in range(count)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=2000)
    args = parser.parse_args()
    rows: list[tuple[str, tuple[float, float, float]]] = []

    frames = motion_frames(200)
    rows.append(("motion per frame, no mask", bench_motion(frames * (args.frames // 200), [])))
    rows.append(("motion per frame, 2 masks",
                 bench_motion(frames * (args.frames // 200), [TREE, CLOCK])))

    zones = CameraZones(ZONES, ["person", "vehicle", "animal", "package"])
    dets = detections(200)
    it = iter(range(10**9))
    rows.append(("zone check per detection, 4 zones",
                 timed(lambda: zones.counts(dets[next(it) % len(dets)]), args.frames * 5)))
    rows.append(("objects summary, 200 detections", timed(lambda: summarize_objects(dets), 200)))

    with tempfile.TemporaryDirectory() as tmp:
        video = write_h264(Path(tmp) / "1080p.mp4",
                           scripted_frames(1920, 1080, 10, 4.0, [Segment(0.5, 3.5)]), fps=10)
        small = np.zeros((180, 320, 3), dtype=np.uint8)
        best = Detection("person", 0.87, 0, (0.4, 0.3, 0.1, 0.4))
        filtered = FilterOutput(FilterResult([best], 8), small, best, best_time_s=2.0)
        rows.append(("snapshot 1080p: decode + labels + JPEG",
                     timed(lambda: render_snapshot(video, filtered, [best]), 10)))
        rows.append(("snapshot 320 px (before): JPEG only", timed(lambda: encode_jpeg(small), 50)))

    print("| what | p50 ms | p99 ms | CPU ms per run |")
    print("|---|---|---|---|")
    for name, (p50, p99, cpu) in rows:
        print(f"| {name} | {p50:.4f} | {p99:.4f} | {cpu:.4f} |")


if __name__ == "__main__":
    main()
