"""The `cluster` config section, checked against the rest of the config at start."""

from __future__ import annotations

import hashlib
import json
import re
import socket
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy.engine import make_url


class ClusterConfigError(ValueError):
    """Cluster mode cannot work with this config; `path` names the field."""

    def __init__(self, path: str, message: str) -> None:
        self.path, self.message = path, message
        super().__init__(f"{path}: {message}")


@dataclass(frozen=True, slots=True)
class ClusterSettings:
    engine_id: str
    capacity: int
    lease_s: float
    heartbeat_s: float
    advertise_url: str
    # Of the config files, without run-time changes (which cameras the installation shares
    # through PostgreSQL): engines given other files refuse.
    config_version: int
    config_digest: str  # the enabled cameras

    @property
    def stop_margin_s(self) -> float:
        """Recording stops this long before a lease could run out unrenewed, so a camera is
        stopped before another engine may take it."""
        return self.heartbeat_s


def _default_engine_id(port: int) -> str:
    host = re.sub(r"[^a-z0-9_.-]+", "-", socket.gethostname().lower()).strip("-") or "engine"
    return f"{host[:56]}-{port}"


def camera_digest(cameras: list[Mapping[str, Any]]) -> str:
    """What engines of one installation must agree on: the enabled cameras' names."""
    names = sorted(c["name"] for c in cameras if c.get("enabled", True))
    return hashlib.sha256(json.dumps(names).encode()).hexdigest()[:16]


def cluster_settings(config: Mapping[str, Any], database_url: str,
                     files: Mapping[str, Any] | None = None) -> ClusterSettings | None:
    """The settings of an enabled cluster; None when cluster mode is off. The versions its
    engines compare are those of `files`, the config files without run-time changes
    (default: `config`): a camera added, changed or removed through an API reaches every
    engine through PostgreSQL, and an engine restarted since must not differ by it.

    Raises ClusterConfigError naming the field when the rest of the config cannot carry it.
    """
    section = config.get("cluster") or {}
    if not section.get("enabled"):
        return None
    try:
        backend = make_url(database_url).get_backend_name()
    except Exception:  # noqa: BLE001 - the repository reports a bad URL itself
        backend = "?"
    if backend != "postgresql":
        raise ClusterConfigError("cluster.enabled", "needs a PostgreSQL state.url shared by "
                                 f"every engine (this one is {backend})")
    if not (config.get("offsite") or {}).get("enabled"):
        raise ClusterConfigError("cluster.enabled", "needs offsite.enabled: clips go to the "
                                 "object store every engine serves them from")
    lease_s, heartbeat_s = float(section["lease_s"]), float(section["heartbeat_s"])
    if heartbeat_s * 3 > lease_s:
        raise ClusterConfigError("cluster.heartbeat_s", f"must be at most a third of "
                                 f"cluster.lease_s ({lease_s:g} s), so a lease is renewed "
                                 "several times before it runs out")
    server = config.get("server") or {}
    port = int(server.get("port") or 8080)
    host = str(server.get("host") or "127.0.0.1")
    if host in ("0.0.0.0", "::"):  # listening everywhere: peers reach it by its host name
        host = socket.gethostname()
    advertise = section.get("advertise_url") or f"http://{host}:{port}"
    return ClusterSettings(
        engine_id=section.get("engine_id") or _default_engine_id(port),
        capacity=int(section["capacity"]), lease_s=lease_s, heartbeat_s=heartbeat_s,
        advertise_url=str(advertise).rstrip("/"),
        config_version=int((config if files is None else files).get("config_version") or 1),
        config_digest=camera_digest((config if files is None else files).get("cameras") or []))
