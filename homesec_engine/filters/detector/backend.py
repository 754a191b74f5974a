"""The `detector` filter backend: a trained COCO detector (ONNX, onnxruntime) on sampled frames.

Frames are decoded at the model's own input width, letterboxed to its input size (a model whose
size is open gets a canvas of the frame's shape: model.py), run, decoded per family
(decoders.py), mapped onto HomeSec's classes (coco.py), suppressed per class (nms.py) and
thresholded; the shared loop in ..base confirms them over `min_hits` frames.

With `region_width` set (the default), frames are decoded up to that width and, besides the
whole-frame pass, the model also looks at one crop at its own resolution around what moved
since the previous sampled frame and around what the previous frame showed (regions.py), so a
subject far from the camera is not lost in the letterbox.

A model that cannot be used (missing, corrupt, no known family, wrong input size) does not stop
the engine: the filter reports `degraded` with the error naming the field, and clips go on
being recorded and stored, judged by `on_model_error` (`motion`: alert as motion, `hold`: no
alert) until the model is fixed.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from ...records import Detection, FilterResult
from ..base import Counts, FilterError, FilterOutput, ObjectFilter
from ..frames import SampledFrame, pick_frames
from .coco import CLASS_BY_INDEX
from .decoders import DECODERS
from .model import LoadedModel, load_model
from .nms import nms_by_label
from .preprocess import brighten_dark, letterbox, to_tensor
from .regions import Box, RegionPlanner, crop, to_frame

_LOGGER = logging.getLogger(__name__)

# Candidates of the previous frame at or above this score are looked at again (a second look at
# the model's resolution where the first was unsure).
LOOK_AGAIN = 0.25
Candidates = tuple[np.ndarray, np.ndarray, list[str]]  # boxes (x, y, w, h fractions), scores, labels


class DetectorFilter(ObjectFilter):
    name: ClassVar[str] = "detector"
    default_min_hits: ClassVar[int] = 2

    def __init__(self, config: dict[str, Any]) -> None:
        super().__init__(config)
        self.model_path: str | None = config.get("model_path")
        self.family: str | None = config.get("family")
        self.input_size: list[int] | None = config.get("input_size")
        self.threads = int(config.get("threads", 0))
        self.region_width = int(config.get("region_width", 1920))
        self.low_light = bool(config.get("low_light", True))
        self.model: LoadedModel | None = None
        self._streams = threading.local()  # per thread: the RegionPlanner of its stream
        self._keyed: dict[str, _Stream] = {}  # per live camera (see stream())
        self.error: str | None = None

    def apply_settings(self, config: dict[str, Any]) -> None:
        super().apply_settings(config)
        self.min_box_size = float(config.get("min_box_size", 0.0))
        self.nms_iou = float(config.get("nms_iou", 0.5))
        self.on_model_error: str = config.get("on_model_error", "motion")
        # Decoding floor: the lowest threshold of any class, so per-class settings still work.
        self._floor = min([self.min_confidence, *self.class_min_confidence.values(),
                           LOOK_AGAIN])

    async def start(self) -> None:
        try:
            self.model = await asyncio.to_thread(load_model, self.model_path, self.family,
                                                 self.input_size, self.threads)
        except FilterError as err:
            self.error = str(err)
            _LOGGER.error("object detector unavailable, clips are judged by on_model_error=%s: "
                          "%s", self.on_model_error, err)
            return
        self.frame_width = max(self.model.width, self.region_width)

    async def close(self) -> None:
        self.model = None

    def status(self) -> dict[str, Any]:
        if self.model is None and self.error is None:  # not used yet: nothing loaded or wrong
            return {"status": "ok", "error": None, "backend": self.name, "loaded": False}
        if self.model is None:
            return {"status": "degraded", "error": self.error, "backend": self.name,
                    "fallback": self.on_model_error}
        return {"status": "ok", "error": None, "backend": self.name,
                "model": self.model.path.name, "family": self.model.family,
                "input_size": [self.model.width, self.model.height], "loaded": True}

    def run_sync(self, path: Path, counts: Counts | None = None) -> FilterOutput:
        if self.model is None:
            return self._fallback(path)
        self._stream().reset()  # a new clip: no motion against the last clip's frames
        return super().run_sync(path, counts)

    @contextmanager
    def stream(self, key: str) -> Iterator[None]:
        """The region planner of stream `key` for this block (the live queue's workers
        detect for every camera: per thread would compare one camera's frame to another's)."""
        outer = getattr(self._streams, "state", None)
        state = self._keyed.get(key)
        if state is None and self.model is not None:
            state = self._keyed[key] = _Stream(RegionPlanner(self.model.width,
                                                             self.model.height))
        self._streams.state = state
        try:
            yield
        finally:
            self._streams.state = outer

    def _stream(self) -> _Stream:
        stream: _Stream | None = getattr(self._streams, "state", None)
        if stream is None:
            assert self.model is not None
            stream = self._streams.state = _Stream(RegionPlanner(self.model.width,
                                                                 self.model.height))
        return stream

    def _fallback(self, path: Path) -> FilterOutput:
        """The clip without a detector: a frame for the snapshot, the fallback named."""
        try:
            frames = pick_frames(path, 1, 640)
        except Exception as err:  # an unreadable clip is the filter's error, as usual
            raise FilterError(f"{type(err).__name__}: {err}") from err
        return FilterOutput(FilterResult([], len(frames)), frames[0] if frames else None,
                            fallback=self.on_model_error,
                            extra={"error": self.error})

    def detect_frame(self, frame: SampledFrame) -> list[Detection]:
        stream = self._stream()
        regions = [] if not self.region_width else \
            stream.planner.regions(frame.rgb, stream.unsure)
        detections, stream.unsure = self._detect(frame.rgb, frame.index, regions)
        return detections

    def detect(self, rgb: np.ndarray, frame_index: int = 0, regions: Sequence[Box] = ()
               ) -> list[Detection]:
        """Detections of HomeSec classes in one RGB frame (boxes as frame fractions).

        `regions` (x, y, w, h in frame pixels, e.g. from regions.RegionPlanner) are looked at
        too, each at the model's resolution; what they find joins the whole frame's boxes.
        """
        return self._detect(rgb, frame_index, regions)[0]

    def _detect(self, rgb: np.ndarray, frame_index: int, regions: Sequence[Box]
                ) -> tuple[list[Detection], list[Box]]:
        """Detections, and the boxes (frame pixels) of unsure candidates to look at again."""
        frame_h, frame_w = rgb.shape[:2]
        parts = [self._candidates(rgb)]
        for region in regions:
            boxes, scores, labels = self._candidates(crop(rgb, region))
            parts.append((to_frame(boxes, region, frame_w, frame_h), scores, labels))
        boxes = np.concatenate([p[0] for p in parts]).reshape(-1, 4)
        scores = np.concatenate([p[1] for p in parts])
        labels = [label for p in parts for label in p[2]]
        if len(parts) > 1 and len(scores):  # one box per subject seen by several passes
            xyxy = np.concatenate([boxes[:, :2], boxes[:, :2] + boxes[:, 2:]], axis=1)
            keep = nms_by_label(xyxy, scores, labels, self.nms_iou)
            boxes, scores, labels = boxes[keep], scores[keep], [labels[i] for i in keep]
        detections, unsure = [], []
        for (x, y, w, h), score, label in zip(boxes.tolist(), scores.tolist(), labels,
                                              strict=True):
            if score < self.threshold(label):
                unsure.append((x * frame_w, y * frame_h, w * frame_w, h * frame_h))
                continue
            detections.append(Detection(label, round(float(score), 4), frame_index,
                                        (round(x, 4), round(y, 4), round(w, 4), round(h, 4))))
        return detections, unsure

    def _candidates(self, rgb: np.ndarray) -> Candidates:
        """One pass of the model over a picture: HomeSec-class boxes as its fractions."""
        model = self.model
        if model is None:
            raise FilterError(self.error or "the detector model is not loaded")
        width, height = model.canvas_size(rgb.shape[1], rgb.shape[0])
        canvas, box = letterbox(rgb, width, height, model.family)
        if self.low_light:
            canvas = brighten_dark(canvas, box)
        outputs = model.run(to_tensor(canvas, model.family, model.nhwc, model.dtype))
        boxes, scores, classes = DECODERS[model.family](
            [o.astype(np.float32) for o in outputs], model.layout, height, width, self._floor)
        # Suppressed per HomeSec class, not per COCO class: a model that scores one van as
        # both car and truck (CenterNet's per-class peaks) reports one vehicle.
        mapped = [CLASS_BY_INDEX[int(i)] for i in classes.tolist()]
        ours = [i for i, label in enumerate(mapped) if label is not None]
        boxes, scores = boxes[ours], scores[ours]
        labels = [str(mapped[i]) for i in ours]
        keep = nms_by_label(boxes, scores, labels, self.nms_iou)
        fractions = box.to_fractions(boxes[keep]) if len(keep) else np.zeros((0, 4))
        # The smallest box is judged in the picture the model saw (frame or region): it is
        # about what the model can resolve, not about the camera's resolution.
        rows = [n for n in range(len(keep)) if min(fractions[n, 2:]) >= self.min_box_size]
        return fractions[rows].reshape(-1, 4), scores[keep][rows], \
            [labels[keep[n]] for n in rows]


class _Stream:
    """What one stream's next frame needs: its region planner and the last unsure boxes."""

    __slots__ = ("planner", "unsure")

    def __init__(self, planner: RegionPlanner) -> None:
        self.planner = planner
        self.unsure: list[Box] = []

    def reset(self) -> None:
        self.planner.reset()
        self.unsure = []
