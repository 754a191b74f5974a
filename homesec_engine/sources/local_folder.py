"""Watch a folder for finished video files (e.g. a camera's FTP/SMB upload target).

A file counts as finished once its size and mtime have not changed for ``stable_s``. It is then
moved into the work dir atomically (a rename on the same filesystem; across filesystems a copy
to a temp name, fsync and rename) and handed on as a ClipFile whose duration is probed with
PyAV. Polling runs as an asyncio task; every filesystem call runs in a worker thread.
"""

from __future__ import annotations

import asyncio
import logging
import os
import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import av

from ..fsutil import move_atomically
from ..records import ClipFile
from .base import ClipSource, safe_name

_LOGGER = logging.getLogger(__name__)
DEFAULT_EXTENSIONS = (".mp4", ".mkv", ".mov", ".avi")


@dataclass(slots=True)
class _Seen:
    size: int
    mtime_ns: int
    since: float  # monotonic time this size/mtime was first seen


def probe_duration(path: Path) -> float:
    """Duration of a video file in seconds (container duration, else from packet timestamps)."""
    with av.open(str(path)) as container:
        if container.duration:
            return container.duration / av.time_base
        stream = container.streams.video[0]
        pts = [p.pts for p in container.demux(stream) if p.pts is not None]
        if not pts or stream.time_base is None:
            return 0.0
        return float((max(pts) - min(pts)) * stream.time_base)


class LocalFolderSource(ClipSource):
    """``local_folder`` backend: config ``path``, ``stable_s``, ``poll_s``, ``extensions``."""

    def __init__(self, camera: str, config: Mapping[str, Any], work_dir: Path) -> None:
        super().__init__(camera, config, work_dir)
        self.watch_dir = Path(str(self.config.get("path", "")))
        self.stable_s = float(self.config.get("stable_s", 2.0))
        self.poll_s = float(self.config.get("poll_s", 1.0))
        exts = self.config.get("extensions") or DEFAULT_EXTENSIONS
        self.extensions = {str(e).lower() if str(e).startswith(".") else f".{e}".lower() for e in exts}
        self._seen: dict[str, _Seen] = {}
        self._rejected: set[tuple[str, int, int]] = set()
        self._task: asyncio.Task[None] | None = None

    async def _start(self) -> None:
        self._task = asyncio.create_task(self._poll_loop(), name=f"homesec-folder-{self.camera}")

    async def _stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            try:
                await self._task
            except asyncio.CancelledError:
                pass
            self._task = None

    async def _poll_loop(self) -> None:
        while True:
            try:
                ready = await asyncio.to_thread(self._scan)
                self._beat()
                if self.last_error() is not None:
                    _LOGGER.info("camera %s: watching %s again", self.camera, self.watch_dir)
                self._set_health(True)
                for path in ready:
                    await self._take(path)
            except OSError as err:
                # Said once per outage (polls run every poll_s); the health shows it meanwhile.
                error = f"cannot watch {self.watch_dir}: {err.strerror or err}"
                if self.last_error() != error:
                    _LOGGER.warning("camera %s: %s", self.camera, error)
                self._set_error(error)
                self._set_health(False)
            await asyncio.sleep(self.poll_s)

    def _scan(self) -> list[Path]:
        """Files whose size/mtime stayed the same for stable_s (runs in a worker thread)."""
        now = time.monotonic()
        ready: list[Path] = []
        present: set[str] = set()
        with os.scandir(self.watch_dir) as entries:
            for entry in entries:
                name = entry.name
                if name.startswith(".") or Path(name).suffix.lower() not in self.extensions:
                    continue
                if not entry.is_file(follow_symlinks=False):
                    continue
                st = entry.stat(follow_symlinks=False)
                present.add(name)
                if (name, st.st_size, st.st_mtime_ns) in self._rejected:
                    continue
                seen = self._seen.get(name)
                if seen is None or (seen.size, seen.mtime_ns) != (st.st_size, st.st_mtime_ns):
                    self._seen[name] = _Seen(st.st_size, st.st_mtime_ns, now)
                elif st.st_size > 0 and now - seen.since >= self.stable_s:
                    ready.append(Path(entry.path))
        for name in list(self._seen):
            if name not in present:
                del self._seen[name]
        return sorted(ready)

    async def _take(self, path: Path) -> None:
        try:
            clip = await asyncio.to_thread(self._claim, path)
        except Exception as err:  # not a playable video (yet): leave it, do not retry it
            _LOGGER.warning("camera %s: skipping %s: %s", self.camera, path.name, err)
            try:
                st = path.stat()
                self._rejected.add((path.name, st.st_size, st.st_mtime_ns))
            except OSError:
                pass
            return
        self._seen.pop(path.name, None)
        self._emit_clip(clip)

    def _claim(self, path: Path) -> ClipFile:
        duration = probe_duration(path)  # probe first: a broken file stays where it was
        ended = datetime.fromtimestamp(path.stat().st_mtime, UTC)
        name = f"{safe_name(self.camera)}-{uuid.uuid4().hex[:8]}-{safe_name(path.stem)}"
        dest = self.work_dir / f"{name}{path.suffix.lower()}"
        move_atomically(path, dest)
        return ClipFile(self.camera, dest, ended - timedelta(seconds=duration), ended)
