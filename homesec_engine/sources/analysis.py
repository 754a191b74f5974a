"""The cheap analysis decode: decoder settings and the small grey frame fed to motion detection.

Recordings keep the original packets, so the decode that only feeds motion detection may trade
picture quality for speed: it skips the in-loop deblocking filter and, where the decoder supports
it, chroma. (Measured with bench/motion.py; ``flags2=fast`` and ``skip_idct`` gave nothing for
H.264.) Motion runs at ``analysis_fps`` (:class:`FramePacer`): frames that are not due are not
analysed, and those the codec marks as non-reference are not even decoded
(``skip_frame=NONREF`` toggled per packet) -- this halves decode time on streams with B-frames or
temporal layers and changes nothing on streams where every frame is a reference. The grey
analysis frame is taken straight from the decoded luma plane (no colour conversion, no scaler).

:class:`MotionLink` hands motion state from an analysis substream's thread to the thread that
records the main stream, translating between the two streams' clocks.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable
from statistics import median
from typing import Any, cast

import av
import numpy as np

from .live import LatestFrame, convert
from .motion import MotionUpdate, downscale_gray

# Options applied when the decoder opens (FFmpeg AVCodecContext options).
ANALYSIS_DECODER_OPTIONS = {
    "skip_loop_filter": "all",  # deblocking is ~20 % of H.264 decode time (measured)
    "flags": "+gray",  # luma only where FFmpeg supports it: chroma is never looked at
}

# Planar YUV layouts whose first plane is full-resolution luma.
_LUMA_FIRST = {
    "yuv420p", "yuvj420p", "yuv422p", "yuvj422p", "yuv444p", "yuvj444p", "nv12", "nv21",
    "yuv420p10le", "gray",
}


def configure_analysis_decoder(codec_context: Any, threads: int = 1) -> None:
    """Set up a not-yet-opened video decoder for the analysis decode."""
    codec_context.options = {**dict(codec_context.options or {}), **ANALYSIS_DECODER_OPTIONS}
    codec_context.thread_count = max(1, int(threads))
    # Slice threads add no frame latency (frame threads would delay every frame).
    codec_context.thread_type = "SLICE"


def analysis_gray(frame: Any, analysis_width: int) -> np.ndarray:
    """A small uint8 grey image of a decoded ``av.VideoFrame`` for motion detection."""
    fmt = frame.format.name
    if fmt in _LUMA_FIRST and not fmt.endswith("10le"):
        plane = frame.planes[0]
        # The plane buffer is padded to line_size; view it without copying, then crop.
        buf = np.frombuffer(plane, dtype=np.uint8).reshape(plane.height, plane.line_size)
        return downscale_gray(buf[:, : plane.width], analysis_width)
    # Unusual pixel formats: let the scaler produce a small grey frame.
    height = max(1, round(frame.height * analysis_width / max(1, frame.width)))
    # (The frame is shared with snapshot and live-detection threads: never converted in place.)
    return cast(np.ndarray, convert(frame, analysis_width, height, "gray").to_ndarray())


class FramePacer:
    """Chooses which frames motion detection looks at: about ``fps`` per second.

    A frame is due once ``0.75 / fps`` has passed since the last analysed one, so a 15 fps
    stream is analysed every third frame and a 10 fps stream every second one (5 fps target).
    The detector compares consecutive *analysed* frames and works on stream times, so its
    semantics do not depend on the rate. ``fps <= 0`` analyses every frame.
    """

    def __init__(self, fps: float) -> None:
        self.min_gap_s = 0.75 / fps if fps > 0 else 0.0
        self._last: float | None = None

    def reset(self) -> None:
        self._last = None

    def due(self, t: float) -> bool:
        return self._last is None or t - self._last >= self.min_gap_s or t < self._last - 1.0

    def take(self, t: float) -> bool:
        """True (and remembered) when the frame at ``t`` is to be analysed."""
        if not self.due(t):
            return False
        self._last = t
        return True


# Keeping up: analysis frames are dropped once a stream is processed this far behind live, until
# it is back under CAUGHT_UP_S (recorded packets are never dropped, only their analysis).
BEHIND_S = 1.0
CAUGHT_UP_S = 0.25


class LagMeter:
    """How far behind live a stream is processed, in seconds.

    Arrival time minus stream time, relative to the smallest such offset seen on this
    connection: the network's and the camera's constant offsets cancel out, what remains is
    the time packets waited for us. Also tells whether analysis should drop frames
    (hysteresis between BEHIND_S and CAUGHT_UP_S).
    """

    def __init__(self) -> None:
        self._best: float | None = None
        self.lag_s = 0.0
        self.behind = False

    def reset(self) -> None:
        self._best, self.lag_s, self.behind = None, 0.0, False

    def update(self, t: float, now: float | None = None) -> float:
        offset = (time.monotonic() if now is None else now) - t
        if self._best is None or offset < self._best:
            self._best = offset
        self.lag_s = offset - self._best
        if self.lag_s > BEHIND_S:
            self.behind = True
        elif self.lag_s < CAUGHT_UP_S:
            self.behind = False
        return self.lag_s


class AnalysisDecoder:
    """The cheap decode that feeds motion detection, paced to ``fps`` analysed frames a second.

    Wraps a not-yet-opened decoder. Before each packet it tells the decoder whether the frame
    will be looked at: if not, non-reference frames are dropped undecoded (reference frames
    must still be decoded, later frames are predicted from them). Every picture it does
    decode goes to ``latest`` (the live picture), so that is never older than one frame
    interval on a camera without non-reference frames, and one analysis interval otherwise.
    """

    def __init__(self, codec_context: Any, fps: float, threads: int = 1,
                 latest: LatestFrame | None = None) -> None:
        configure_analysis_decoder(codec_context, threads)
        self._ctx = codec_context
        self._latest = latest
        self._pacer = FramePacer(fps)
        self._skipping = False
        self._synced = True  # the decoder has every reference the next packet may need
        self.decoded = 0  # pictures the decoder produced (skipped ones are not counted)
        self.intact = 0  # of them, those the decoder did not have to conceal errors in
        self.last_error: str | None = None  # why the last packet could not be decoded
        # Recent due frames: True when dropped to keep up (about the last 10 s at 5 fps).
        self._recent: deque[bool] = deque(maxlen=50)

    @property
    def dropped_share(self) -> float:
        """Share of recent frames due for analysis that were dropped to keep up (0..1)."""
        return sum(self._recent) / len(self._recent) if self._recent else 0.0

    def decode(self, packet: Any, t: float, time_base: Any,
               behind: bool = False) -> list[tuple[float, Any]]:
        """(stream time, av.VideoFrame) of the frames due for analysis in this packet.

        `behind`: the stream is processed late; only keyframes (which decode on their own)
        are analysed until it has caught up, then decoding resumes at the next keyframe.
        """
        if (behind or not self._synced) and not packet.is_keyframe:
            self._synced = False
            if self._pacer.take(t):
                self._recent.append(True)
            return []
        self._synced = True
        skip = not self._pacer.due(t)
        if skip != self._skipping:
            self._ctx.skip_frame = "NONREF" if skip else "DEFAULT"
            self._skipping = skip
        try:
            frames = self._ctx.decode(packet)
        except av.error.InvalidDataError as err:
            frames = []  # a damaged packet: skip its picture, keep the stream
            self.last_error = err.strerror or str(err)
        self.decoded += len(frames)
        self.intact += sum(not frame.is_corrupt for frame in frames)
        if frames and self._latest is not None:
            self._latest.put(frames[-1])
        due = []
        for frame in frames:
            ft = float(frame.pts * time_base) if frame.pts is not None else t
            if self._pacer.take(ft):
                due.append((ft, frame))
                self._recent.append(False)
        return due


class StreamUnusable(RuntimeError):
    """The camera sends data, but no picture can be made of it."""


class PictureWatch:
    """Whether a connected stream still yields pictures (one watch per connection).

    A camera can keep a connection busy with what no decoder can use: random payloads, a
    frame whose last fragment never comes. The read timeout never fires then, so progress is
    counted instead: an intact decoded picture on the stream that is decoded, a timestamped
    packet on one that is only recorded. `check` raises StreamUnusable, with what was seen,
    once there was none for `timeout_s` (the source then logs it, shows it as the camera's
    error and reconnects).
    """

    def __init__(self, timeout_s: float, decoder: Callable[[], AnalysisDecoder | None] | None,
                 now: float | None = None) -> None:
        self.timeout_s = timeout_s
        self._decoder = decoder  # None: the stream is only demuxed (recorded, not decoded)
        self._last = time.monotonic() if now is None else now
        self._seen = 0
        self._packets = self._untimed = 0  # since the last progress

    def packet(self, usable: bool, now: float | None = None) -> bool:
        """Count a demuxed packet (`usable`: it has a timestamp and data); True when the
        stream made progress since the last call (a picture, or a usable recorded packet)."""
        now = time.monotonic() if now is None else now
        if usable:
            self._packets += 1
        else:
            self._untimed += 1
        if self._decoder is None:
            progress = usable
        else:
            decoder = self._decoder()
            intact = decoder.intact if decoder is not None else 0
            progress, self._seen = intact > self._seen, intact
        if progress:
            self._last, self._packets, self._untimed = now, 0, 0
        elif now - self._last > self.timeout_s:
            raise StreamUnusable(self._reason(now))
        return progress

    def _reason(self, now: float) -> str:
        waited = f"no picture for {now - self._last:.0f} s"
        if not self._packets:
            return (f"{waited}: the camera sends data but no complete video frame "
                    f"({self._untimed} unusable packets)")
        decoder = self._decoder() if self._decoder is not None else None
        why = decoder.last_error if decoder is not None else None
        return (f"{waited}: the video cannot be decoded ({self._packets} packets"
                f"{f', {why}' if why else ''})")


class MotionLink:
    """Thread-safe hand-off of motion state from the analysis substream to the main stream.

    The substream and the main stream have unrelated timestamps. Both show the same instant at
    (about) the same arrival time, so the offset between the clocks is sampled whenever a
    substream packet arrives (main clock of the newest main packet minus the substream time);
    the median of recent samples irons out network jitter.
    """

    def __init__(self, samples: int = 15) -> None:
        self._lock = threading.Lock()
        self._main_t: float | None = None
        self._offsets: deque[float] = deque(maxlen=samples)
        self._update: MotionUpdate | None = None

    def main_restarted(self) -> None:
        """The main stream reconnected: its clock starts over."""
        with self._lock:
            self._main_t = None
            self._offsets.clear()

    def analysis_restarted(self) -> None:
        """The substream reconnected: its clock and its motion state start over."""
        with self._lock:
            self._offsets.clear()
            self._update = None

    def main_packet(self, t: float) -> None:
        with self._lock:
            self._main_t = t

    def analysis_packet(self, t: float) -> None:
        with self._lock:
            if self._main_t is not None:
                self._offsets.append(self._main_t - t)

    def publish(self, update: MotionUpdate) -> None:
        with self._lock:
            self._update = update

    def snapshot(self) -> tuple[MotionUpdate, float | None] | None:
        """The latest motion state in main-stream time, plus the run's identity.

        The identity is the run start in substream time: it does not move when the clock
        offset wobbles, so one run never opens two clips. None until both clocks are known.
        """
        with self._lock:
            update, offsets = self._update, list(self._offsets)
        if update is None or not offsets:
            return None
        off = median(offsets)
        return (
            MotionUpdate(
                update.moving,
                update.confirmed,
                None if update.run_start is None else update.run_start + off,
                None if update.last_motion is None else update.last_motion + off,
            ),
            update.run_start,
        )
