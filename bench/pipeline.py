"""Pipeline benchmark: filter cost per clip and clip -> alert latency through the pipeline.

Makes its own clips with PyAV (a textured scene with a person-shaped subject crossing it, at
320x240 and at 1080p), then measures:

- the built-in detector per clip, with early exit (person is a trigger class) and without
  (every sampled frame looked at), wall time and process CPU time;
- the whole pipeline per clip (record, upload || filter, snapshot, policy, alert published)
  on SQLite and local storage in a temp dir, no notifiers: p50/p99 of the time from handing
  the clip over to the alert on the EventHub.

Prints figures; asserts nothing.

    python bench/pipeline.py [--clips 20]
"""

from __future__ import annotations

import argparse
import asyncio
import shutil
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from homesec_engine.events import EventHub  # noqa: E402
from homesec_engine.filters import BuiltinDetector  # noqa: E402
from homesec_engine.notifiers import NotifierFanout  # noqa: E402
from homesec_engine.alerts.owner import CameraEvents  # noqa: E402
from homesec_engine.pipeline import Pipeline  # noqa: E402
from homesec_engine.policy import AlertPolicyEngine  # noqa: E402
from homesec_engine.records import ClipFile  # noqa: E402
from homesec_engine.state import ClipRepository  # noqa: E402
from homesec_engine.storage import LocalStorage  # noqa: E402
from tests.videotools import background, write_h264  # noqa: E402

TRIGGERS = ["person", "vehicle", "animal", "package"]


def make_clip(path: Path, width: int, height: int, fps: int = 10, seconds: float = 4.0,
              subject_from: float = 0.0) -> Path:
    bg = background(width, height, seed=3)
    w, h = width // 9, int(height * 0.4)
    count = round(seconds * fps)

    def frames():  # type: ignore[no-untyped-def]
        for i in range(count):
            frame = bg.copy()
            t = i / fps
            if t >= subject_from:
                x = int(10 + (width - w - 20) * i / max(1, count - 1))
                y = int(height * 0.85) - h
                frame[y : y + h, x : x + w] = (200, 40, 40)
            yield frame

    return write_h264(path, frames(), fps=fps)


def time_filter(path: Path, triggers: list[str], repeat: int = 5) -> tuple[float, float, int]:
    detector = BuiltinDetector({"sample_fps": 2.0, "min_confidence": 0.5,
                                "trigger_classes": triggers})
    walls, cpus, sampled = [], [], 0
    for _ in range(repeat):
        wall0, cpu0 = time.perf_counter(), time.process_time()
        out = detector.run_sync(path)
        walls.append(time.perf_counter() - wall0)
        cpus.append(time.process_time() - cpu0)
        sampled = out.result.frames_sampled
    return statistics.median(walls) * 1000, statistics.median(cpus) * 1000, sampled


async def pipeline_latency(tmp: Path, video: Path, clips: int) -> list[float]:
    repo = ClipRepository(f"sqlite:///{tmp / 'bench.db'}", tmp / "outbox")
    await repo.start()
    events = EventHub()
    fanout = NotifierFanout([])
    policy = AlertPolicyEngine({})
    storage = LocalStorage({"path": str(tmp / "clips")})
    camera_events = CameraEvents(repository=repo, hub=events, fanout=fanout,
                                 policy=lambda: policy, storage=storage, last_alerts={})
    await camera_events.start()
    pipeline = Pipeline(
        repository=repo, storage=storage,
        object_filter=BuiltinDetector({"sample_fps": 2.0, "min_confidence": 0.5,
                                       "trigger_classes": TRIGGERS}),
        analyzer=None, policy=lambda: policy, camera_events=camera_events)
    latencies = []
    work = tmp / "work"
    work.mkdir()
    try:
        with events.subscribe() as sub:
            for i in range(clips):
                path = work / f"clip{i}.mp4"
                shutil.copy(video, path)
                now = datetime.now(UTC)
                started = time.perf_counter()
                pipeline.submit(ClipFile("bench", path, now - timedelta(seconds=4), now))
                await sub.get()
                latencies.append((time.perf_counter() - started) * 1000)
        await pipeline.drain(30)
    finally:
        await camera_events.close()
        await repo.close()
    return latencies


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--clips", type=int, default=20)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        small = make_clip(tmp / "small.mp4", 320, 240)
        late = make_clip(tmp / "late.mp4", 320, 240, subject_from=2.5)
        full_hd = make_clip(tmp / "fhd.mp4", 1920, 1080)
        print("built-in detector, 4 s clips at 10 fps, sampled at 2 fps (median of 5):")
        for name, path in (("320x240", small), ("320x240, subject from 2.5 s", late),
                           ("1920x1080", full_hd)):
            for label, triggers in (("early exit", TRIGGERS), ("full scan", [])):
                wall, cpu, sampled = time_filter(path, triggers)
                print(f"  {name:30s} {label:10s}: {wall:7.1f} ms wall, {cpu:7.1f} ms CPU, "
                      f"{sampled} frames analysed")
        latencies = asyncio.run(pipeline_latency(tmp, small, args.clips))
        arr = np.array(latencies)
        print(f"pipeline clip -> alert (SQLite, local storage, no notifiers, {args.clips} clips):"
              f" p50 {np.percentile(arr, 50):.1f} ms, p99 {np.percentile(arr, 99):.1f} ms, "
              f"max {arr.max():.1f} ms")


if __name__ == "__main__":
    main()
