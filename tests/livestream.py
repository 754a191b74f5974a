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


def _fit(frame: np.ndarray, width: int = WIDTH) -> np.ndarray:
    import av

    height = round(frame.shape[0] * width / frame.shape[1]) // 2 * 2
    vf = av.VideoFrame.from_ndarray(frame, format="rgb24")
    return vf.to_ndarray(format="rgb24", width=width, height=height)


def person_stream(folder: Path, empty_s: float = 4.0, person_s: float = 5.0,
                  after_s: float = 8.0, width: int = WIDTH, fps: int = FPS,
                  bit_rate: int | None = None) -> PersonStream:
    """Write the stream (H.264 .mp4, GOP 1 s) into `folder`; skips without Debian.

    `width`, `fps` and `bit_rate` make it camera-like (e.g. 1920, 15, 4 Mbit/s for the scale
    bench): a rate above the footage's own 10 fps repeats frames, as a camera would."""
    video = realdata.opencv_samples() / "vtest.avi"
    source = [_fit(f, width) for f in realdata.video_frames(video)]
    frames = [source[int(i * FPS / fps)] for i in range(len(source) * fps // FPS)]
    plaza = np.median(np.stack(frames[::8]), axis=0).astype(np.float32)
    rng = np.random.default_rng(5)

    def empty(n: int) -> list[np.ndarray]:
        return [np.clip(plaza + rng.normal(0, 2.0, plaza.shape), 0, 255).astype(np.uint8)
                for _ in range(n)]

    people = frames[: int(person_s * fps)]
    clip = empty(int(empty_s * fps)) + people + empty(int(after_s * fps))
    path = write_h264(folder / "plaza.mp4", clip, fps=fps, gop=fps, bit_rate=bit_rate)
    return PersonStream(path, empty_s, person_s, len(clip) / fps)
