"""Real footage with people entering at a known time, for live-event tests and bench/live_alert.py.

Built from Debian's pedestrian video vtest.avi (opencv-doc, fetched offline by realdata.py) the
way the demo camera's footage is (homesec_engine/demo/footage.py): the empty plaza with
camera-like sensor noise, then the real video from its first frame (people walking in the
plaza), then the empty plaza again. The people's first frame is at `person_at_s` of each period.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from homesec_engine.demo import footage
from tests import realdata
from tests.videotools import write_h264

FPS = footage.FPS  # vtest.avi's own rate
WIDTH = 640


@dataclass(frozen=True, slots=True)
class PersonStream:
    path: Path
    person_at_s: float  # first frame with people, in stream time of each period
    person_s: float  # how long they are seen
    period_s: float  # length of the file (one period when the server loops it)


def person_stream(folder: Path, empty_s: float = 4.0, person_s: float = 5.0,
                  after_s: float = 8.0, width: int = WIDTH, fps: int = FPS,
                  bit_rate: int | None = None) -> PersonStream:
    """Write the stream (H.264 .mp4, GOP 1 s) into `folder`; skips without Debian.

    `width`, `fps` and `bit_rate` make it camera-like (e.g. 1920, 15, 4 Mbit/s for
    bench/scale.py): a rate above the footage's own 10 fps repeats frames, as a camera would."""
    video = realdata.opencv_samples() / "vtest.avi"
    source = list(footage.read_frames(video, width=width))
    frames = [source[i * FPS // fps] for i in range(len(source) * fps // FPS)]
    clip = footage.compose(frames, loop=((empty_s, 0.0, person_s),), tail_empty_s=after_s,
                           fps=fps)
    path = write_h264(folder / "plaza.mp4", clip, fps=fps, gop=fps, bit_rate=bit_rate)
    return PersonStream(path, empty_s, person_s, len(clip) / fps)


def arrival_stream(folder: Path, empty_s: float = 3.0, people_s: float = 30.0,
                   arrive_after_s: float = 4.0, arrive_s: float = 2.0) -> PersonStream:
    """The plaza (its van and car parked all along), empty, then people walking across it;
    `arrive_after_s` into their walk a real motorcycle drives in from the left over
    `arrive_s` and parks in the middle of the plaza while they go on walking."""
    video = realdata.opencv_samples() / "vtest.avi"
    frames = list(footage.read_frames(video, width=WIDTH))
    plaza = footage.empty_scene(frames).astype("uint8")
    scene = [plaza] * int(empty_s * FPS) + frames[: int(people_s * FPS)]
    size = (plaza.shape[1], plaza.shape[0])
    clip = realdata.arrival_clip(scene, realdata.skimage_photo("motorcycle_left.png"),
                                 len(scene), arrive_frames=int(arrive_s * FPS),
                                 start_frame=int((empty_s + arrive_after_s) * FPS),
                                 rest=(0.3, 0.5), subject_width=0.45, size=size)
    path = write_h264(folder / "arrival.mp4", clip, fps=FPS, gop=FPS)
    return PersonStream(path, empty_s, people_s, len(clip) / FPS)
