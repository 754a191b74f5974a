"""``local`` storage: clips as files under one root directory, URIs ``local://<key>``.

Writes are atomic (copy to a temp file in the target directory, fsync, rename, fsync the
directory), so a reader sees the old object or the new one, never a torn file. Keys are
sanitised, and every path is checked to stay inside the root after symlinks are resolved.
All file I/O runs in worker threads.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Mapping
from pathlib import Path, PurePosixPath
from typing import Any

from ..fsutil import copy_atomically, fsync_dir, is_partial, remove_partial_files
from .base import Storage, StorageError

SCHEME = "local://"
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


def sanitize_key(key: str) -> str:
    """Canonical key: '/'-separated safe segments. Refuses absolute keys and '..' segments."""
    if not key or key.startswith(("/", "\\")) or re.match(r"^[A-Za-z]:", key):
        raise StorageError("storage key must be a relative path")
    parts = []
    for raw in key.replace("\\", "/").split("/"):
        if raw in ("", "."):
            continue
        if raw == "..":
            raise StorageError("storage key must not contain '..'")
        part = _UNSAFE.sub("_", raw).lstrip(".") or "_"
        parts.append(part)
    if not parts:
        raise StorageError("storage key is empty")
    return "/".join(parts)


class LocalStorage(Storage):
    """Config: ``path`` (the root directory; created on first write)."""

    def __init__(self, config: Mapping[str, Any]) -> None:
        self.root = Path(str(config["path"])).expanduser().absolute()

    # --- addressing ----------------------------------------------------------------------
    def _key_of(self, storage_uri: str) -> str:
        if not storage_uri.startswith(SCHEME):
            raise StorageError("not a local:// storage URI")
        key = storage_uri[len(SCHEME) :]
        if sanitize_key(key) != key:  # only canonical keys (as put() returns) are accepted
            raise StorageError("storage URI key is not canonical")
        return key

    def _confined(self, path: Path) -> Path:
        """Raise unless path (symlinks resolved) lies inside the root."""
        root = self.root.resolve()
        real = path.resolve()
        if real != root and root not in real.parents:
            raise StorageError("path escapes the storage root")
        return path

    def uri_for(self, key: str) -> str:
        return SCHEME + sanitize_key(key)

    def resolve(self, storage_uri: str) -> Path:
        key = self._key_of(storage_uri)
        return self._confined(self.root / PurePosixPath(key))

    # --- operations ----------------------------------------------------------------------
    async def put(self, local_path: Path, key: str) -> str:
        canonical = sanitize_key(key)
        await asyncio.to_thread(self._put, Path(local_path), canonical)
        return self.uri_for(canonical)

    def _put(self, src: Path, key: str) -> None:
        dest = self.root / PurePosixPath(key)
        self._confined(dest)  # before creating anything: a symlinked dir may point outside
        dest.parent.mkdir(parents=True, exist_ok=True)
        self._confined(dest)
        copy_atomically(src, dest)

    def list_uris(self) -> list[str]:
        if not self.root.is_dir():
            return []
        return [self.uri_for(path.relative_to(self.root).as_posix())
                for path in self.root.rglob("*") if path.is_file() and not is_partial(path.name)]

    def remove_partial_files(self) -> int:
        """Temp files of copies cut off by a kill (copy_atomically names them .<name>.*.tmp)."""
        return remove_partial_files(self.root)

    # resolve() follows symlinks (file system calls): it runs in the thread as well.
    async def delete(self, storage_uri: str) -> bool:
        return await asyncio.to_thread(lambda: _unlink(self.resolve(storage_uri)))

    async def delete_many(self, storage_uris: list[str]) -> int:
        # One worker thread for the whole batch, one fsync per folder.
        return await asyncio.to_thread(self._delete_many, list(storage_uris))

    def _delete_many(self, storage_uris: list[str]) -> int:
        deleted, folders = 0, set()
        for uri in storage_uris:
            try:
                path = self.resolve(uri)
                path.unlink()
            except (StorageError, FileNotFoundError):
                continue
            deleted += 1
            folders.add(path.parent)
        for folder in folders:
            fsync_dir(folder)
        return deleted

    async def exists(self, storage_uri: str) -> bool:
        return await asyncio.to_thread(lambda: self.resolve(storage_uri).is_file())


def _unlink(path: Path) -> bool:
    try:
        path.unlink()
    except FileNotFoundError:
        return False
    fsync_dir(path.parent)
    return True
