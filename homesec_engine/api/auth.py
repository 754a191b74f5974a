"""Bearer-key authentication.

The key comes from the environment variable named by `server.api_key_env`, read once when
the app is built. Public routes (health, diagnostics, the OpenAPI document, the panel's
static files) need no key; neither do peers listed in `server.trusted_proxies` (the add-on
lists the Supervisor's ingress proxy, 172.30.32.2, which authenticates HA users itself).
"""

from __future__ import annotations

import hmac
import ipaddress
import logging
import os
from functools import lru_cache
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from .errors import ApiError, error_response

_LOGGER = logging.getLogger(__name__)

PUBLIC_KEY = "homesec.public"  # route-level flag: the handler needs no key


@dataclass(frozen=True, slots=True)
class AuthSettings:
    key: bytes | None  # None: no key configured, everyone may call the API
    trusted: frozenset[str] = field(default_factory=frozenset)
    required: bool = False  # a key env var is configured (even when it is empty)


@lru_cache(maxsize=256)
def normalise_ip(value: str) -> str:
    try:
        return str(ipaddress.ip_address(value.strip()))
    except ValueError:
        return value.strip()


def load_auth(server_config: dict[str, Any]) -> AuthSettings:
    env_name = server_config.get("api_key_env")
    trusted = frozenset(normalise_ip(p) for p in server_config.get("trusted_proxies") or [])
    if not env_name:
        return AuthSettings(key=None, trusted=trusted)
    value = os.environ.get(env_name, "")
    if not value:
        # Fail closed: a configured but missing key must not open the API to everyone.
        _LOGGER.warning("The API key variable %s is empty or unset: only trusted proxies "
                        "can use the API", env_name)
    return AuthSettings(key=value.encode() if value else b"", trusted=trusted, required=True)


def peer_is_trusted(request: web.Request, settings: AuthSettings) -> bool:
    if not settings.trusted:
        return False
    remote = request.remote
    return remote is not None and normalise_ip(remote) in settings.trusted


def is_authorised(request: web.Request, settings: AuthSettings) -> bool:
    if not settings.required or peer_is_trusted(request, settings):
        return True
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not settings.key:
        return False
    return hmac.compare_digest(token.strip().encode("utf-8", "surrogateescape"), settings.key)


def unauthorised() -> web.Response:
    return error_response(
        ApiError(401, "UNAUTHORIZED", "A valid API key is required (Authorization: Bearer)"),
        headers={"WWW-Authenticate": 'Bearer realm="homesec"'},
    )
