"""Load an ONNX detector with onnxruntime and work out how to feed it and read it.

A graph whose picture size is left open (the shipped model, and exports made with dynamic
axes) is `flexible`: it is fed a canvas that fits the frame's shape (`canvas_size`) rather than
the whole square, so a 16:9 camera costs 416x256 model pixels instead of 416x416 (0.62x the
work) and the picture is seen at the same scale. Its nominal size (what a whole square canvas
and a region crop take) is `filter.input_size`, else the size the model file names in its
metadata (INPUT_SIZE_KEY, written by scripts/models/).

Every failure is a `FilterError` whose message starts with the config field to fix
(`filter.model_path`, `filter.family`, `filter.input_size`), so start-up and health name it.
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np

from ..base import FilterError
from .families import FamilyMismatch, OutputLayout, recognise

# The model shipped with the engine (package data; converted by scripts/models/).
SHIPPED_MODEL = "centernet-mbv3-416.onnx"
INPUT_SIZE_KEY = "homesec.input_size"  # model metadata: nominal "WIDTHxHEIGHT" of a flexible graph
GRID = 32  # detector grids need picture sides in multiples of this
_ONNX_DTYPES = {"tensor(float)": "float32", "tensor(float16)": "float16",
                "tensor(uint8)": "uint8", "tensor(int32)": "int32"}


@dataclass(frozen=True, slots=True)
class LoadedModel:
    session: Any  # onnxruntime.InferenceSession
    input_name: str
    width: int
    height: int
    nhwc: bool
    dtype: str  # float32, float16, uint8 or int32
    layout: OutputLayout
    path: Path
    flexible: bool = False  # the graph takes any picture size (multiples of GRID)

    @property
    def family(self) -> str:
        return self.layout.family

    def canvas_size(self, frame_w: int, frame_h: int) -> tuple[int, int]:
        """(width, height) of the canvas a frame is letterboxed into: the model's size, or for
        a flexible graph the frame's shape at that scale rounded up to the grid (the padding
        a square canvas would add is work on nothing)."""
        if not self.flexible:
            return self.width, self.height
        scale = min(self.width / frame_w, self.height / frame_h)
        return (min(self.width, -(-round(frame_w * scale) // GRID) * GRID),
                min(self.height, -(-round(frame_h * scale) // GRID) * GRID))

    def run(self, tensor: np.ndarray) -> list[np.ndarray]:
        outputs = self.session.run(None, {self.input_name: tensor})
        return [np.asarray(o) for o in outputs]


def model_file(setting: str | None) -> Path:
    """The model file a `filter.model_path` setting names (unset: the shipped model)."""
    if not setting:
        return Path(str(resources.files("homesec_engine") / "models" / SHIPPED_MODEL))
    return Path(setting).expanduser()


def load_model(setting: str | None, family: str | None, input_size: list[int] | None,
               threads: int) -> LoadedModel:
    if input_size and len(input_size) != 2:
        raise FilterError(f"filter.input_size: give [width, height], not {input_size}")
    path = model_file(setting)
    if not path.is_file():
        raise FilterError(f"filter.model_path: model file {path} does not exist")
    try:
        import onnxruntime as ort  # type: ignore[import-untyped]  # ships no stubs
    except ImportError as err:  # the `detector` extra
        raise FilterError("filter.backend: the detector needs the onnxruntime package "
                          "(pip install 'homesec-engine[detector]')") from err
    options = ort.SessionOptions()
    options.intra_op_num_threads = threads  # 0: onnxruntime's default (one per core)
    options.inter_op_num_threads = 1
    # No busy-waiting between an inference's parallel parts: with cameras decoding on the same
    # cores, spinning threads doubled the CPU per inference (109 -> 52 ms of CPU, 409 -> 215 ms
    # wall, shipped model on a 640x360 frame, 2 cores under other load: README).
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    options.log_severity_level = 3
    try:
        session = ort.InferenceSession(str(path), sess_options=options,
                                       providers=["CPUExecutionProvider"])
    except Exception as err:
        raise FilterError(f"filter.model_path: {path.name} is not a loadable ONNX model: "
                          f"{type(err).__name__}: {str(err)[:300]}") from err
    model_input = session.get_inputs()[0]
    dtype = _ONNX_DTYPES.get(model_input.type)
    if dtype is None or len(model_input.shape) != 4:
        raise FilterError(f"filter.model_path: {path.name} takes {model_input.type} "
                          f"{list(model_input.shape)}; a detector takes one image "
                          f"[1, 3, H, W] or [1, H, W, 3]")
    nhwc = model_input.shape[3] == 3 and model_input.shape[1] != 3
    named = session.get_modelmeta().custom_metadata_map.get(INPUT_SIZE_KEY)
    height, width, flexible = _input_size(model_input.shape, nhwc, input_size or _size(named),
                                          path.name)
    outputs = session.get_outputs()
    names, shapes = [o.name for o in outputs], [o.shape for o in outputs]
    try:
        try:
            layout = recognise(names, shapes, height, width, family)
        except FamilyMismatch:
            if not flexible:
                raise
            # An open size leaves the grid outputs' sizes open too: read them off one run at
            # the nominal size.
            probe = np.zeros([1, height, width, 3] if nhwc else [1, 3, height, width],
                             dtype=dtype)
            shapes = [list(o.shape) for o in session.run(None, {model_input.name: probe})]
            layout = recognise(names, shapes, height, width, family)
    except FamilyMismatch as err:
        field = "filter.family" if family else "filter.model_path"
        raise FilterError(f"{field}: {err}") from err
    return LoadedModel(session, model_input.name, width, height, nhwc, dtype, layout, path,
                       flexible)


def _size(named: str | None) -> list[int] | None:
    """A model's own nominal size from its metadata ("416x416"), None when it names none."""
    try:
        width, height = (int(v) for v in (named or "").lower().split("x"))
    except ValueError:
        return None
    return [width, height]


def _input_size(shape: list[Any], nhwc: bool, setting: list[int] | None, name: str
                ) -> tuple[int, int, bool]:
    """Height, width and whether the graph is flexible: the graph's own size, else
    `filter.input_size` [width, height] (or the model's metadata)."""
    dims = shape[1:3] if nhwc else shape[2:4]
    fixed = all(isinstance(d, int) and d > 0 for d in dims)
    if fixed and setting and (setting[1], setting[0]) != (dims[0], dims[1]):
        raise FilterError(f"filter.input_size: {name} takes {dims[1]}x{dims[0]} pixels, "
                          f"not {setting[0]}x{setting[1]}; remove the setting or fix it")
    if fixed:
        return int(dims[0]), int(dims[1]), False
    if not setting:
        raise FilterError(f"filter.input_size: {name} has a dynamic input size; set "
                          f"filter.input_size to [width, height] (e.g. [416, 416])")
    if any(v % 32 for v in setting):
        raise FilterError(f"filter.input_size: {setting[0]}x{setting[1]} is not a multiple "
                          f"of 32, which detector grids need")
    return int(setting[1]), int(setting[0]), True
