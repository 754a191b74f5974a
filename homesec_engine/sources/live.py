"""The live picture: the newest frame a source decoded, turned into a JPEG on request.

Sources keep only a reference to their newest decoded ``av.VideoFrame`` (no copy, no
conversion on the decode path); the JPEG is made when someone asks, at the size asked, in the
caller's worker thread. PyAV's own MJPEG encoder does it: no extra image library.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

import av


@dataclass(frozen=True, slots=True)
class LiveFrame:
    frame: Any  # av.VideoFrame
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
    picture = frame.reformat(width=w, height=h, format="yuvj420p")
    encoder = av.CodecContext.create("mjpeg", "w")
    encoder.width, encoder.height = w, h
    encoder.pix_fmt = "yuvj420p"
    encoder.time_base = Fraction(1, 25)  # one picture: any time base will do
    picture.pts = None
    encoder.options = {"qmin": str(quality), "qmax": str(quality)}
    packets = encoder.encode(picture) + encoder.encode(None)
    return b"".join(bytes(p) for p in packets)
