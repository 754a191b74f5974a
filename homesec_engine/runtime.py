"""EngineRuntime: everything the engine runs, built from config, started and stopped as one.

The REST API reads and changes the engine only through this object:

- `config_manager`  ConfigManager (run-time config changes)
- `repository`      ClipRepository (the only door to clip state)
- `storage`         Storage (clip files; media routes resolve URIs through it)
- `events`          EventHub (live `alert` and `camera_health` messages)
- `cameras()`       {name: CameraState} for every configured camera (enabled or not)
- `last_alerts`     {camera: AlertSummary dict} of the newest alert per camera
- `pipeline_running`, `started_monotonic`, `version`
- `apply_alert_policy(policy)`  applies a policy live (no restart)
- `request_restart()`           graceful restart (the CLI loop or the add-on supervisor
                                starts the engine again)
- `components()`                per-component diagnostics (never a secret)
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from . import __version__
from .config.manager import ConfigManager
from .events import EventHub


@dataclass(slots=True)
class CameraState:
    name: str
    enabled: bool
    source_backend: str
    healthy: bool = False
    last_heartbeat: datetime | None = None


class EngineRuntime:
    """Owns the engine's parts; see the module docstring for what the API may use."""

    def __init__(self, config_manager: ConfigManager) -> None:
        self.config_manager = config_manager
        self.events = EventHub()
        self.version = __version__
        self.started_monotonic = time.monotonic()
        self.last_alerts: dict[str, dict[str, Any]] = {}
        self.pipeline_running = False
        self.restart_requested = asyncio.Event()
        self._camera_states: dict[str, CameraState] = {}
        # Built in start(): repository, storage, sources, pipeline.
        self.repository: Any = None
        self.storage: Any = None

    def cameras(self) -> dict[str, CameraState]:
        return dict(self._camera_states)

    async def request_restart(self) -> None:
        self.restart_requested.set()

    def components(self) -> dict[str, dict[str, Any]]:
        raise NotImplementedError  # pipeline helper

    def apply_alert_policy(self, policy: dict[str, Any]) -> None:
        raise NotImplementedError  # pipeline helper

    async def start(self) -> None:
        raise NotImplementedError  # pipeline helper

    async def stop(self) -> None:
        raise NotImplementedError  # pipeline helper
