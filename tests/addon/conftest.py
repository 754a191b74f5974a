"""Fixtures for the add-on tests: temporary /data and /config, and a Supervisor stand-in.

The stand-in is a real aiohttp server on loopback that speaks the Supervisor's discovery
protocol (supervisor/api/discovery.py): bearer token, `{service, config}` body, 403 for a
service the add-on did not list in `discovery:`, one message per (add-on, service) whose
uuid is kept when the same add-on posts again.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import yaml
from aiohttp import web

from homesec_engine.addon_entry import Settings
from tests.loopback import closed_port, loopback_sockets, serve_loopback
from tests.services import PG_URL

__all__ = ["closed_port", "loopback_sockets"]  # loopback_sockets: autouse, every add-on test

REPO = Path(__file__).resolve().parents[2]
ADDON_DIR = REPO / "addon" / "homesec"
TEST_DB_URL = PG_URL

# What the scripts use of bashio (the add-on base image's shell library), reading options.json
# as the Supervisor API would return it. BASHIO_OPTIONS names the file (/data/options.json).
BASHIO_STUB = r"""
: "${BASHIO_OPTIONS:=/data/options.json}"
_opt() { jq -r --arg k "$1" '.[$k] // empty' "$BASHIO_OPTIONS"; }
bashio::config.has_value() { [[ -n "$(_opt "$1")" ]]; }
bashio::config() { _opt "$1"; }
bashio::log.info() { echo "INFO: $*"; }
bashio::log.warning() { echo "WARNING: $*"; }
bashio::log.error() { echo "ERROR: $*"; }
bashio::log.fatal() { echo "FATAL: $*"; }
"""


def addon_manifest() -> dict[str, Any]:
    return yaml.safe_load((ADDON_DIR / "config.yaml").read_text(encoding="utf-8"))


@dataclass
class SupervisorStandIn:
    token: str
    url: str = ""
    allowed_services: list[str] = field(default_factory=list)
    received: list[dict[str, Any]] = field(default_factory=list)
    refused: list[int] = field(default_factory=list)
    messages: dict[str, dict[str, Any]] = field(default_factory=dict)  # service -> message
    events: list[tuple[str, dict[str, Any]]] = field(default_factory=list)  # core API events

    async def core_event(self, request: web.Request) -> web.Response:
        """Core API proxy (`/core/api/events/<type>`): the Supervisor checks the add-on token."""
        if request.headers.get("Authorization") != f"Bearer {self.token}":
            self.refused.append(401)
            return web.json_response({"message": "Unauthorized"}, status=401)
        self.events.append((request.match_info["event_type"], await request.json()))
        return web.json_response({"message": f"Event {request.match_info['event_type']} fired."})

    async def discovery(self, request: web.Request) -> web.Response:
        auth = request.headers.get("Authorization", "")
        given = auth[7:] if auth.startswith("Bearer ") else request.headers.get(
            "X-Supervisor-Token")
        if given != self.token:
            self.refused.append(401)
            return web.json_response({"result": "error", "message": "Invalid token for access"},
                                     status=401)
        try:
            body = await request.json()
        except json.JSONDecodeError:
            self.refused.append(400)
            return web.json_response({"result": "error", "message": "Invalid JSON"}, status=400)
        if (not isinstance(body, dict) or not isinstance(body.get("service"), str)
                or not isinstance(body.get("config"), dict)):
            self.refused.append(400)
            return web.json_response({"result": "error", "message": "Invalid body"}, status=400)
        if body["service"] not in self.allowed_services:
            self.refused.append(403)
            return web.json_response(
                {"result": "error", "message": "Apps must list services they provide via "
                                               "discovery in their config!"}, status=403)
        self.received.append(body)
        message = self.messages.get(body["service"])
        if message is None:
            message = {"uuid": uuid.uuid4().hex, "config": body["config"]}
            self.messages[body["service"]] = message
        else:
            message["config"] = body["config"]  # a changed config updates the same message
        return web.json_response({"result": "ok", "data": {"uuid": message["uuid"]}})

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_post("/discovery", self.discovery)
        app.router.add_post("/core/api/events/{event_type}", self.core_event)
        return app


@pytest.fixture
async def supervisor() -> AsyncIterator[SupervisorStandIn]:
    stand_in = SupervisorStandIn(token=uuid.uuid4().hex + uuid.uuid4().hex,
                                 allowed_services=list(addon_manifest().get("discovery", [])))
    async with serve_loopback(stand_in.app()) as url:
        stand_in.url = url
        yield stand_in


@dataclass
class AddonDirs:
    data: Path
    config: Path

    @property
    def options(self) -> Path:
        return self.data / "options.json"

    def write_options(self, **options: Any) -> None:
        self.data.mkdir(parents=True, exist_ok=True)
        base = dict(addon_manifest()["options"])  # what the Supervisor writes by default
        base.update(options)
        self.options.write_text(json.dumps(base), encoding="utf-8")

    def all_file_text(self) -> str:
        """Every file the add-on left on disk, secrets files excepted."""
        skip = {"api_key", "postgres_password", "options.json"}
        return "\n".join(p.read_text(encoding="utf-8", errors="replace")
                         for root in (self.data, self.config) for p in root.rglob("*")
                         if p.is_file() and p.name not in skip)


@pytest.fixture
def addon_dirs(tmp_path: Path) -> AddonDirs:
    dirs = AddonDirs(data=tmp_path / "data", config=tmp_path / "config")
    dirs.data.mkdir()
    dirs.config.mkdir()
    return dirs


@pytest.fixture
def make_settings(addon_dirs: AddonDirs) -> Callable[..., Settings]:
    def make(supervisor: SupervisorStandIn | None = None, **overrides: Any) -> Settings:
        values: dict[str, Any] = {
            "options_path": addon_dirs.options,
            "data_dir": addon_dirs.data,
            "config_dir": addon_dirs.config,
            "supervisor_url": supervisor.url if supervisor else "http://127.0.0.1:1",
            "supervisor_token": supervisor.token if supervisor else None,
            "hostname": "a0d7b954-homesec",
            "db_timeout_s": 20.0,
            "bundled_db_url": TEST_DB_URL,
            "run_engine": False,
        }
        values.update(overrides)
        return Settings(**values)

    return make
