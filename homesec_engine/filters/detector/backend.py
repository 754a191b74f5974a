"""The `detector` filter backend: a trained COCO detector (ONNX, onnxruntime) on sampled frames.

Frames are decoded at the model's own input width, letterboxed to its input size, run, decoded
per family (decoders.py), suppressed (nms.py), mapped onto HomeSec's classes (coco.py) and
thresholded; the shared loop in ..base confirms them over `min_hits` frames.

A model that cannot be used (missing, corrupt, no known family, wrong input size) does not stop
the engine: the filter reports `degraded` with the error naming the field, and clips go on
being recorded and stored, judged by `on_model_error` (`motion`: alert as motion, `hold`: no
alert) until the model is fixed.
"""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from ...records import Detection, FilterResult
from ..base import Counts, FilterError, FilterOutput, ObjectFilter
from ..frames import SampledFrame, pick_frames
from .coco import CLASS_BY_INDEX
from .decoders import DECODERS
from .model import LoadedModel, load_model
from .nms import nms
from .preprocess import letterbox, to_tensor

_LOGGER = logging.getLogger(__name__)


class DetectorFilter(ObjectFilter):
    name: ClassVar[str] = "detector"

    def __init__(self, config: dict[str, Any]) -> None:
        super().__init__(config)
        self.model_path: str | None = config.get("model_path")
        self.family: str | None = config.get("family")
        self.input_size: list[int] | None = config.get("input_size")
        self.threads = int(config.get("threads", 0))
        self.min_box_size = float(config.get("min_box_size", 0.0))
        self.nms_iou = float(config.get("nms_iou", 0.5))
        self.on_model_error: str = config.get("on_model_error", "motion")
        self.min_hits = max(1, int(config.get("min_hits", 2)))
        self.model: LoadedModel | None = None
        self.error: str | None = None
        # Decoding floor: the lowest threshold of any class, so per-class settings still work.
        self._floor = min([self.min_confidence, *self.class_min_confidence.values()])

    async def start(self) -> None:
        try:
            self.model = await asyncio.to_thread(load_model, self.model_path, self.family,
                                                 self.input_size, self.threads)
        except FilterError as err:
            self.error = str(err)
            _LOGGER.error("object detector unavailable, clips are judged by on_model_error=%s: "
                          "%s", self.on_model_error, err)
            return
        self.frame_width = self.model.width

    async def close(self) -> None:
        self.model = None

    def status(self) -> dict[str, Any]:
        if not self.started:  # no camera has used it yet: nothing loaded, nothing wrong
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
        return super().run_sync(path, counts)

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
        return self.detect(frame.rgb, frame.index)

    def detect(self, rgb: np.ndarray, frame_index: int = 0) -> list[Detection]:
        """Detections of HomeSec classes in one RGB frame (boxes as frame fractions)."""
        model = self.model
        if model is None:
            raise FilterError(self.error or "the detector model is not loaded")
        canvas, box = letterbox(rgb, model.width, model.height, model.family)
        outputs = model.run(to_tensor(canvas, model.family, model.nhwc, model.dtype))
        boxes, scores, classes = DECODERS[model.family](
            [o.astype(np.float32) for o in outputs], model.layout, model.height, model.width,
            self._floor)
        keep = nms(boxes, scores, classes, self.nms_iou) if len(scores) else \
            np.zeros(0, dtype=np.int64)
        fractions = box.to_fractions(boxes[keep]) if len(keep) else np.zeros((0, 4))
        detections = []
        for (x, y, w, h), score, index in zip(fractions.tolist(), scores[keep].tolist(),
                                              classes[keep].tolist(), strict=True):
            label = CLASS_BY_INDEX[int(index)]
            if label is None or min(w, h) < self.min_box_size:
                continue
            if score < self.threshold(label):
                continue
            detections.append(Detection(label, round(float(score), 4), frame_index,
                                        (round(x, 4), round(y, 4), round(w, 4), round(h, 4))))
        return detections
