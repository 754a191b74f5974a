"""Offsite copies of stored clips: a durable upload queue and the services it writes to."""

from __future__ import annotations

from .queue import UploadJob, UploadQueue
from .target import OffsiteConfigError, OffsiteTarget
from .uploader import OffsiteUploader

__all__ = ["OffsiteConfigError", "OffsiteTarget", "OffsiteUploader", "UploadJob", "UploadQueue"]
