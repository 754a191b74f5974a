"""The demo camera's footage: real people walking, made into a looping H.264 file.

The source is `vtest.avi` from Debian's `opencv-doc` package (people crossing a plaza, 768x576
at 10 fps; OpenCV's sample data, Apache-2.0/BSD-3-Clause). `./scripts/run` fetches that
package once into the cache (scripts/data/fetch-opencv-samples.sh) and runs

    python -m homesec_engine.demo.footage SOURCE.avi DEST.mp4

The engine only reads DEST (feed.py); nothing is fetched while it runs.

The file alternates the empty plaza (the per-pixel median of the video, which removes the
walkers, with camera-like sensor noise) and stretches of the real video, so the motion detector
opens and closes recordings and every walk-through is a live event of its own.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator, Sequence
from pathlib import Path

import av
import numpy as np

from ..sources.demo import write_clip

FPS = 10  # vtest.avi's own rate
WIDTH = 640
# The loop: (seconds of empty plaza, start of the real stretch in s, its length in s) per part.
LOOP: tuple[tuple[float, float, float], ...] = ((6.0, 0.0, 15.0), (12.0, 40.0, 15.0))
TAIL_EMPTY_S = 8.0


def read_frames(path: Path, width: int = WIDTH) -> Iterator[np.ndarray]:
    """The video's frames as RGB arrays scaled to `width` (even height)."""
    with av.open(str(path)) as container:
        for frame in container.decode(container.streams.video[0]):
            height = round(frame.height * width / frame.width) // 2 * 2
            yield frame.to_ndarray(format="rgb24", width=width, height=height)


def empty_scene(frames: Sequence[np.ndarray]) -> np.ndarray:
    """The scene without what moves through it: the per-pixel median (float32)."""
    scene: np.ndarray = np.median(np.stack(frames[::8]), axis=0).astype(np.float32)
    return scene


def still(scene: np.ndarray, count: int, rng: np.random.Generator) -> list[np.ndarray]:
    """`count` frames of a still scene with camera-like sensor noise (a few noise patterns
    in turn: drawing fresh noise for every frame cost most of the making)."""
    patterns = [np.clip(scene + rng.normal(0, 2.0, scene.shape), 0, 255).astype(np.uint8)
                for _ in range(min(count, 8))]
    return [patterns[i % len(patterns)] for i in range(count)]


def compose(frames: Sequence[np.ndarray], loop: Sequence[tuple[float, float, float]] = LOOP,
            tail_empty_s: float = TAIL_EMPTY_S, fps: int = FPS) -> list[np.ndarray]:
    """Empty scene and real stretches of `frames`, as `loop` says, then `tail_empty_s` empty."""
    scene, rng = empty_scene(frames), np.random.default_rng(5)
    out: list[np.ndarray] = []
    for empty_s, start_s, length_s in loop:
        out += still(scene, round(empty_s * fps), rng)
        out += list(frames[round(start_s * fps): round((start_s + length_s) * fps)])
    return out + still(scene, round(tail_empty_s * fps), rng)


def make(source: Path, dest: Path) -> Path:
    """Write the demo footage made from `source` to `dest` (H.264 MP4, GOP 1 s)."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    write_clip(dest, compose(list(read_frames(source))), FPS, gop=FPS)
    return dest


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit("usage: python -m homesec_engine.demo.footage SOURCE_VIDEO DEST.mp4")
    print(make(Path(sys.argv[1]), Path(sys.argv[2])))
