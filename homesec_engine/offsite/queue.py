"""The offsite upload backlog: one small JSON file per clip (and, in cluster mode, one per
clip snapshot), kept on disk.

A job is written (temp file, fsync, rename, fsync of the folder) before `add()` returns and
removed only after its copy was checked and recorded, so a restart or a kill -9 at any point
finds every unfinished upload again. It lives beside the state outbox, not in the database:
uploads go on while the database is down (P0).
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
from dataclasses import asdict, dataclass
from pathlib import Path

from ..fsutil import fsync_dir

_LOGGER = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class UploadJob:
    clip_id: str
    storage_uri: str  # the local copy to upload
    key: str  # where it goes, under the offsite root
    queued_at: str  # ISO time: the oldest job goes first
    what: str = "clip"  # "clip" (its video) or "snapshot" (cluster mode shares those too)

    @property
    def job_id(self) -> str:
        """One job per object: the clip's id for its video, `<id>.snapshot` for its snapshot."""
        return self.clip_id if self.what == "clip" else f"{self.clip_id}.{self.what}"


class UploadQueue:
    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self._jobs: dict[str, UploadJob] = {}

    def __len__(self) -> int:
        return len(self._jobs)

    def __contains__(self, clip_id: object) -> bool:
        """Whether the clip's video waits for its copy."""
        return clip_id in self._jobs

    async def load(self) -> int:
        """Pick up the jobs an earlier run left; how many there are."""
        jobs = await asyncio.to_thread(self._read_all)
        self._jobs = {job.job_id: job for job in sorted(jobs, key=lambda j: j.queued_at)}
        if jobs:
            _LOGGER.info("Resuming %d offsite uploads left in %s", len(jobs), self.directory)
        return len(jobs)

    def oldest(self) -> UploadJob | None:
        return next(iter(self._jobs.values()), None)

    async def add(self, job: UploadJob) -> None:
        """Queue `job` durably; it replaces a queued job for the same object (then the file
        is copied as it is at upload time), which goes to the back of the queue."""
        await asyncio.to_thread(self._write, job)
        self._jobs.pop(job.job_id, None)
        self._jobs[job.job_id] = job

    def current(self, job: UploadJob) -> bool:
        """Whether `job` is still the one queued for its object (not replaced by a newer)."""
        return self._jobs.get(job.job_id) == job

    async def remove(self, job: UploadJob) -> None:
        """Done with `job`; a newer job for the same object (queued meanwhile) stays."""
        if not self.current(job):
            return
        self._jobs.pop(job.job_id, None)
        await asyncio.to_thread(self._unlink, job.job_id)

    # -- file work (worker thread) ---------------------------------------------------------

    def _path(self, job_id: str) -> Path:
        return self.directory / f"{job_id}.json"

    def _write(self, job: UploadJob) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        path = self._path(job.job_id)
        tmp = path.with_name(f".{path.name}.tmp")
        with tmp.open("w", encoding="utf-8") as out:
            json.dump(asdict(job), out)
            out.flush()
            os.fsync(out.fileno())
        os.replace(tmp, path)
        fsync_dir(self.directory)

    def _unlink(self, job_id: str) -> None:
        try:
            self._path(job_id).unlink()
        except FileNotFoundError:
            return
        fsync_dir(self.directory)

    def _read_all(self) -> list[UploadJob]:
        if not self.directory.is_dir():
            return []
        jobs = []
        for path in self.directory.glob("*.json"):
            try:
                jobs.append(UploadJob(**json.loads(path.read_text(encoding="utf-8"))))
            except (OSError, ValueError, TypeError) as err:  # a damaged job must not stop a start
                _LOGGER.error("Skipping unreadable offsite job %s: %s", path, err)
        return jobs
