"""Live detection on the frames a source decodes for motion, in one worker thread per camera.

The source thread calls `watch`, `begin`, `offer`, `discard` and `end` (never blocking: a frame
waiting to be looked at is replaced by a newer one). Detection starts at motion onset (`watch`,
under the id the clip will get), before the motion is confirmed and the clip opens: what is
confirmed meanwhile is held and reported the moment the clip opens (`begin`), or dropped with
the motion run when it never confirms (`discard`), so unconfirmed motion never raises an event. The worker converts the frame, runs the camera's filter
backend on it with the clip filter's thresholds and zones, follows what it finds with the
camera's tracker (tracking/: confirmed over `min_hits` looks, moving or stationary), and reports
to its sink (LiveEvents) whenever the trigger classes of the *active* tracks change: a new
class (the event starts or grows), or one whose objects all stood still or left (a car that
parked goes quiet). A stationary object (a parked car) never starts an event. Then the clip's
close. The tracker is the camera's, not the clip's: a car parked during one clip is still
parked in the next.
A detector error on a live frame is logged once per clip and never reaches the source.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

import numpy as np

from ..filters.base import ObjectFilter
from ..filters.frames import SampledFrame
from ..records import Detection
from ..sources.live import convert
from ..tracking import Track, Tracker
from ..zones import CameraZones

_LOGGER = logging.getLogger(__name__)


@dataclass(slots=True)
class Found:
    """What the active tracks of a clip show now (their trigger classes changed)."""

    clip_id: str
    classes: list[str]  # every trigger class active at some point in this clip
    active: list[str]  # trigger classes of the tracks active now (moving, counting)
    zones: list[str]
    objects: list[dict[str, Any]]
    detections: list[Detection]  # those of this frame that count (drawn on the snapshot)
    rgb: np.ndarray


@dataclass(slots=True)
class _Clip:
    clip_id: str
    classes: set[str] = field(default_factory=set)
    active: set[str] = field(default_factory=set)
    counted: list[Detection] = field(default_factory=list)
    last_offer: float | None = None  # stream time of the last frame taken
    frames: int = 0
    failed: bool = False
    opened: bool = False  # the clip exists (begin); before that findings are held
    held: list[Found] = field(default_factory=list)


class LiveSink(Protocol):
    """Where a watch reports (LiveEvents); called from the watch's threads."""

    def recording(self, clip_id: str, started_at: datetime) -> None: ...
    def found(self, camera: str, found: Found) -> None: ...
    def closed(self, camera: str, clip_id: str, interrupted: bool) -> None: ...


def frame_rgb(frame: Any, width: int) -> np.ndarray:
    """An RGB array of a decoded av.VideoFrame, `width` pixels wide (never wider than it is)."""
    w = min(width, frame.width)
    h = max(2, round(frame.height * w / max(1, frame.width)))
    # The frame is shared with the source's other readers: converted from a private copy.
    rgb: np.ndarray = convert(frame, w, h - h % 2, "rgb24").to_ndarray()
    return rgb


class LiveWatch:
    def __init__(self, camera: str, object_filter: ObjectFilter, zones: CameraZones,
                 fps: float, sink: LiveSink) -> None:
        self.camera = camera
        self.filter = object_filter
        self.zones = zones
        # As the motion pacer: a frame is due once 3/4 of the period passed (jitter).
        self.min_gap_s = 0.75 / fps if fps > 0 else 0.0
        self.sink = sink
        self._clips: dict[str, _Clip] = {}
        self._work: deque[tuple[str, Any]] = deque()
        self._cond = threading.Condition()
        self._thread: threading.Thread | None = None
        self._stopping = False
        self.tracker: Tracker = object_filter.tracker()  # the worker's alone
        self.frames_detected = 0
        self.detect_cpu_s = 0.0  # thread CPU spent converting and detecting (bench)

    # --- source side (any thread) --------------------------------------------------------
    def watch(self, clip_id: str) -> None:
        """Motion began: detect on its frames under the id its clip will get, if it opens."""
        with self._cond:
            if clip_id not in self._clips:
                self._clips[clip_id] = _Clip(clip_id)
            self._ensure_thread()

    def begin(self, clip_id: str, started_at: datetime) -> None:
        """A clip opened (motion confirmed): what its watch found so far is reported now."""
        self.sink.recording(clip_id, started_at)
        with self._cond:
            clip = self._clips.get(clip_id)
            if clip is None:
                clip = self._clips[clip_id] = _Clip(clip_id)
            clip.opened = True
            held, clip.held = clip.held, []
            for found in held:  # under the lock: in order with what the worker finds next
                self.sink.found(self.camera, found)
            self._ensure_thread()

    def discard(self, clip_id: str) -> None:
        """The motion run ended unconfirmed: no clip, so nothing it found is reported."""
        with self._cond:
            clip = self._clips.get(clip_id)
            if clip is not None and not clip.opened:
                del self._clips[clip_id]

    def offer(self, clip_id: str, t: float, frame: Any) -> bool:
        """Hand over a decoded frame at stream time `t`; False when not due (paced)."""
        with self._cond:
            clip = self._clips.get(clip_id)
            if clip is None or (clip.last_offer is not None
                                and 0 <= t - clip.last_offer < self.min_gap_s):
                return False
            clip.last_offer = t
            # Only the newest frame waits: a detector slower than the stream skips frames.
            self._work = deque(w for w in self._work if w[0] != "frame")
            self._work.append(("frame", (clip_id, t, frame)))
            self._cond.notify()
        return True

    def end(self, clip_id: str, interrupted: bool) -> None:
        with self._cond:
            if clip_id not in self._clips:
                return
            self._work.append(("end", (clip_id, interrupted)))
            self._cond.notify()

    def stop(self) -> None:
        with self._cond:
            self._stopping = True
            self._cond.notify()
        if self._thread is not None:
            self._thread.join(timeout=10)

    # --- worker ----------------------------------------------------------------------------
    def _ensure_thread(self) -> None:
        if self._thread is None or not self._thread.is_alive():
            self._stopping = False
            self._thread = threading.Thread(target=self._loop, daemon=True,
                                            name=f"homesec-live-{self.camera}")
            self._thread.start()

    def _loop(self) -> None:
        while True:
            with self._cond:
                while not self._work and not self._stopping:
                    self._cond.wait()
                if self._stopping and not self._work:
                    return
                kind, item = self._work.popleft()
            if kind == "frame":
                self._detect(*item)
            else:
                clip_id, interrupted = item
                with self._cond:
                    self._clips.pop(clip_id, None)
                self.sink.closed(self.camera, clip_id, interrupted)

    def _detect(self, clip_id: str, t: float, frame: Any) -> None:
        clip = self._clips.get(clip_id)
        if clip is None:
            return
        started = time.thread_time()
        try:
            rgb = frame_rgb(frame, self.filter.frame_width)
            found = [d for d in self.filter.detect_frame(SampledFrame(clip.frames, t, rgb))
                     if d.confidence >= self.filter.threshold(d.label)]
        except Exception as err:  # the clip filter still judges the clip; recording goes on
            if not clip.failed:
                _LOGGER.warning("camera %s: live detection failed on clip %s: %s: %s",
                                self.camera, clip_id, type(err).__name__, err)
            clip.failed = True
            return
        finally:
            self.detect_cpu_s += time.thread_time() - started
        clip.frames += 1
        self.frames_detected += 1
        triggers = self.filter.trigger_classes
        update = self.tracker.update(found, time.monotonic(), rgb)
        counting = [t for t in update.active if t.label in triggers and _counts(self.zones, t)]
        active = {t.label for t in counting}
        clip.counted.extend(t.last_detection for t in counting if t.last_detection is not None
                            and t.last_seen == update.timestamp)
        new = active - clip.classes
        if not new and (active == clip.active or not clip.classes):
            return
        clip.classes |= active
        clip.active = active
        stood = [t for t in update.stationary if t.label in triggers and _counts(self.zones, t)]
        found_now = Found(
            clip_id=clip_id, classes=sorted(clip.classes), active=sorted(active),
            zones=self.zones.zones_hit(clip.counted), objects=live_objects(counting, stood),
            detections=[t.last_detection for t in counting if t.last_detection is not None
                        and t.last_seen == update.timestamp],
            rgb=rgb)
        with self._cond:
            if self._clips.get(clip_id) is not clip:
                return  # discarded meanwhile: its motion never confirmed
            if clip.opened:
                self.sink.found(self.camera, found_now)
            else:
                clip.held.append(found_now)


def _counts(zones: CameraZones, track: Track) -> bool:
    return track.last_detection is not None and zones.counts(track.last_detection)


def live_objects(active: list[Track], stationary: list[Track]) -> list[dict[str, Any]]:
    """Per class (schema ClipObject): how many are active now, how many stand still."""
    out: list[dict[str, Any]] = []
    for label in sorted({t.label for t in (*active, *stationary)}):
        moving = [t for t in active if t.label == label]
        still = [t for t in stationary if t.label == label]
        out.append({
            "class": label, "count": len(moving), "stationary": len(still),
            "confidence": round(max(t.confidence for t in (*moving, *still)), 4),
            "boxes": [[round(float(v), 4) for v in t.box] for t in moving or still],
        })
    return out
