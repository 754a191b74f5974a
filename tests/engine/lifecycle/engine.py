"""An in-process engine with a demo camera recording a clip a second, for offsite tests."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import yaml

from homesec_engine.config import ConfigManager
from homesec_engine.runtime import EngineRuntime

FAST_DB = {"retry_initial": 0.05, "retry_max": 0.5, "timeout": 3.0}


def engine_config(tmp_path: Path, offsite: dict[str, Any], *,
                  database_url: str | None = None) -> dict[str, Any]:
    return {
        "state": {"url": database_url or f"sqlite:///{tmp_path / 'homesec.db'}",
                  "outbox_path": str(tmp_path / "outbox")},
        "storage": {"path": str(tmp_path / "clips")},
        "offsite": {"enabled": True, "retry_initial_s": 0.1, "retry_max_s": 0.5, **offsite},
        "cameras": [{"name": "yard", "source_backend": "demo",
                     "source_config": {"interval_s": 1, "clip_s": 1, "subject": "animal"}}],
    }


@asynccontextmanager
async def running(tmp_path: Path, offsite: dict[str, Any], *,
                  database_url: str | None = None) -> AsyncIterator[EngineRuntime]:
    base = tmp_path / "homesec.yaml"
    base.write_text(yaml.safe_dump(engine_config(tmp_path, offsite,
                                                 database_url=database_url)))
    manager = ConfigManager([base], tmp_path / "overrides.yaml")
    await manager.load()
    runtime = EngineRuntime(manager, repository_options=FAST_DB, monitor_interval_s=0.5)
    await runtime.start()
    try:
        yield runtime
    finally:
        await runtime.stop()


async def wait_for(predicate: Callable[[], Awaitable[bool]], timeout: float = 90.0) -> None:
    async with asyncio.timeout(timeout):
        while not await predicate():
            await asyncio.sleep(0.1)


def stored_clips(tmp_path: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in (tmp_path / "clips").glob("*.mp4")}
