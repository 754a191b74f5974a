"""The filter interface: sampled frames in, the clip's tracked objects out.

A backend implements `detect_frame` (and, when it needs the whole clip first, `prepare`).
The shared loop samples frames at `sample_fps` (decoded `frame_width` pixels wide), keeps
detections at or above `min_confidence` (or the class's own `class_min_confidence`) and follows
them as tracks (tracking/: confirmed over `min_hits` looks, moving or stationary). The whole
clip is looked at: the judgement comes from all its tracks (a parked van confirmed first does
not hide the people walking past it). When the caller passes `counts` (e.g. inside one of the
camera's zones), only tracks with a look that counts are judged. The picture kept for the
snapshot is the best look of the most important class that moved (tracking/judgement.py).
"""

from __future__ import annotations

import asyncio
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager, nullcontext
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from ..records import Detection, FilterResult
from ..tracking import Tracker, TrackerSettings
from ..tracking.judgement import ClipTracks
from .background import run_below_live
from .frames import ANALYSIS_WIDTH, SampledFrame, sample_frames


@dataclass(slots=True)
class FilterOutput:
    result: FilterResult
    best_frame: np.ndarray | None = None  # RGB frame of the best detection (or a middle frame)
    best_detection: Detection | None = None
    early_exit: bool = False
    extra: dict[str, Any] = field(default_factory=dict)
    # Set when the detector could not run: "motion" (the clip counts as triggered) or "hold".
    fallback: str | None = None
    best_time_s: float | None = None  # where best_frame is in the clip (for the snapshot)
    tracks: ClipTracks | None = None  # the clip's tracked objects (None: no detector ran)

    @property
    def classes(self) -> list[str]:
        return self.result.classes


class FilterError(Exception):
    """The clip could not be filtered (unreadable video, broken model)."""


class ObjectFilter(ABC):
    """Base of filter backends. `config` is the validated FilterConfig dict."""

    name: ClassVar[str] = "filter"
    needs_whole_clip: ClassVar[bool] = False  # True: prepare() sees every sampled frame first

    # min_hits when the config does not say (the detector's own is higher: one look is noise)
    default_min_hits: ClassVar[int] = 1

    def __init__(self, config: dict[str, Any]) -> None:
        self.config = config
        self.trigger_classes = frozenset(config.get("trigger_classes") or ())
        self.frame_width = ANALYSIS_WIDTH  # a trained detector asks for its input size
        self.started = False
        self._starting: asyncio.Future[None] | None = None
        # Around each inference of a clip's judgement: the live inference queue's turn once
        # cameras detect live with this filter (live/inference_queue.py), else nothing.
        self.clip_turn: Callable[[], AbstractContextManager[None]] = nullcontext
        self.apply_settings(config)

    def apply_settings(self, config: dict[str, Any]) -> None:
        """Take the settings of a FilterConfig that apply live (config.diff.
        LIVE_FILTER_FIELDS) and its `tracking` section (the runtime passes it in; refused here
        naming the field): the next frame and clip are judged with them, without starting
        the filter again. This filter is their one owner: its trackers read them here."""
        self.sample_fps = float(config.get("sample_fps", 2.0))
        self.min_confidence = float(config.get("min_confidence", 0.5))
        self.class_min_confidence: dict[str, float] = {
            str(k): float(v) for k, v in (config.get("class_min_confidence") or {}).items()}
        self.tracking = TrackerSettings.from_config(
            config.get("tracking"), min_hits=int(config.get("min_hits", self.default_min_hits)))

    @property
    def min_hits(self) -> int:
        """Looks a track needs to be confirmed (the tracking settings carry it)."""
        return self.tracking.min_hits

    def tracker(self) -> Tracker:
        """A new tracker (one per clip, or per live camera) that reads this filter's settings
        at every frame: a change of `min_hits` or of the tracking section applies to it at
        once, as the thresholds do."""
        return Tracker(lambda: self.tracking)

    def threshold(self, label: str) -> float:
        """The lowest confidence kept for `label`."""
        return self.class_min_confidence.get(label, self.min_confidence)

    async def start(self) -> None:
        """Load what the backend needs (model files); errors here are start-up errors."""

    async def ensure_started(self) -> None:
        """Start on first use: an engine none of whose cameras uses this filter never loads
        its model (the runtime starts at once only the filters its cameras use)."""
        if self.started:
            return
        if self._starting is None:
            self._starting = asyncio.ensure_future(self.start())
        try:
            await asyncio.shield(self._starting)
        finally:
            if self._starting.done():
                self.started = True

    async def close(self) -> None:
        """Release what start() loaded."""

    def status(self) -> dict[str, Any]:
        return {"status": "ok", "error": None, "backend": self.name}

    def prepare(self, frames: Sequence[SampledFrame]) -> None:
        """Called with every sampled frame when `needs_whole_clip` (e.g. a background model)."""

    @contextmanager
    def stream(self, key: str) -> Iterator[None]:
        """Frames detected in this block belong to stream `key` (a live camera): a backend that
        keeps state from one frame of a stream to the next keeps it per key, since the live
        queue's workers detect for every camera."""
        yield

    @abstractmethod
    def detect_frame(self, frame: SampledFrame) -> list[Detection]:
        """Detections in one frame (labels already normalised, any confidence)."""

    async def run(self, path: Path, counts: Counts | None = None) -> FilterOutput:
        await self.ensure_started()
        # Below live detection's CPU priority (background.py).
        return await run_below_live(self.run_sync, path, counts)

    def run_sync(self, path: Path, counts: Counts | None = None) -> FilterOutput:
        try:
            frames: Iterable[SampledFrame] = sample_frames(path, self.sample_fps,
                                                           self.frame_width)
            if self.needs_whole_clip:
                frames = list(frames)
                self.prepare(frames)
            return self._scan(iter(frames), counts or _always)
        except FilterError:
            raise
        except Exception as err:  # PyAV/numpy/runtime errors: one clear error type
            raise FilterError(f"{type(err).__name__}: {err}") from err

    def _scan(self, frames: Iterator[SampledFrame], counts: Counts) -> FilterOutput:
        tracker = self.tracker()
        clip = ClipTracks()
        sampled: list[tuple[np.ndarray, float]] = []
        seen: dict[int, Any] = {}  # track id -> track, every one the clip had
        for frame in frames:
            sampled.append((frame.rgb, frame.time_s))
            with self.clip_turn():
                detected = self.detect_frame(frame)
            found = [d for d in detected if d.confidence >= self.threshold(d.label)]
            update = tracker.update(found, frame.time_s, frame.rgb)
            clip.add_looks(update.seen, counts)
            for track in update.seen:
                seen.setdefault(track.id, track)
        clip.tracks = [t for t in seen.values() if t.confirmed]
        if len(sampled) < tracker.settings.min_hits:
            # A clip shorter than min_hits looks (a still picture): what every look saw counts.
            clip.tracks = [t for t in seen.values() if t.hits == len(sampled)]
            for track in clip.tracks:
                track.confirmed = True
                track.was_active = track.was_active or track.moving
        result = FilterResult(detections=clip.detections(), frames_sampled=len(sampled))
        headline = clip.headline(self.tracking.activity_priority)
        if headline is not None and headline.best is not None \
                and isinstance(headline.best_ref, np.ndarray):
            return FilterOutput(result, headline.best_ref, headline.best, False,
                                best_time_s=headline.best_time, tracks=clip)
        middle = len(sampled) // 2
        if not sampled:
            return FilterOutput(result, None, None, False, tracks=clip)
        return FilterOutput(result, sampled[middle][0], None, False,
                            best_time_s=sampled[middle][1], tracks=clip)


Counts = Callable[[Detection], bool]


def _always(_detection: Detection) -> bool:
    return True
