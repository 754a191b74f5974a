"""Clip storage backends by name (SPEC §4): ``STORAGE_BACKENDS[name](config)``."""

from __future__ import annotations

from .base import Storage, StorageError
from .local import LocalStorage

STORAGE_BACKENDS: dict[str, type[Storage]] = {"local": LocalStorage}

__all__ = ["STORAGE_BACKENDS", "LocalStorage", "Storage", "StorageError"]
