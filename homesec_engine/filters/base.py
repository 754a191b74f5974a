"""The filter interface: sampled frames in, normalised detections out, with early exit.

A backend implements `detect_frame` (and, when it needs the whole clip first, `prepare`).
The shared loop samples frames at `sample_fps` (decoded `frame_width` pixels wide), keeps
detections at or above `min_confidence` (or the class's own `class_min_confidence`) that are
confirmed over `min_hits` consecutive sampled frames (confirm.py), stops as soon as a trigger
class is confirmed (and, when the caller passes `counts`, that detection counts: e.g. it is
inside one of the camera's zones), and keeps the frame of the best detection for the clip's
snapshot.
"""

from __future__ import annotations

import asyncio
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from ..records import Detection, FilterResult
from .confirm import Confirmation
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

    @property
    def classes(self) -> list[str]:
        return self.result.classes


class FilterError(Exception):
    """The clip could not be filtered (unreadable video, broken model)."""


class ObjectFilter(ABC):
    """Base of filter backends. `config` is the validated FilterConfig dict."""

    name: ClassVar[str] = "filter"
    needs_whole_clip: ClassVar[bool] = False  # True: prepare() sees every sampled frame first

    def __init__(self, config: dict[str, Any]) -> None:
        self.config = config
        self.sample_fps = float(config.get("sample_fps", 2.0))
        self.min_confidence = float(config.get("min_confidence", 0.5))
        self.trigger_classes = frozenset(config.get("trigger_classes") or ())
        self.class_min_confidence: dict[str, float] = {
            str(k): float(v) for k, v in (config.get("class_min_confidence") or {}).items()}
        self.min_hits = max(1, int(config.get("min_hits", 1)))
        self.frame_width = ANALYSIS_WIDTH  # a trained detector asks for its input size
        self.started = False
        self._starting: asyncio.Future[None] | None = None

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

    @abstractmethod
    def detect_frame(self, frame: SampledFrame) -> list[Detection]:
        """Detections in one frame (labels already normalised, any confidence)."""

    async def run(self, path: Path, counts: Counts | None = None) -> FilterOutput:
        await self.ensure_started()
        return await asyncio.to_thread(self.run_sync, path, counts)

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
        kept: list[Detection] = []
        best: tuple[Detection, np.ndarray] | None = None
        sampled: list[tuple[np.ndarray, float]] = []
        times: dict[int, float] = {}  # id(frame.rgb) -> its time, to find the best frame again
        confirmation = Confirmation(self.min_hits)
        early = False
        for frame in frames:
            sampled.append((frame.rgb, frame.time_s))
            times[id(frame.rgb)] = frame.time_s
            found = [d for d in self.detect_frame(frame) if d.confidence >= self.threshold(d.label)]
            for det, rgb in confirmation.add(found, frame.rgb):
                kept.append(det)
                if best is None or _better(det, best[0], self.trigger_classes, counts):
                    best = (det, rgb)
            if any(d.label in self.trigger_classes and counts(d) for d in kept):
                early = True
                break
        if not early:
            for det, rgb in confirmation.finish():
                kept.append(det)
                if best is None or _better(det, best[0], self.trigger_classes, counts):
                    best = (det, rgb)
        kept.sort(key=lambda d: d.frame_index)
        result = FilterResult(detections=kept, frames_sampled=len(sampled))
        if best is not None:
            return FilterOutput(result, best[1], best[0], early,
                                best_time_s=times.get(id(best[1])))
        middle = len(sampled) // 2
        if not sampled:
            return FilterOutput(result, None, None, early)
        return FilterOutput(result, sampled[middle][0], None, early, best_time_s=sampled[middle][1])


Counts = Callable[[Detection], bool]


def _always(_detection: Detection) -> bool:
    return True


def _better(new: Detection, old: Detection, triggers: frozenset[str], counts: Counts) -> bool:
    """Counting trigger classes beat the rest; then the higher confidence wins."""
    new_key = (new.label in triggers and counts(new), new.label in triggers, new.confidence)
    old_key = (old.label in triggers and counts(old), old.label in triggers, old.confidence)
    return new_key > old_key
