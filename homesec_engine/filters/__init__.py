"""Object filters: detection on sampled frames with early exit (trained detector, builtin CV)."""

from .base import FilterError, FilterOutput, ObjectFilter
from .builtin import BuiltinDetector
from .detector import DetectorFilter

FILTER_BACKENDS: dict[str, type[ObjectFilter]] = {
    "detector": DetectorFilter,
    "builtin": BuiltinDetector,
    # The former name of the detector with a user model (model_path); kept for old configs.
    "model_file": DetectorFilter,
}

__all__ = [
    "FILTER_BACKENDS", "BuiltinDetector", "DetectorFilter", "FilterError", "FilterOutput",
    "ObjectFilter",
]
