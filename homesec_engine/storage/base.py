"""The storage interface: where finished clips are kept, addressed by URI."""

from __future__ import annotations

from abc import ABC, abstractmethod
from pathlib import Path


class StorageError(Exception):
    """A key or URI that storage refuses (e.g. one that would escape the storage root)."""


class StoreUnavailable(Exception):
    """Cluster mode: the object store holding the clips did not answer (nothing was deleted)."""


class Storage(ABC):
    @abstractmethod
    async def put(self, local_path: Path, key: str) -> str:
        """Store a copy of ``local_path`` under ``key``; returns the storage URI."""

    @abstractmethod
    def resolve(self, storage_uri: str) -> Path:
        """Local path of a stored object; raises StorageError if it would escape the root."""

    @abstractmethod
    async def delete(self, storage_uri: str) -> bool:
        """Remove an object; True if something was deleted."""

    @abstractmethod
    async def exists(self, storage_uri: str) -> bool: ...

    def uri_for(self, key: str) -> str | None:
        """The URI `put(..., key)` stores under, when known without storing (None: unknown)."""
        return None

    def list_uris(self) -> list[str] | None:
        """Every stored object's URI (blocking: run it in a thread); None: cannot list."""
        return None

    async def delete_many(self, storage_uris: list[str]) -> int:
        """Remove several objects (retention); how many were deleted. Refused URIs are
        skipped."""
        deleted = 0
        for uri in storage_uris:
            try:
                deleted += bool(await self.delete(uri))
            except StorageError:
                continue
        return deleted
    def remove_partial_files(self) -> int:
        """Remove what an interrupted write left behind (blocking: run in a thread).

        Called at start, before anything is written; returns how many were removed.
        """
        return 0
