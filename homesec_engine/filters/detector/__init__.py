"""The trained object detector backend (ONNX on onnxruntime); see backend.py."""

from .backend import DetectorFilter

__all__ = ["DetectorFilter"]
