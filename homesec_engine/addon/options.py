"""The add-on options (`/data/options.json`, written by the Supervisor from config.yaml)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

LOG_LEVELS = ("debug", "info", "warning", "error")

# Must equal `options:` in addon/homesec/config.yaml (a test compares them): the Supervisor
# fills these in, and a hand-run entry point without options.json falls back to them.
DEFAULT_OPTIONS: dict[str, Any] = {
    "log_level": "info",
    "storage_path": "/media/homesec",
    "vlm_enabled": False,
    "vlm_model": "gpt-4o-mini",
}


class OptionsError(ValueError):
    """The options file is missing a value or holds one of the wrong type."""


@dataclass(frozen=True, slots=True)
class AddonOptions:
    log_level: str = "info"
    storage_path: str = "/media/homesec"
    database_url: str | None = None
    database_password: str | None = None
    vlm_enabled: bool = False
    vlm_model: str = "gpt-4o-mini"
    vlm_api_key: str | None = None
    mqtt_username: str | None = None
    mqtt_password: str | None = None
    api_key: str | None = None

    @property
    def external_database(self) -> bool:
        return bool(self.database_url)

    def __repr__(self) -> str:  # never print the secrets
        shown = {k: v for k, v in self._public().items()}
        return f"AddonOptions({shown})"

    def _public(self) -> dict[str, Any]:
        return {
            "log_level": self.log_level,
            "storage_path": self.storage_path,
            "external_database": self.external_database,
            "vlm_enabled": self.vlm_enabled,
            "vlm_model": self.vlm_model,
        }


def _opt_str(raw: dict[str, Any], key: str) -> str | None:
    value = raw.get(key)
    if value is None:
        return None
    if not isinstance(value, str):
        raise OptionsError(f"option {key!r} must be text")
    value = value.strip()
    return value or None


def parse_options(raw: Any) -> AddonOptions:
    """Check the types the Supervisor already enforces (the file can also be hand-written)."""
    if not isinstance(raw, dict):
        raise OptionsError("the options file must hold a JSON object")
    data = {**DEFAULT_OPTIONS, **{k: v for k, v in raw.items() if v is not None}}
    log_level = data["log_level"]
    if log_level not in LOG_LEVELS:
        raise OptionsError(f"option 'log_level' must be one of {', '.join(LOG_LEVELS)}")
    storage_path = _opt_str(data, "storage_path")
    if not storage_path or not storage_path.startswith("/"):
        raise OptionsError("option 'storage_path' must be an absolute path such as "
                           "/media/homesec")
    if not isinstance(data["vlm_enabled"], bool):
        raise OptionsError("option 'vlm_enabled' must be true or false")
    vlm_model = _opt_str(data, "vlm_model")
    if not vlm_model:
        raise OptionsError("option 'vlm_model' must name a model")
    database_url = _opt_str(data, "database_url")
    if database_url is not None and not database_url.split("://", 1)[0].startswith(
        ("postgresql", "postgres")
    ):
        raise OptionsError("option 'database_url' must be a PostgreSQL URL "
                           "(postgresql://user@host:5432/database)")
    return AddonOptions(
        log_level=log_level,
        storage_path=storage_path,
        database_url=database_url,
        database_password=_opt_str(data, "database_password"),
        vlm_enabled=data["vlm_enabled"],
        vlm_model=vlm_model,
        vlm_api_key=_opt_str(data, "vlm_api_key"),
        mqtt_username=_opt_str(data, "mqtt_username"),
        mqtt_password=_opt_str(data, "mqtt_password"),
        api_key=_opt_str(data, "api_key"),
    )


def load_options(path: Path) -> AddonOptions:
    """Read and check the options file; a missing file means the defaults."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return parse_options({})
    try:
        raw = json.loads(text)
    except json.JSONDecodeError as err:
        raise OptionsError(f"{path}: invalid JSON at line {err.lineno}: {err.msg}") from err
    return parse_options(raw)
