"""The `model_file` backend: an ONNX model the user supplies, run offline with onnxruntime.

Nothing is downloaded: the model is read from `model_path`. What the model must look like:

- input: the first graph input, float32 RGB scaled to 0..1, layout NCHW (or NHWC when the
  model's metadata says `layout=NHWC`), batch 1. Its height/width come from the input shape;
  a dynamic size uses the metadata `input_size` (e.g. `224` or `320x240`), else 224x224.
- output: the first graph output, either
  - class scores, shape [1, C] (or [C]): one score per label for the whole frame, or
  - detections, shape [1, K, 6] (or [K, 6]): rows of x, y, w, h (fractions), score, class.
- labels: the metadata `labels` (comma-separated, in output order); default
  person,vehicle,animal,package,object,unknown. Labels are normalised (car -> vehicle,
  dog -> animal, ...); `background`/`none` labels are ignored.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from ..records import DETECTION_CLASSES, Detection
from .base import FilterError, ObjectFilter
from .frames import SampledFrame
from .labels import normalize_label

DEFAULT_INPUT = (224, 224)  # height, width


class ModelFileDetector(ObjectFilter):
    name: ClassVar[str] = "model_file"

    def __init__(self, config: dict[str, Any]) -> None:
        super().__init__(config)
        self.model_path = config.get("model_path")
        self._session: Any = None
        self._input_name = ""
        self._size = DEFAULT_INPUT
        self._nhwc = False
        self._labels: list[str | None] = []
        self._error: str | None = None

    async def start(self) -> None:
        try:
            await asyncio.to_thread(self._load)
        except FilterError as err:
            self._error = str(err)
            raise

    def status(self) -> dict[str, Any]:
        ok = self._session is not None
        return {"status": "ok" if ok else "error", "error": self._error, "backend": self.name}

    def _load(self) -> None:
        if not self.model_path:
            raise FilterError("filter.model_path is required for the model_file backend")
        path = Path(self.model_path).expanduser()
        if not path.is_file():
            raise FilterError(f"filter.model_path: model file {path} does not exist")
        try:
            import onnxruntime as ort  # type: ignore[import-untyped]  # ships no stubs
        except ImportError as err:  # optional dependency of this backend only
            raise FilterError("the model_file filter needs the onnxruntime package") from err
        options = ort.SessionOptions()
        options.intra_op_num_threads = 2
        options.inter_op_num_threads = 1
        try:
            session = ort.InferenceSession(str(path), sess_options=options,
                                           providers=["CPUExecutionProvider"])
        except Exception as err:
            raise FilterError(f"filter.model_path: cannot load {path.name}: {err}") from err
        meta = session.get_modelmeta().custom_metadata_map or {}
        model_input = session.get_inputs()[0]
        self._nhwc = meta.get("layout", "NCHW").upper() == "NHWC"
        self._size = _input_size(model_input.shape, self._nhwc, meta.get("input_size"))
        raw_labels = meta.get("labels")
        names = [s for s in raw_labels.split(",")] if raw_labels else list(DETECTION_CLASSES)
        self._labels = [normalize_label(n) for n in names]
        self._input_name = model_input.name
        self._session = session

    async def close(self) -> None:
        self._session = None

    def detect_frame(self, frame: SampledFrame) -> list[Detection]:
        if self._session is None:
            raise FilterError(self._error or "the model is not loaded")
        tensor = self._tensor(frame.rgb)
        output = np.asarray(self._session.run(None, {self._input_name: tensor})[0],
                            dtype=np.float32)
        # [1, K, 6] or [K, 6] (K != 1) are detection rows; [1, C] or [C] are class scores.
        if output.shape[-1] == 6 and (output.ndim == 3 or (output.ndim == 2
                                                            and output.shape[0] != 1)):
            return self._boxes(output.reshape(-1, 6), frame.index)
        return self._scores(output.reshape(-1), frame.index)

    def _tensor(self, rgb: np.ndarray) -> np.ndarray:
        height, width = self._size
        rows = np.linspace(0, rgb.shape[0] - 1, height).round().astype(int)
        cols = np.linspace(0, rgb.shape[1] - 1, width).round().astype(int)
        resized = rgb[rows][:, cols].astype(np.float32) / 255.0  # nearest neighbour
        if not self._nhwc:
            resized = resized.transpose(2, 0, 1)
        batch: np.ndarray = resized[None, ...]
        return batch

    def _label(self, index: int) -> str | None:
        return self._labels[index] if 0 <= index < len(self._labels) else "unknown"

    def _scores(self, scores: np.ndarray, frame_index: int) -> list[Detection]:
        best: dict[str, float] = {}
        for i, score in enumerate(scores.tolist()):
            label = self._label(i)
            if label is not None:
                best[label] = max(best.get(label, 0.0), float(score))
        return [Detection(label, round(conf, 4), frame_index) for label, conf in best.items()]

    def _boxes(self, rows: np.ndarray, frame_index: int) -> list[Detection]:
        detections = []
        for x, y, w, h, score, cls in rows.tolist():
            label = self._label(int(cls))
            if label is not None:
                detections.append(Detection(label, round(float(score), 4), frame_index,
                                            (float(x), float(y), float(w), float(h))))
        return detections


def _input_size(shape: list[Any], nhwc: bool, hint: str | None) -> tuple[int, int]:
    dims = list(shape)[1:3] if nhwc else list(shape)[2:4]
    if len(dims) == 2 and all(isinstance(d, int) and d > 0 for d in dims):
        return int(dims[0]), int(dims[1])
    if hint:
        parts = hint.lower().split("x")
        try:
            if len(parts) == 1:
                return int(parts[0]), int(parts[0])
            return int(parts[1]), int(parts[0])  # "WIDTHxHEIGHT"
        except ValueError:
            pass
    return DEFAULT_INPUT
