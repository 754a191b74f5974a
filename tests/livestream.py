"""Real footage with people entering at a known time, for live-event tests and bench/live_alert.py.

Built from Debian's pedestrian video vtest.avi (opencv-doc, fetched offline by realdata.py):
the empty plaza (the per-pixel median over the whole video, which removes the walkers) with
camera-like sensor noise, then the real video from its first frame (people walking in the
plaza), then the empty plaza again. The people's first frame is at `person_at_s` of each period.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from tests import realdata
from tests.videotools import write_h264

FPS = 10  # vtest.avi's own rate
WIDTH = 640


@dataclass(frozen=True, slots=True)
class PersonStream:
    path: Path
    person_at_s: float  # first frame with people, in stream time of each period
    person_s: float  # how long they are seen
    period_s: float  # length of the file (one period when the server loops it)


def _fit(frame: np.ndarray) -> np.ndarray:
    import av

    height = round(frame.shape[0] * WIDTH / frame.shape[1]) // 2 * 2
    vf = av.VideoFrame.from_ndarray(frame, format="rgb24")
    return vf.to_ndarray(format="rgb24", width=WIDTH, height=height)


def person_stream(folder: Path, empty_s: float = 4.0, person_s: float = 5.0,
                  after_s: float = 8.0) -> PersonStream:
    """Write the stream (H.264 .mp4, 10 fps, GOP 1 s) into `folder`; skips without Debian."""
    video = realdata.opencv_samples() / "vtest.avi"
    frames = [_fit(f) for f in realdata.video_frames(video)]
    plaza = np.median(np.stack(frames[::8]), axis=0).astype(np.float32)
    rng = np.random.default_rng(5)

    def empty(n: int) -> list[np.ndarray]:
        return [np.clip(plaza + rng.normal(0, 2.0, plaza.shape), 0, 255).astype(np.uint8)
                for _ in range(n)]

    people = frames[: int(person_s * FPS)]
    clip = empty(int(empty_s * FPS)) + people + empty(int(after_s * FPS))
    path = write_h264(folder / "plaza.mp4", clip, fps=FPS, gop=FPS)
    return PersonStream(path, empty_s, person_s, len(clip) / FPS)


def arrival_stream(folder: Path, empty_s: float = 3.0, people_s: float = 30.0,
                   arrive_after_s: float = 4.0, arrive_s: float = 2.0) -> PersonStream:
    """The plaza (its van and car parked all along), empty, then people walking across it;
    `arrive_after_s` into their walk a real motorcycle drives in from the left over
    `arrive_s` and parks in the middle of the plaza while they go on walking."""
    video = realdata.opencv_samples() / "vtest.avi"
    frames = [_fit(f) for f in realdata.video_frames(video)]
    plaza = np.median(np.stack(frames[::8]), axis=0).astype(np.uint8)
    people = frames[: int(people_s * FPS)]
    scene = [plaza] * int(empty_s * FPS) + people
    size = (plaza.shape[1], plaza.shape[0])
    clip = realdata.arrival_clip(scene, realdata.skimage_photo("motorcycle_left.png"),
                                 len(scene), arrive_frames=int(arrive_s * FPS),
                                 start_frame=int((empty_s + arrive_after_s) * FPS),
                                 rest=(0.3, 0.5), subject_width=0.45, size=size)
    path = write_h264(folder / "arrival.mp4", clip, fps=FPS, gop=FPS)
    return PersonStream(path, empty_s, people_s, len(clip) / FPS)
