"""A clip's video or snapshot as a file Home Assistant can read (for ai_task attachments).

HA's AI tasks take media-source attachments only as local files. With the add-on, the engine
keeps clips under /media/homesec, which Home Assistant mounts at the same path: the engine says
where the files are (GET /clips/{id} `files`) and they are used in place. Anywhere else (the
standalone image, another host) the file is downloaded once into HA's cache folder, bounded:
a file larger than MAX_FILE_BYTES is not downloaded (the URL still plays), and the folder is
trimmed to MAX_CACHE_BYTES and MAX_AGE, oldest first, after each download.
"""

from __future__ import annotations

import os
import re
import time
import uuid
from pathlib import Path
from typing import Final

from homeassistant.core import HomeAssistant

from .api import HomeSecClient
from .views import MediaKind
MAX_FILE_BYTES: Final = 64 * 1024 * 1024
MAX_CACHE_BYTES: Final = 256 * 1024 * 1024
MAX_AGE_S: Final = 3600.0
_CHUNK: Final = 1024 * 1024
_SAFE_ID: Final = re.compile(r"^[A-Za-z0-9_\-]{1,128}$")
_SUFFIX: Final[dict[MediaKind, str]] = {"clip": ".mp4", "snapshot": ".jpg"}


class MediaTooLarge(Exception):
    """The file is larger than MAX_FILE_BYTES: it is offered by URL only."""


class MediaFiles:
    """Local paths of clip files, shared with the engine or downloaded into `folder`."""

    def __init__(self, hass: HomeAssistant, client: HomeSecClient, folder: Path) -> None:
        self._hass = hass
        self._client = client
        self.folder = folder

    async def local_path(self, clip_id: str, kind: MediaKind) -> Path:
        """A readable local file of the clip's video or snapshot.

        Raises the client's errors (HomeSecNotFoundError for an unknown clip or a missing
        file), MediaTooLarge, and ValueError for an id that cannot be a clip id.
        """
        if not _SAFE_ID.fullmatch(clip_id):
            raise ValueError(f"not a clip id: {clip_id!r}")
        clip = await self._client.get_clip(clip_id)
        files = clip.get("files")
        shared = files[kind] if files else None
        if shared is not None:
            readable: bool = await self._hass.async_add_executor_job(_readable, shared)
            if readable:
                return Path(shared)
        target = self.folder / f"{clip_id}{_SUFFIX[kind]}"
        if await self._hass.async_add_executor_job(_fresh, target):
            return target
        await self._download(clip_id, kind, target)
        await self._hass.async_add_executor_job(
            _trim, self.folder, MAX_CACHE_BYTES, MAX_AGE_S, target
        )
        return target

    async def _download(self, clip_id: str, kind: MediaKind, target: Path) -> None:
        """Write the engine's file to `target` through a temporary name (never half a file)."""
        partial = target.with_name(f"{target.name}.{uuid.uuid4().hex}.part")  # concurrent resolves
        await self._hass.async_add_executor_job(_start, partial)
        try:
            if kind == "snapshot":
                data = await self._client.get_clip_snapshot(clip_id)
                if len(data) > MAX_FILE_BYTES:
                    raise MediaTooLarge(clip_id)
                await self._hass.async_add_executor_job(_append, partial, data)
            else:
                await self._download_clip(clip_id, partial)
            await self._hass.async_add_executor_job(os.replace, partial, target)
        finally:
            await self._hass.async_add_executor_job(partial.unlink, True)

    async def _download_clip(self, clip_id: str, partial: Path) -> None:
        resp = await self._client.open_clip_media(clip_id)
        try:
            if (resp.content_length or 0) > MAX_FILE_BYTES:
                raise MediaTooLarge(clip_id)
            written = 0
            async for chunk in resp.content.iter_chunked(_CHUNK):
                written += len(chunk)
                if written > MAX_FILE_BYTES:
                    raise MediaTooLarge(clip_id)
                await self._hass.async_add_executor_job(_append, partial, chunk)
        finally:
            resp.release()


def _readable(path: str) -> bool:
    return os.path.isfile(path) and os.access(path, os.R_OK)


def _fresh(path: Path) -> bool:
    """A cached download still within MAX_AGE (touched, so it is trimmed last)."""
    try:
        if time.time() - path.stat().st_mtime > MAX_AGE_S:
            return False
        path.touch()
    except OSError:
        return False
    return True


def _start(partial: Path) -> None:
    partial.parent.mkdir(parents=True, exist_ok=True)
    partial.write_bytes(b"")


def _append(path: Path, data: bytes) -> None:
    with path.open("ab") as handle:
        handle.write(data)


def _trim(folder: Path, max_bytes: int, max_age_s: float, keep: Path) -> None:
    """Delete downloads older than max_age_s, then the oldest until under max_bytes."""
    now = time.time()
    files = []
    for path in folder.iterdir():
        try:
            stat = path.stat()
        except OSError:
            continue
        if path != keep and now - stat.st_mtime > max_age_s:
            path.unlink(missing_ok=True)
        else:
            files.append((stat.st_mtime, stat.st_size, path))
    total = sum(size for _, size, _ in files)
    for _, size, path in sorted(files):
        if total <= max_bytes:
            break
        if path != keep:
            path.unlink(missing_ok=True)
            total -= size
