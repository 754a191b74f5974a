"""The engine config the add-on writes on first start, and the layer it enforces every start.

Two files, two jobs:
- the *base* file (`/config/config.yaml`, the add-on's own config folder) is written once from
  the options and never touched again: the user may edit it, and run-time changes go to the
  override file (`/data/overrides.yaml`) through the API and the integration;
- the *add-on layer* (`/data/addon.yaml`) is rewritten on every start and loaded after the base
  file. It holds what the add-on must guarantee whatever the base file says (listen address,
  API key requirement, the ingress proxy, the database env var, the override path), so a
  config copied over from a standalone install works unchanged.
Neither holds a secret: only the names of the env vars set by the entry point.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import yaml

from ..schema import validate
from .dburl import without_password
from .options import AddonOptions

PORT = 8080
INGRESS_PROXY = "172.30.32.2"  # the Supervisor container: the only peer allowed without a key

ENV_API_KEY = "HOMESEC_API_KEY"
ENV_DATABASE_URL = "HOMESEC_DATABASE_URL"
ENV_VLM_API_KEY = "HOMESEC_VLM_API_KEY"
ENV_MQTT_USERNAME = "HOMESEC_MQTT_USERNAME"
ENV_MQTT_PASSWORD = "HOMESEC_MQTT_PASSWORD"

BASE_CONFIG_NAME = "config.yaml"
ADDON_LAYER_NAME = "addon.yaml"
OVERRIDES_NAME = "overrides.yaml"

_HEADER = (
    "# HomeSec engine configuration, written once by the add-on on its first start.\n"
    "# The add-on options only seed this file; edit it here, or change cameras and the alert\n"
    "# policy from Home Assistant (those changes are kept in /data/overrides.yaml).\n"
    "# Secrets are never written here: settings ending in _env name environment variables.\n"
)


def addon_layer(data_dir: Path, database_url: str, port: int = PORT) -> dict[str, Any]:
    """What the add-on enforces on every start (loaded after the user's base file)."""
    return {
        "config_overrides_path": str(data_dir / OVERRIDES_NAME),
        "server": {
            "host": "0.0.0.0",  # reached by the ingress proxy and the integration
            "port": port,  # the ingress_port of config.yaml; other values only in tests
            "api_key_env": ENV_API_KEY,
            "trusted_proxies": [INGRESS_PROXY],
        },
        "state": {
            "url": without_password(database_url),
            "url_env": ENV_DATABASE_URL,
            "outbox_path": str(data_dir / "outbox"),
        },
    }


def initial_config(options: AddonOptions, data_dir: Path, database_url: str,
                   port: int = PORT) -> dict[str, Any]:
    """The first base config, seeded from the options.

    No camera: a home security system should not invent alerts or add a fake device to Home
    Assistant; cameras are added from the integration, the panel or the API (DOCS.md shows
    how to add the synthetic `demo` camera to try the pipeline without hardware).
    """
    layer = addon_layer(data_dir, database_url, port)
    return {
        "log_level": options.log_level,
        "config_overrides_path": layer["config_overrides_path"],
        "server": layer["server"],
        "storage": {"backend": "local", "path": options.storage_path},
        "state": layer["state"],
        "analyzer": {
            "enabled": options.vlm_enabled,
            "model": options.vlm_model,
            "api_key_env": ENV_VLM_API_KEY,
        },
        # No url_env/token_env: inside the add-on the notifier uses SUPERVISOR_TOKEN and
        # http://supervisor/core, read from the environment at run time.
        "notifiers": [{"backend": "home_assistant", "enabled": True}],
        "cameras": [],
    }


def _dump(data: dict[str, Any]) -> str:
    return yaml.safe_dump(data, sort_keys=False, default_flow_style=False)


def _write_new(path: Path, text: str) -> bool:
    """Create `path` with `text` unless it exists; durable and never half-written."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    with open(tmp, "w", encoding="utf-8") as handle:
        handle.write(text)
        handle.flush()
        os.fsync(handle.fileno())
    try:
        os.link(tmp, path)  # atomic create-if-absent: an existing file is never replaced
    except FileExistsError:
        return False
    finally:
        tmp.unlink(missing_ok=True)
    return True


def write_initial_config(path: Path, config: dict[str, Any]) -> bool:
    """Write the base config only if none exists; True when it was written now."""
    if path.exists():
        return False
    validate("Config", config)  # never leave a file the engine would refuse
    return _write_new(path, _HEADER + _dump(config))


def write_addon_layer(path: Path, layer: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text("# Rewritten by the add-on on every start; do not edit.\n" + _dump(layer),
                   encoding="utf-8")
    os.replace(tmp, path)
