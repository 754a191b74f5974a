"""The live picture: the newest frame a source decoded, turned into a JPEG on request.

Sources keep only a reference to their newest decoded ``av.VideoFrame`` (no copy, no
conversion on the decode path); the JPEG is made when someone asks, at the size asked, in the
caller's worker thread. PyAV's own MJPEG encoder does it: no extra image library.

A decoded frame is read by several threads (the decode thread, the live detector, snapshot
requests), and PyAV's scaler is not safe to run on one frame from two threads: it writes the
frame's colour tags while it scales, and PyAV before 19 keeps one scaler per frame, which
crashes in libswscale when two threads use it at once. So a shared frame is never converted
in place: :func:`convert` copies its pixels into a frame the calling thread alone owns first.
:class:`SnapshotCache` makes each picture's JPEG once per size however many ask for it.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

import av
import numpy as np


@dataclass(frozen=True, slots=True)
class LiveFrame:
    frame: Any  # av.VideoFrame, shared: read it, never convert it in place (see convert())
    at: float  # time.monotonic() when it was decoded

    @property
    def age_s(self) -> float:
        return time.monotonic() - self.at


class LatestFrame:
    """The newest frame of one stream, set by its decode thread, read by any thread."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._frame: LiveFrame | None = None

    def put(self, frame: Any) -> None:
        with self._lock:
            self._frame = LiveFrame(frame, time.monotonic())

    def clear(self) -> None:
        with self._lock:
            self._frame = None

    def get(self) -> LiveFrame | None:
        with self._lock:
            return self._frame


def private_copy(frame: Any) -> Any:
    """A copy of a shared ``av.VideoFrame`` (pixels and colour tags) owned by this thread.

    Only reads the shared frame, so any number of threads may copy it at once.
    """
    copy = av.VideoFrame(frame.width, frame.height, frame.format.name)
    for src, dst in zip(frame.planes, copy.planes, strict=True):
        row = min(src.line_size, dst.line_size)
        source = np.frombuffer(src, np.uint8).reshape(-1, src.line_size)[: src.height, :row]
        target = np.frombuffer(dst, np.uint8).reshape(-1, dst.line_size)[: dst.height, :row]
        target[:] = source
    copy.colorspace, copy.color_range = frame.colorspace, frame.color_range
    return copy


def convert(frame: Any, width: int, height: int, format: str) -> Any:
    """A shared frame at another size and pixel format (a new frame; the shared one untouched).

    One scaler thread: callers already run in parallel, one per request or camera.
    """
    return private_copy(frame).reformat(width=width, height=height, format=format, threads=1)


def output_size(width: int, height: int, want_w: int | None,
                want_h: int | None) -> tuple[int, int]:
    """The JPEG's size: as asked; one side given keeps the aspect ratio; none: the frame's.

    Even numbers, because the 4:2:0 JPEG needs them.
    """
    if want_w and want_h:
        w, h = want_w, want_h
    elif want_w:
        w, h = want_w, round(height * want_w / max(1, width))
    elif want_h:
        w, h = round(width * want_h / max(1, height)), want_h
    else:
        w, h = width, height
    return max(2, w // 2 * 2), max(2, h // 2 * 2)


def encode_jpeg(frame: Any, width: int | None = None, height: int | None = None,
                quality: int = 5) -> bytes:
    """``frame`` as a JPEG of the size asked (blocking: run it in a worker thread).

    ``quality`` is MJPEG's qscale: 2 (best) .. 31; 5 looks like a camera's own snapshot.
    """
    w, h = output_size(frame.width, frame.height, width, height)
    picture = convert(frame, w, h, "yuvj420p")
    encoder = av.CodecContext.create("mjpeg", "w")
    encoder.width, encoder.height = w, h
    encoder.pix_fmt = "yuvj420p"
    encoder.time_base = Fraction(1, 25)  # one picture: any time base will do
    picture.pts = None
    encoder.options = {"qmin": str(quality), "qmax": str(quality)}
    packets = encoder.encode(picture) + encoder.encode(None)
    return b"".join(bytes(p) for p in packets)


class SnapshotCache:
    """The JPEGs of one camera's newest picture, made once per picture and size.

    A live grid asks every camera for a tile every second or so, often several viewers at
    once: they all get the one JPEG of the picture they asked for. One encode at a time per
    camera (callers wait for it and take its result); bounding encodes across cameras is the
    caller's job (the API holds an asyncio semaphore before it starts a worker thread).
    """

    MAX_SIZES = 4  # sizes kept per picture (tile, full, ...): a bound, not a tuning knob

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._picture: LiveFrame | None = None
        self._jpegs: dict[tuple[int, int], bytes] = {}

    def jpeg(self, live: LiveFrame, width: int | None, height: int | None) -> bytes:
        """The JPEG of `live` at the size asked (blocking: run it in a worker thread)."""
        size = output_size(live.frame.width, live.frame.height, width, height)
        with self._lock:
            if self._picture is not live:
                self._picture, self._jpegs = live, {}
            image = self._jpegs.get(size)
            if image is None:
                image = encode_jpeg(live.frame, *size)
                if len(self._jpegs) >= self.MAX_SIZES:
                    self._jpegs.clear()
                self._jpegs[size] = image
            return image
