"""A camera that needs no hardware: renders a short synthetic clip every ``interval_s``.

What is drawn (the built-in detector of the filter relies on exactly this; keep them in step):

* **Background**: the whole frame is flat RGB ``BACKGROUND_RGB = (96, 96, 96)`` (mid grey),
  with a thin darker "ground" line: rows from 85 % of the height down are RGB (72, 72, 72).
* **Subject**: one axis-aligned, filled rectangle of a single solid colour, entirely inside the
  frame in every frame, standing on the ground line (its bottom edge at 85 % of the height).
  It moves left to right at constant speed, from x = 5 % to x = 95 % - its width, over the clip.
  Size and colour by ``subject`` (``SUBJECTS``), as fractions of the frame height H / width W:

  ======== ========================= ========================== ===============================
  subject  colour (RGB)              size                       shape
  ======== ========================= ========================== ===============================
  person   (200, 30, 30)   red       w = 0.16 H, h = 0.40 H     upright: h / w = 2.5
  vehicle  (30, 60, 200)   blue      w = 0.40 W, h = 0.16 W     wide: w / h = 2.5
  animal   (220, 150, 20)  amber     w = 0.20 H, h = 0.12 H     low: w / h ~ 1.67, small
  ======== ========================= ========================== ===============================

  (after H.264 compression colours are within about +-30 per channel of these values).
* Video: H.264 (libx264, yuv420p; MPEG-4 Part 2 if libx264 is missing) in MP4, ``width`` x
  ``height`` at ``fps``, ``clip_s`` seconds (defaults: ``DemoSourceConfig`` in the schema
  package, listed in docs/configuration.md).

The first clip is produced right after ``start()`` (well within a second at the defaults), so a
fresh install shows an alert quickly; then one every ``interval_s``. Rendering and
encoding run in a worker thread; ``stop()`` joins it.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
import uuid
from collections.abc import Mapping
from datetime import timedelta
from pathlib import Path
from typing import Any, cast

import av
import numpy as np
from av.video.stream import VideoStream

from ..records import ClipFile, utcnow
from ..schema import model_defaults
from .base import ClipSource, safe_name
from .live import LiveFrame

_LOGGER = logging.getLogger(__name__)

BACKGROUND_RGB = (96, 96, 96)
GROUND_RGB = (72, 72, 72)
GROUND_Y = 0.85
# subject -> (colour, size function (W, H) -> (w, h))
SUBJECTS: dict[str, tuple[tuple[int, int, int], Any]] = {
    "person": ((200, 30, 30), lambda W, H: (0.16 * H, 0.40 * H)),
    "vehicle": ((30, 60, 200), lambda W, H: (0.40 * W, 0.16 * W)),
    "animal": ((220, 150, 20), lambda W, H: (0.20 * H, 0.12 * H)),
}


def subject_box(subject: str, width: int, height: int, progress: float) -> tuple[int, int, int, int]:
    """(x, y, w, h) of the subject at ``progress`` 0..1 through the clip."""
    _, size = SUBJECTS[subject]
    w, h = (max(2, round(v)) for v in size(width, height))
    w, h = min(w, int(0.9 * width)), min(h, int(GROUND_Y * height) - 1)
    x0, x1 = 0.05 * width, 0.95 * width - w
    x = round(x0 + (x1 - x0) * min(1.0, max(0.0, progress)))
    y = round(GROUND_Y * height) - h
    return x, y, w, h


def _scene(width: int, height: int) -> np.ndarray:
    scene = np.empty((height, width, 3), dtype=np.uint8)
    scene[:] = BACKGROUND_RGB
    scene[round(GROUND_Y * height) :] = GROUND_RGB
    return scene


def render_frame(subject: str, width: int, height: int, progress: float,
                 scene: np.ndarray | None = None) -> np.ndarray:
    """One RGB frame with the subject at ``progress`` 0..1 through the clip (pure)."""
    frame = (_scene(width, height) if scene is None else scene).copy()
    x, y, w, h = subject_box(subject, width, height, progress)
    frame[y : y + h, x : x + w] = np.array(SUBJECTS[subject][0], dtype=np.uint8)
    return frame


def render_frames(subject: str, width: int, height: int, fps: int, clip_s: float) -> list[np.ndarray]:
    """The clip's RGB frames as uint8 arrays (pure; no I/O)."""
    scene = _scene(width, height)
    count = max(1, round(clip_s * fps))
    return [render_frame(subject, width, height, i / max(1, count - 1), scene)
            for i in range(count)]


def write_clip(path: Path, frames: list[np.ndarray], fps: int, gop: int | None = None) -> None:
    """Encode RGB frames into an MP4 (written under a temporary name, then renamed); `gop`
    fixes the keyframe interval in frames (a stream that viewers join mid-way needs it)."""
    part = path.with_name(path.name + ".part")
    codec = "libx264" if "libx264" in av.codecs_available else "mpeg4"
    try:
        with av.open(str(part), "w", format="mp4") as out:
            stream = cast(VideoStream, out.add_stream(codec, rate=fps))
            stream.height, stream.width = frames[0].shape[:2]
            stream.pix_fmt = "yuv420p"
            if gop:
                stream.codec_context.gop_size = gop
            if codec == "libx264":
                stream.options = {"preset": "veryfast", "crf": "20", "bf": "0"}
                if gop:
                    stream.options["x264-params"] = f"scenecut=0:keyint={gop}:min-keyint={gop}"
            for array in frames:
                out.mux(stream.encode(av.VideoFrame.from_ndarray(array, format="rgb24")))
            out.mux(stream.encode(None))
        part.replace(path)
    except BaseException:
        part.unlink(missing_ok=True)
        raise


class DemoSource(ClipSource):
    """``demo`` backend: ``interval_s``, ``clip_s``, ``subject``, ``width``, ``height``, ``fps``.

    Its live picture is drawn when asked: the subject walks across once every ``clip_s``.
    """

    live_picture = True
    synthetic = True

    def __init__(self, camera: str, config: Mapping[str, Any], work_dir: Path) -> None:
        super().__init__(camera, config, work_dir)
        c = {**model_defaults("DemoSourceConfig"), **self.config}  # defaults declared once
        self.interval_s = float(c["interval_s"])
        self.clip_s = float(c["clip_s"])
        self.subject = str(c["subject"])
        if self.subject not in SUBJECTS:
            raise ValueError(f"camera {camera}: demo subject must be one of {sorted(SUBJECTS)}")
        self.width = int(c["width"]) // 2 * 2  # yuv420p needs even sizes
        self.height = int(c["height"]) // 2 * 2
        self.fps = int(c["fps"])
        self._thread: threading.Thread | None = None
        self._stopping = threading.Event()

    async def _start(self) -> None:
        self._stopping.clear()
        self._thread = threading.Thread(
            target=self._run, name=f"homesec-demo-{self.camera}", daemon=True
        )
        self._thread.start()

    async def _stop(self) -> None:
        self._stopping.set()
        if self._thread is not None:
            await asyncio.to_thread(self._thread.join)
            self._thread = None

    def _run(self) -> None:
        # A synthetic camera is always "connected".
        self._beat()
        self._set_health(True)
        while not self._stopping.is_set():
            try:
                self._emit_clip(self._render_one())
            except Exception:
                _LOGGER.exception("camera %s: demo clip failed", self.camera)
            self._beat()
            if self._stopping.wait(self.interval_s):
                break
        self._set_health(False)

    def live_frame(self) -> LiveFrame | None:
        now = time.monotonic()
        progress = (now % self.clip_s) / self.clip_s
        picture = render_frame(self.subject, self.width, self.height, progress)
        return LiveFrame(av.VideoFrame.from_ndarray(picture, format="rgb24"), now)

    def _render_one(self) -> ClipFile:
        ended = utcnow()
        frames = render_frames(self.subject, self.width, self.height, self.fps, self.clip_s)
        path = self.work_dir / f"{safe_name(self.camera)}-{ended:%Y%m%dT%H%M%S}-{uuid.uuid4().hex[:8]}.mp4"
        write_clip(path, frames, self.fps)
        return ClipFile(self.camera, path, ended - timedelta(seconds=self.clip_s), ended)
