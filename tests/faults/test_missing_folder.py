"""A local_folder camera whose folder is missing says so once, shows it in its health, and
says when it is back (issue 16, item 10)."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path

import aiohttp
import pytest

from tests.api.conftest import API_KEY, Api
from tests.engine_harness import running_engine


async def test_a_missing_folder_is_logged_once_shown_in_health_and_recovers(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="homesec_engine.sources.local_folder")
    watched = tmp_path / "upload"  # does not exist yet
    camera = {"name": "ftp_cam", "enabled": True, "source_backend": "local_folder",
              "source_config": {"path": str(watched), "poll_s": 0.1, "stable_s": 0.5}}
    async with running_engine(tmp_path, api_key=API_KEY, cameras=[camera],
                              run_sources=True) as engine, aiohttp.ClientSession() as http:
        api = Api(http, engine)
        # When the engine polls the missing folder for a while (about 20 polls)
        await asyncio.sleep(2.0)
        # Then it was logged once, and the camera's health says why it is down
        lines = [r for r in caplog.records if "cannot watch" in r.getMessage()]
        assert len(lines) == 1, [r.getMessage() for r in lines]
        _, body, _ = await api.call("GET", "/cameras/ftp_cam")
        assert body["healthy"] is False and str(watched) in (body["error"] or ""), body
        # When the folder appears
        watched.mkdir()
        async with asyncio.timeout(10):
            while not engine.runtime.cameras()["ftp_cam"].healthy:
                await asyncio.sleep(0.05)
        # Then the camera is healthy with no error, and the log says it is back
        _, body, _ = await api.call("GET", "/cameras/ftp_cam")
        assert body["healthy"] is True and body["error"] is None, body
        assert sum("watching" in r.getMessage() and "again" in r.getMessage()
                   for r in caplog.records) == 1
