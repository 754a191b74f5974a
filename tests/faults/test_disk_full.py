"""Storage on a 5 MB tmpfs, filled and freed: health says degraded with the reason, the clip
is retried while the engine runs, and all is well once space is back (issue 16, item 6)."""

from __future__ import annotations

import asyncio
import errno
import os
import subprocess
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import aiohttp
import pytest

from homesec_engine.records import ClipFile, utcnow
from tests.api.conftest import API_KEY, Api
from tests.engine_harness import running_engine
from tests.videotools import Segment, make_motion_video


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A 5 MB tmpfs, unmounted afterwards whatever happens."""
    mount = tmp_path / "disk"
    mount.mkdir()
    result = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=5m", "tmpfs", str(mount)],
                            capture_output=True, text=True)
    if result.returncode != 0:
        pytest.skip(f"mounting a tmpfs is not allowed here: {result.stderr.strip()}")
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False)


def _fill(path: Path) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT)
    try:
        while True:
            os.write(fd, b"\0" * 4096)
    except OSError as err:
        assert err.errno == errno.ENOSPC
    finally:
        os.close(fd)


async def _until(predicate, timeout: float = 30.0) -> None:
    async with asyncio.timeout(timeout):
        while not await predicate():
            await asyncio.sleep(0.1)


async def test_a_full_disk_degrades_health_and_the_clip_is_stored_once_space_is_back(
    tmp_path: Path, small_disk: Path
) -> None:
    config = {"storage": {"backend": "local", "path": str(small_disk / "clips")}}
    async with running_engine(tmp_path, api_key=API_KEY, config=config) as engine, \
            aiohttp.ClientSession() as http:
        api = Api(http, engine)
        pipeline = engine.runtime.pipeline
        pipeline.upload_backoff_s, pipeline.storage_retry_s = 0.1, 0.2
        (small_disk / "clips").mkdir()
        # Given the storage disk is full
        filler = small_disk / "filler.bin"
        await asyncio.to_thread(_fill, filler)
        # When a camera hands in a recording
        work = tmp_path / "work"
        work.mkdir()
        video = make_motion_video(work / "rec.mp4", [Segment(0.5, 1.5)], duration_s=2,
                                  fps=10, gop=10)
        ended = utcnow()
        pipeline.submit(ClipFile("front_door", video, ended - timedelta(seconds=2), ended))

        async def degraded() -> bool:
            _, health, _ = await api.call("GET", "/health")
            return health["status"] == "degraded"

        # Then health says degraded, with the reason
        await _until(degraded)
        _, health, _ = await api.call("GET", "/health")
        assert health["storage"] == "error" and "No space left" in health["storage_error"]
        _, diag, _ = await api.call("GET", "/diagnostics")
        assert diag["components"]["storage"]["status"] == "error"
        # And the recording is kept for the retry
        assert video.exists()
        # When space is freed
        filler.unlink()

        async def stored() -> bool:
            _, body, _ = await api.call("GET", "/clips")
            return bool(body["clips"]) and body["clips"][0]["status"] == "done"

        # Then the clip is stored while the engine runs (no restart), once
        await _until(stored)
        _, body, _ = await api.call("GET", "/clips")
        assert body["total"] == 1, body
        clip_id = body["clips"][0]["id"]
        assert (small_disk / "clips" / f"{clip_id}.mp4").is_file()
        # And health is healthy again, the error cleared, the working copy gone
        _, health, _ = await api.call("GET", "/health")
        assert health["status"] == "healthy" and health["storage_error"] is None, health
        assert not video.exists()
        # And no partial copy is left on the disk
        assert not [p for p in small_disk.rglob("*") if p.name.endswith(".tmp")]
