"""Object filters: detection on sampled frames with early exit (builtin CV, ONNX model file)."""

from .base import FilterError, FilterOutput, ObjectFilter
from .builtin import BuiltinDetector
from .labels import normalize_label
from .model_file import ModelFileDetector

FILTER_BACKENDS: dict[str, type[ObjectFilter]] = {
    "builtin": BuiltinDetector,
    "model_file": ModelFileDetector,
}

__all__ = [
    "FILTER_BACKENDS", "BuiltinDetector", "FilterError", "FilterOutput", "ModelFileDetector",
    "ObjectFilter", "normalize_label",
]
