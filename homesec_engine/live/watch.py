"""Live detection on the frames a source decodes for motion, run by the detector's shared queue.

The source thread calls `watch`, `begin`, `offer`, `discard` and `end` (never blocking: a frame
waiting to be looked at is replaced by a newer one). Detection starts at motion onset (`watch`,
under the id the clip will get), before the motion is confirmed and the clip opens: what is
confirmed meanwhile is held and reported the moment the clip opens (`begin`), or dropped with
the motion run when it never confirms (`discard`), so unconfirmed motion never raises an event.

The detector's InferenceQueue (inference_queue.py, two workers for every camera, never both on
one camera) takes this camera's items in order and runs them here: it converts the frame, runs
the camera's filter backend on it with the clip filter's thresholds and zones, follows what it
finds with the camera's tracker (tracking/: confirmed over `min_hits` looks, moving or
stationary), and reports to its sink (alerts.owner.CameraEvents) whenever the trigger classes
of the *active* tracks change: a new class (the event starts or grows), or one whose objects
all stood still or left (a car that parked goes quiet). A stationary object (a parked car)
never starts an event. Then the clip's close. The tracker is the camera's, not the clip's: a car parked during one clip is still
parked in the next.
Until the clip's event starts, frames are taken at `fps` and go first (first sight; sooner when
the last look saw a subject that one more look confirms); after it,
at `follow_fps` (to follow it and catch a new class), slower still while everything it follows
stands still (the tracker's stationary tracks), and they are dropped when the queue is late.
`stats()` says how fast this camera is analysed and how long its frames wait.
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
from .inference_queue import CONFIRM_HEAD_START_S, END, FIRST_SIGHT, FOLLOW_UP, InferenceQueue

_LOGGER = logging.getLogger(__name__)

STATIONARY_SLOWDOWN = 4.0  # follow-ups this much rarer while every followed object stands still
STATS_WINDOW_S = 10.0  # analysis rate and queue delay are over this many recent seconds


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
    """Where a watch reports (CameraEvents); called from the watch's threads."""

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
                 fps: float, sink: LiveSink, queue: InferenceQueue | None = None,
                 follow_fps: float | None = None) -> None:
        self.camera = camera
        self.filter = object_filter
        self.zones = zones
        # As the motion pacer: a frame is due once 3/4 of the period passed (jitter).
        self.min_gap_s = 0.75 / fps if fps > 0 else 0.0
        follow = fps if follow_fps is None else min(follow_fps, fps)
        self.follow_gap_s = 0.75 / follow if follow > 0 else 0.0
        self.sink = sink
        self._clips: dict[str, _Clip] = {}
        # (kind, monotonic time queued, payload); at most one "frame" waits.
        self._work: deque[tuple[str, float, Any]] = deque()
        self._cond = threading.Condition()
        self._own_queue = queue is None  # made alone (tests): a queue of its own
        self.queue = queue or InferenceQueue(camera)
        self.queue.join(self)
        self.tracker: Tracker = object_filter.tracker()  # fed by the queue's worker alone
        # The last look saw a trigger-class subject not confirmed yet (set by the worker, read
        # by the queue's picks): its next frame may start the event.
        self._confirming = False
        self.frames_detected = 0
        self.frames_offered = 0
        self.frames_replaced = 0  # a newer frame came before this one was looked at
        self.follow_ups_stale = 0  # dropped: waited past the queue's deadline
        self.detect_cpu_s = 0.0  # thread CPU spent converting and detecting (bench)
        self._done: deque[tuple[float, float]] = deque(maxlen=256)  # (when, queue delay)
        self._stale_at: deque[float] = deque(maxlen=64)

    # --- source side (any thread) --------------------------------------------------------
    def watch(self, clip_id: str) -> None:
        """Motion began: detect on its frames under the id its clip will get, if it opens."""
        with self._cond:
            if clip_id not in self._clips:
                self._clips[clip_id] = _Clip(clip_id)

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
                                and 0 <= t - clip.last_offer < self._gap(clip)):
                return False
            clip.last_offer = t
            self.frames_offered += 1
            # Only the newest frame waits: a detector slower than the stream skips frames.
            waiting = len(self._work)
            self._work = deque(w for w in self._work if w[0] != "frame")
            self.frames_replaced += waiting - len(self._work)
            self._work.append(("frame", time.monotonic(), (clip_id, t, frame)))
        self.queue.wake()
        return True

    def _gap(self, clip: _Clip) -> float:
        """Seconds between frames looked at: first sight, following, or all standing still."""
        if not clip.classes:
            return self.min_gap_s
        tracker = self.tracker
        if tracker.tracks and not tracker.active():
            return self.follow_gap_s * STATIONARY_SLOWDOWN
        return self.follow_gap_s

    def end(self, clip_id: str, interrupted: bool) -> None:
        with self._cond:
            if clip_id not in self._clips:
                return
            self._work.append(("end", time.monotonic(), (clip_id, interrupted)))
        self.queue.wake()

    def stop(self, timeout: float = 10.0) -> None:
        """Finish what waits (a clip's close is reported), then leave the queue."""
        deadline = time.monotonic() + timeout
        self.queue.wake()
        while time.monotonic() < deadline:
            with self._cond:
                if not self._work:
                    break
            time.sleep(0.02)
        self.queue.leave(self)
        if self._own_queue:
            self.queue.stop()

    # --- the queue's side ------------------------------------------------------------------
    def head(self) -> tuple[int, float] | None:
        with self._cond:
            if not self._work:
                return None
            kind, queued_at, item = self._work[0]
            if kind == "end":
                return END, queued_at
            clip = self._clips.get(item[0])
            if clip is not None and clip.classes:
                return FOLLOW_UP, queued_at
            if self._confirming:
                return FIRST_SIGHT, queued_at - CONFIRM_HEAD_START_S
            return FIRST_SIGHT, queued_at

    def run_head(self, now: float, drop_stale: bool) -> None:
        with self._cond:
            if not self._work:
                return
            kind, queued_at, item = self._work.popleft()
        if kind == "end":
            clip_id, interrupted = item
            with self._cond:
                self._clips.pop(clip_id, None)
            self.sink.closed(self.camera, clip_id, interrupted)
            return
        if drop_stale:
            self.follow_ups_stale += 1
            self._stale_at.append(now)
            return
        self._done.append((now, now - queued_at))
        self._detect(*item)

    def stats(self) -> dict[str, Any]:
        """How this camera's live detection keeps up: frames analysed a second and the median
        wait in the queue over the last STATS_WINDOW_S (a frame waiting longer now counts),
        frames dropped, and whether follow-ups were dropped lately (the queue is saturated)."""
        now = time.monotonic()
        recent = [(w, d) for w, d in list(self._done) if now - w <= STATS_WINDOW_S]
        delays = sorted(d for _, d in recent)
        delay = delays[len(delays) // 2] if delays else 0.0
        with self._cond:
            waiting = [now - q for k, q, _ in self._work if k == "frame"]
            active = bool(self._clips)
        if waiting:
            delay = max(delay, waiting[0])
        return {
            "active": active,
            "rate_fps": round(len(recent) / STATS_WINDOW_S, 2),
            "delay_s": round(delay, 3),
            "offered": self.frames_offered,
            "detected": self.frames_detected,
            "dropped": self.frames_replaced + self.follow_ups_stale,
            "follow_ups_stale": self.follow_ups_stale,
            "saturated": any(now - s <= STATS_WINDOW_S for s in list(self._stale_at)),
        }

    def _detect(self, clip_id: str, t: float, frame: Any) -> None:
        clip = self._clips.get(clip_id)
        if clip is None:
            return
        started = time.thread_time()
        try:
            rgb = frame_rgb(frame, self.filter.frame_width)
            with self.filter.stream(self.camera):
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
        self._confirming = any(not t.confirmed and t.label in triggers and _counts(self.zones, t)
                               for t in update.seen)
        active = {t.label for t in counting}
        here = [t.last_detection for t in counting
                if t.last_detection is not None and t.last_seen == update.timestamp]
        clip.counted.extend(here)
        new = active - clip.classes
        if not new and (active == clip.active or not clip.classes):
            return
        clip.classes |= active
        clip.active = active
        stood = [t for t in update.stationary if t.label in triggers and _counts(self.zones, t)]
        found_now = Found(
            clip_id=clip_id, classes=sorted(clip.classes), active=sorted(active),
            zones=self.zones.zones_hit(clip.counted), objects=live_objects(counting, stood),
            detections=here, rgb=rgb)
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
