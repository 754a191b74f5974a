"""Cluster mode's settings: off by default, bad values refused naming the field."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from homesec_engine.cluster import ClusterConfigError, cluster_settings
from homesec_engine.config import ConfigManager
from homesec_engine.config.loader import ConfigError, validate_config
from homesec_engine.runtime import EngineRuntime, StartupError
from tests.services import PG_URL

PG = PG_URL


def _config(cluster: dict[str, Any], **rest: Any) -> dict[str, Any]:
    return validate_config({"cluster": cluster,
                            "offsite": {"enabled": True, "bucket": "clips"}, **rest})


def test_cluster_mode_is_off_by_default() -> None:
    # Given a config that says nothing about a cluster
    config = validate_config({})
    # Then cluster mode is off and the engine runs every camera itself
    assert config["cluster"]["enabled"] is False
    assert cluster_settings(config, "sqlite:///x.db") is None


@pytest.mark.parametrize(("cluster", "field"), [
    ({"capacity": 0}, "cluster.capacity"),
    ({"lease_s": 0.5}, "cluster.lease_s"),
    ({"heartbeat_s": 0}, "cluster.heartbeat_s"),
    ({"engine_id": "Has Spaces"}, "cluster.engine_id"),
    ({"advertise_url": "ftp://x"}, "cluster.advertise_url"),
])
def test_bad_values_are_refused_naming_the_field(cluster: dict[str, Any], field: str) -> None:
    # Given a cluster section with one bad value
    # When the config is validated
    # Then the error names the field
    with pytest.raises(ConfigError, match=field.replace(".", r"\.")):
        validate_config({"cluster": {"enabled": True, **cluster}})


def test_settings_that_cannot_work_together_name_the_field() -> None:
    # Given cluster mode on SQLite, without the object store, or renewing too rarely
    # Then each is refused naming the field that must change
    with pytest.raises(ClusterConfigError, match=r"^cluster\.enabled: needs a PostgreSQL"):
        cluster_settings(_config({"enabled": True}), "sqlite:///x.db")
    no_offsite = validate_config({"cluster": {"enabled": True}})
    with pytest.raises(ClusterConfigError, match=r"^cluster\.enabled: needs offsite\.enabled"):
        cluster_settings(no_offsite, PG)
    with pytest.raises(ClusterConfigError, match=r"^cluster\.heartbeat_s: must be at most"):
        cluster_settings(_config({"enabled": True, "lease_s": 6, "heartbeat_s": 3}), PG)


def test_unset_engine_id_is_host_and_port() -> None:
    # Given an enabled cluster without an engine_id
    settings = cluster_settings(_config({"enabled": True}, server={"port": 8123}), PG)
    # Then the engine is named by its host and API port, and says where its API is
    assert settings is not None
    assert settings.engine_id.endswith("-8123")
    assert settings.advertise_url == "http://127.0.0.1:8123"
    assert settings.lease_s + settings.heartbeat_s <= 30  # the stated failover target


async def test_engine_on_sqlite_refuses_to_start_in_cluster_mode(tmp_path: Path) -> None:
    # Given an engine configured for cluster mode on its embedded SQLite database
    path = tmp_path / "homesec.yaml"
    path.write_text(yaml.safe_dump({
        "state": {"url": f"sqlite:///{tmp_path / 'h.db'}", "outbox_path": str(tmp_path / "o")},
        "storage": {"path": str(tmp_path / "clips")},
        "offsite": {"enabled": True, "bucket": "clips", "endpoint": "http://127.0.0.1:9"},
        "filter": {"backend": "builtin"}, "cluster": {"enabled": True}}), encoding="utf-8")
    manager = ConfigManager([path], tmp_path / "overrides.yaml")
    await manager.load()
    runtime = EngineRuntime(manager)
    # When it starts
    # Then it refuses, naming the field and why
    with pytest.raises(StartupError, match=r"cluster\.enabled: needs a PostgreSQL"):
        await runtime.start(run_sources=False)
