"""Fixtures for clip-source tests: a work dir and callbacks that record what a source hands on."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from homesec_engine.records import ClipFile


@dataclass
class Recorder:
    """Collects clips and health changes; lets a test wait for them without sleeping blindly."""

    clips: list[ClipFile] = field(default_factory=list)
    health: list[tuple[str, bool]] = field(default_factory=list)
    changed: asyncio.Event = field(default_factory=asyncio.Event)

    async def on_clip(self, clip: ClipFile) -> None:
        self.clips.append(clip)
        self.changed.set()

    async def on_health(self, camera: str, healthy: bool) -> None:
        self.health.append((camera, healthy))
        self.changed.set()

    async def wait_for(self, predicate, timeout: float = 60.0) -> None:
        """Wait until predicate() is true (timeout only guards against a hung test)."""
        async with asyncio.timeout(timeout):
            while not predicate():
                self.changed.clear()
                await self.changed.wait()


@pytest.fixture
def recorder() -> Recorder:
    return Recorder()


@pytest.fixture
def work_dir(tmp_path: Path) -> Path:
    path = tmp_path / "work"
    path.mkdir()
    return path


@pytest.fixture(autouse=True)
def _loopback_sockets(socket_enabled: None) -> None:
    """Real loopback servers (RTSP) need sockets; the HA plugin still limits them to 127.0.0.1."""
