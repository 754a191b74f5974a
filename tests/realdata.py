"""Real, labelled pictures and video for the detector tests and bench/detect.py — offline.

Two registry sources, nothing fetched at engine run time:

- scikit-image's wheel (the `test` extra) bundles public-domain/CC0 photos: `astronaut`
  (a person), `camera` (the cameraman), `chelsea` (a cat), `motorcycle_left` (a motorcycle),
  `coffee`, `brick`, `grass`, `gravel`, `rocket` (no trigger class). Only files inside the wheel
  are read, never its pooch downloads.
- Debian's `opencv-doc` sample data, fetched once into the cache by
  scripts/data/fetch-opencv-samples.sh (apt-get download with a private apt state, dpkg -x):
  photos (`messi5.jpg`, `basketball1.png`, `licenseplate_motion.jpg`, `home.jpg`, ...), the
  pedestrian video `vtest.avi` and a tree in wind, `tree.avi`.

`opencv_samples()` skips the calling test with the reason when the registry cannot be reached.
The clip makers turn a picture into camera-like footage (still with sensor noise, a slow
lighting ramp, a slight camera shake, a subject sliding in) for tests and the bench alike.
"""

from __future__ import annotations

import functools
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import av
import numpy as np

REPO = Path(__file__).resolve().parent.parent
CACHE = Path(os.environ.get("HOMESEC_CACHE", Path.home() / ".cache" / "homesec"))

# name -> the HomeSec class it shows (None: a picture with no trigger class in it).
SKIMAGE_PHOTOS: dict[str, str | None] = {
    "astronaut.png": "person", "camera.png": "person", "chelsea.png": "animal",
    "motorcycle_left.png": "vehicle", "coffee.png": None, "brick.png": None, "grass.png": None,
    "gravel.png": None, "rocket.jpg": None,
}
OPENCV_PHOTOS: dict[str, str | None] = {
    "messi5.jpg": "person", "basketball1.png": "person", "basketball2.png": "person",
    "licenseplate_motion.jpg": "vehicle", "chicky_512.png": "animal",
    "home.jpg": None, "fruits.jpg": None, "stuff.jpg": None, "sudoku.png": None,
    "box_in_scene.png": None, "aloeL.jpg": None, "butterfly.jpg": None, "HappyFish.jpg": None,
    "orange.jpg": None, "apple.jpg": None, "pic2.png": None, "smarties.png": None,
}


class DataUnavailable(RuntimeError):
    """The registry holding the data could not be reached."""


def _rgb(image: np.ndarray) -> np.ndarray:
    if image.ndim == 3 and image.shape[2] == 2:  # grey + alpha
        image = image[..., 0]
    if image.ndim == 2:
        image = np.stack([image] * 3, axis=-1)
    image = image[..., :3]
    if image.dtype != np.uint8:
        image = (image * 255).astype(np.uint8) if image.max() <= 1.0 else image.astype(np.uint8)
    return np.ascontiguousarray(image)


def skimage_photo(name: str) -> np.ndarray:
    """A photo bundled in scikit-image's wheel, as RGB uint8."""
    import skimage
    from skimage import io

    path = Path(skimage.__file__).parent / "data" / name
    if not path.is_file():
        raise FileNotFoundError(f"{name} is not bundled in scikit-image's wheel")
    return _rgb(io.imread(path))


@functools.cache
def _opencv_dir() -> Path:
    script = REPO / "scripts" / "data" / "fetch-opencv-samples.sh"
    try:
        done = subprocess.run([str(script), str(CACHE)], capture_output=True, text=True,
                              timeout=600, check=True)
    except (subprocess.CalledProcessError, subprocess.TimeoutExpired) as err:
        raise DataUnavailable(f"Debian's opencv-doc could not be fetched: {err}") from err
    return Path(done.stdout.strip().splitlines()[-1])


def opencv_samples() -> Path:
    """The opencv-doc sample-data folder; skips the calling test when Debian is unreachable."""
    try:
        return _opencv_dir()
    except DataUnavailable as err:
        import pytest

        pytest.skip(f"needs Debian's opencv-doc package and the registry is unreachable: {err}")


def opencv_photo(name: str, folder: Path | None = None) -> np.ndarray:
    from skimage import io

    return _rgb(io.imread((folder or opencv_samples()) / name))


def video_frames(path: Path, every: int = 1, width: int | None = None) -> Iterator[np.ndarray]:
    """RGB frames of a real video (every `every`-th), optionally scaled to `width`."""
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        for i, frame in enumerate(container.decode(stream)):
            if i % every:
                continue
            if width:
                height = round(frame.height * width / frame.width) // 2 * 2
                yield frame.to_ndarray(format="rgb24", width=width, height=height)
            else:
                yield frame.to_ndarray(format="rgb24")


# -- camera-like clips made from a picture ----------------------------------------------------


def _even(image: np.ndarray) -> np.ndarray:
    h, w = image.shape[:2]
    return image[: h - h % 2, : w - w % 2]


def still_clip(image: np.ndarray, frames: int, noise: float = 3.0, seed: int = 1
               ) -> list[np.ndarray]:
    """A fixed camera on a still scene: only sensor noise (sigma in grey levels) changes."""
    rng = np.random.default_rng(seed)
    base = _even(image).astype(np.float32)
    return [np.clip(base + rng.normal(0, noise, base.shape), 0, 255).astype(np.uint8)
            for _ in range(frames)]


def lighting_ramp(image: np.ndarray, frames: int, low: float = 0.45, high: float = 1.25
                  ) -> list[np.ndarray]:
    """Light fading up (a cloud passing, lamps coming on) on a still scene."""
    base = _even(image).astype(np.float32)
    gains = np.linspace(low, high, frames)
    return [np.clip(base * g, 0, 255).astype(np.uint8) for g in gains]


def camera_shake(image: np.ndarray, frames: int, pixels: int = 6, seed: int = 2
                 ) -> list[np.ndarray]:
    """A slightly shaking camera (wind on the mount): the view jitters a few pixels."""
    rng = np.random.default_rng(seed)
    base = _even(image)
    h, w = base.shape[:2]
    crop = base[pixels: h - pixels, pixels: w - pixels]
    out = []
    for _ in range(frames):
        dy, dx = rng.integers(-pixels, pixels + 1, size=2)
        out.append(base[pixels + dy: pixels + dy + crop.shape[0],
                        pixels + dx: pixels + dx + crop.shape[1]].copy())
    return out


def noise_frames(width: int, height: int, frames: int, seed: int = 3) -> list[np.ndarray]:
    """A dark scene at night: sensor noise on near-black, no subject."""
    rng = np.random.default_rng(seed)
    return [np.clip(rng.normal(20, 12, (height, width, 3)), 0, 255).astype(np.uint8)
            for _ in range(frames)]


def write_clip(path: Path, frames: list[np.ndarray], fps: int = 10) -> Path:
    """H.264 MP4 of the frames (camera-like: no B-frames, one-second GOP)."""
    from tests.videotools import write_h264

    frames = [_even(f) for f in frames]
    return write_h264(path, frames, fps)


def _resize(image: np.ndarray, width: int) -> np.ndarray:
    import av.video.frame

    height = max(2, round(image.shape[0] * width / image.shape[1]) // 2 * 2)
    frame = av.video.frame.VideoFrame.from_ndarray(np.ascontiguousarray(image), format="rgb24")
    resized: np.ndarray = frame.to_ndarray(format="rgb24", width=width, height=height)
    return resized


def arrival_clip(background: np.ndarray, subject: np.ndarray, frames: int, *,
                 arrive_frames: int, rest: tuple[float, float] = (0.45, 0.45),
                 subject_width: float = 0.4, size: tuple[int, int] = (640, 480),
                 noise: float = 3.0, seed: int = 4) -> list[np.ndarray]:
    """A real subject photo (a motorcycle, a car) coming in from the left edge over
    `arrive_frames` frames onto a still real scene, then staying put, with sensor noise.
    arrive_frames=0: it stood there from the first frame (a parked vehicle). `rest` is where
    its top-left corner stops, as frame fractions."""
    rng = np.random.default_rng(seed)
    width, height = size
    base = _resize(background, width)[:height]
    if base.shape[0] < height:  # a wide background: tile it down to the height
        base = np.concatenate([base] * (height // base.shape[0] + 1))[:height]
    sprite = _resize(subject, round(width * subject_width))
    sh, sw = sprite.shape[:2]
    end_x, y = round(rest[0] * width), min(round(rest[1] * height), height - sh)
    out = []
    for i in range(frames):
        progress = 1.0 if arrive_frames <= 0 else min(1.0, i / arrive_frames)
        x = round(-sw + (end_x + sw) * progress)
        frame = base.astype(np.float32).copy()
        x0, x1 = max(0, x), min(width, x + sw)
        if x1 > x0:
            frame[y: y + sh, x0:x1] = sprite[:, x0 - x: x1 - x]
        frame += rng.normal(0, noise, frame.shape)
        out.append(np.clip(frame, 0, 255).astype(np.uint8))
    return out
