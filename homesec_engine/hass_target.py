"""How the engine reaches Home Assistant's REST API (the home_assistant notifier and analyzer).

Two modes, chosen from the environment:

- supervisor (the add-on): `SUPERVISOR_TOKEN` is set; base URL `http://supervisor/core`
  (the env var `HOMESEC_SUPERVISOR_CORE_URL` replaces it, for tests);
- standalone: the base URL and a long-lived access token come from the env vars that the
  config names in `url_env` and `token_env`.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

SUPERVISOR_CORE_URL = "http://supervisor/core"
SUPERVISOR_URL_OVERRIDE_ENV = "HOMESEC_SUPERVISOR_CORE_URL"


class HassTargetError(ValueError):
    """Neither mode is available; the message says what to set."""


def resolve_target(config: Mapping[str, Any], who: str) -> tuple[str, str, str]:
    """(mode, base_url, token) from the environment; HassTargetError naming `who` when
    impossible."""
    supervisor_token = os.environ.get("SUPERVISOR_TOKEN")
    if supervisor_token:
        base = os.environ.get(SUPERVISOR_URL_OVERRIDE_ENV) or SUPERVISOR_CORE_URL
        return "supervisor", base.rstrip("/"), supervisor_token
    url_env, token_env = config.get("url_env"), config.get("token_env")
    if not url_env or not token_env:
        raise HassTargetError(
            f"{who}: not running as an add-on (SUPERVISOR_TOKEN is not set) "
            "and url_env/token_env are not configured; set url_env and token_env to the names "
            "of environment variables holding Home Assistant's URL and a long-lived token"
        )
    missing = [name for name in (url_env, token_env) if not os.environ.get(name)]
    if missing:
        raise HassTargetError(
            f"{who}: environment variable(s) "
            f"{', '.join(missing)} not set (url_env={url_env}, token_env={token_env})"
        )
    return "standalone", os.environ[url_env].rstrip("/"), os.environ[token_env]
