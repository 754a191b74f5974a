"""The three-engine compose file and its cluster config: valid, one shared config, each
engine named and reachable by its own host name, every secret from the environment."""

from __future__ import annotations

import socket
from pathlib import Path
from typing import Any

import pytest
import yaml

from homesec_engine.cluster import cluster_settings
from homesec_engine.config import merge
from homesec_engine.config.loader import validate_config

REPO = Path(__file__).resolve().parents[2]
FOLDER = REPO / "container" / "cluster"


def _compose() -> dict[str, Any]:
    return dict(yaml.safe_load((FOLDER / "compose.yaml").read_text(encoding="utf-8")))


def _env_names(node: Any) -> set[str]:
    """Every environment variable a config names in a `*_env` field."""
    if isinstance(node, dict):
        return {str(v) for k, v in node.items() if k.endswith("_env") and v} | \
            set().union(*(_env_names(v) for v in node.values()))
    if isinstance(node, list):
        return set().union(*(_env_names(v) for v in node))
    return set()


def test_three_engines_share_one_config_and_differ_by_host_name() -> None:
    # Given the compose file
    services = _compose()["services"]
    engines = {name: s for name, s in services.items() if name.startswith("engine")}
    # Then it runs three engines on the same image, config files and environment
    assert len(engines) == 3
    assert len({str(s["command"]) for s in engines.values()}) == 1
    assert len({str(sorted(s["environment"].items())) for s in engines.values()}) == 1
    # And each has a host name and host port of its own, and a data volume of its own
    assert len({s["hostname"] for s in engines.values()}) == 3
    assert len({s["ports"][0] for s in engines.values()}) == 3
    assert len({s["volumes"][0] for s in engines.values()}) == 3
    assert all("./cluster.yaml:/etc/homesec/cluster.yaml:ro" in s["volumes"]
               for s in engines.values())


def test_the_layered_config_is_a_valid_cluster(monkeypatch: pytest.MonkeyPatch) -> None:
    # Given the image's config with the cluster file layered on top, on host engine2
    base = yaml.safe_load((REPO / "container" / "homesec.yaml").read_text(encoding="utf-8"))
    layer = yaml.safe_load((FOLDER / "cluster.yaml").read_text(encoding="utf-8"))
    config = validate_config(merge(base, layer))
    monkeypatch.setattr(socket, "gethostname", lambda: "engine2")
    # When cluster mode reads it with the compose file's PostgreSQL URL
    settings = cluster_settings(config, "postgresql://homesec@db:5432/homesec")
    # Then engine2 joins as engine2-8080, reachable by the others at http://engine2:8080
    assert settings is not None
    assert (settings.engine_id, settings.advertise_url) == ("engine2-8080",
                                                           "http://engine2:8080")
    # And every secret the config names is set by the compose file, none written in it
    environment = _compose()["services"]["engine1"]["environment"]
    assert _env_names(config) <= set(environment)
    assert "password" not in yaml.safe_dump(layer).lower()
