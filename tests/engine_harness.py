"""Run a real engine (config, EngineRuntime, REST API) on a free loopback port for tests.

    async with running_engine(tmp_path, cameras=[...], api_key="k") as engine:
        async with aiohttp.ClientSession() as s:
            await s.get(f"{engine.url}/api/v1/status", headers=engine.headers)

It writes a base config file into `tmp_path` (SQLite there unless `database_url` is given,
local storage under `tmp_path/clips`), builds a ConfigManager with an override file beside
it, starts an EngineRuntime (`run_sources=False` by default: API tests need no camera
running) and serves `create_app(runtime)` with aiohttp's AppRunner on 127.0.0.1. Everything
is stopped on exit: server, WebSockets, runtime, database connections; the API key's
environment variable is removed again.

With pytest-homeassistant-custom-component active, the test needs the `socket_enabled`
fixture (loopback TCP).
"""

from __future__ import annotations

import os
import socket
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from aiohttp import web

from homesec_engine.api import create_app
from homesec_engine.api.context import ApiSettings
from homesec_engine.api.server import GuardedRunner, ServerLimits
from homesec_engine.config import ConfigManager, merge
from homesec_engine.runtime import EngineRuntime

DEFAULT_CAMERAS: list[dict[str, Any]] = [
    {"name": "front_door", "enabled": True, "source_backend": "demo",
     "source_config": {"interval_s": 3600, "subject": "person"}},
    {"name": "garage", "enabled": False, "source_backend": "demo",
     "source_config": {"interval_s": 3600, "subject": "vehicle"}},
]


@dataclass
class RunningEngine:
    url: str  # http://127.0.0.1:<port>
    runtime: EngineRuntime
    api_key: str | None
    app: web.Application
    config_path: Path
    overrides_path: Path
    data_dir: Path

    @property
    def api(self) -> str:
        return f"{self.url}/api/v1"

    def leave_a_restart_pending(self) -> None:
        """What a change the engine cannot apply live leaves (the running engine applies
        every camera and policy change at once; server, storage or database settings are
        read only at start)."""
        self.runtime.config_manager.restart_pending = True

    @property
    def headers(self) -> dict[str, str]:
        """The Authorization header for the API (empty when no key is configured)."""
        return {"Authorization": f"Bearer {self.api_key}"} if self.api_key else {}


def _bound_socket(port: int = 0) -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", port))
    return sock


@asynccontextmanager
async def running_engine(
    tmp_path: Path,
    *,
    cameras: list[dict[str, Any]] | None = None,
    api_key: str | None = None,
    database_url: str | None = None,
    run_sources: bool = False,
    trusted_proxies: list[str] | None = None,
    config: dict[str, Any] | None = None,
    api_settings: ApiSettings | None = None,
    server_limits: ServerLimits | None = None,
    port: int = 0,
    runtime_options: dict[str, Any] | None = None,
) -> AsyncIterator[RunningEngine]:
    """A started engine serving its API; `config` is merged over the generated base file.

    `port` 0 picks a free one; a given port serves an engine "restarted" where one ran before.
    `runtime_options` go to EngineRuntime (e.g. the repository's retry backoff).
    """
    data_dir = tmp_path / "engine"
    data_dir.mkdir(parents=True, exist_ok=True)
    sock = _bound_socket(port)
    port = sock.getsockname()[1]
    env_name = f"HOMESEC_TEST_API_KEY_{uuid.uuid4().hex[:8].upper()}" if api_key else None
    base: dict[str, Any] = {
        "server": {"host": "127.0.0.1", "port": port,
                   "trusted_proxies": list(trusted_proxies or [])},
        "storage": {"backend": "local", "path": str(data_dir / "clips")},
        "state": {"url": database_url or f"sqlite:///{data_dir / 'homesec.db'}",
                  "outbox_path": str(data_dir / "outbox")},
        "cameras": DEFAULT_CAMERAS if cameras is None else cameras,
    }
    if env_name:
        base["server"]["api_key_env"] = env_name
    base = merge(base, config or {})
    config_path = data_dir / "homesec.yaml"
    overrides_path = data_dir / "overrides.yaml"
    config_path.write_text(yaml.safe_dump(base, sort_keys=False), encoding="utf-8")

    if env_name:
        os.environ[env_name] = api_key or ""
    runtime: EngineRuntime | None = None
    runner: web.AppRunner | None = None
    try:
        manager = ConfigManager([config_path], overrides_path)
        await manager.load()
        runtime = EngineRuntime(manager, **(runtime_options or {}))
        await runtime.start(run_sources=run_sources)
        app = create_app(runtime, api_settings or ApiSettings(stats_cache_s=0.0,
                                                              probe_interval_s=0.0))
        runner = GuardedRunner(app, server_limits, shutdown_timeout=1.0)
        await runner.setup()
        site = web.SockSite(runner, sock)
        await site.start()
        yield RunningEngine(url=f"http://127.0.0.1:{port}", runtime=runtime, api_key=api_key,
                            app=app, config_path=config_path, overrides_path=overrides_path,
                            data_dir=data_dir)
    finally:
        if runner is not None:
            await runner.cleanup()
        if runtime is not None:
            await runtime.stop()
        sock.close()
        if env_name:
            os.environ.pop(env_name, None)
