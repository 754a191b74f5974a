"""Clip sources: where recordings come from (SPEC §4).

Backends by name; the runtime builds one per enabled camera with
``SOURCE_BACKENDS[backend](camera, config, work_dir)`` and calls ``start()`` (constructing a
source starts nothing).
"""

from __future__ import annotations

from .base import ClipCallback, ClipSource, HealthCallback
from .demo import DemoSource
from .local_folder import LocalFolderSource
from .rtsp import RtspSource

SOURCE_BACKENDS: dict[str, type[ClipSource]] = {
    "rtsp": RtspSource,
    "local_folder": LocalFolderSource,
    "demo": DemoSource,
}

__all__ = [
    "SOURCE_BACKENDS",
    "ClipCallback",
    "ClipSource",
    "DemoSource",
    "HealthCallback",
    "LocalFolderSource",
    "RtspSource",
]
