"""Announce the engine to the Supervisor discovery API, so the integration offers one-click setup.

Protocol (supervisor/api/discovery.py): `POST {supervisor}/discovery` with
`Authorization: Bearer $SUPERVISOR_TOKEN` and `{"service": "homesec", "config": {...}}`; the
answer is `{"result": "ok", "data": {"uuid": "<hex>"}}`. Posting the same config again
returns the same uuid, so announcing on every start is safe.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import aiohttp

_LOGGER = logging.getLogger(__name__)

SERVICE = "homesec"  # the integration domain that receives the flow; listed in `discovery:`


class DiscoveryError(RuntimeError):
    pass


def discovery_body(host: str, port: int, api_key: str) -> dict[str, Any]:
    return {"service": SERVICE, "config": {"host": host, "port": port, "api_key": api_key}}


async def _post_once(session: aiohttp.ClientSession, url: str, token: str,
                     body: dict[str, Any]) -> str:
    async with session.post(url, json=body,
                            headers={"Authorization": f"Bearer {token}"}) as resp:
        try:
            answer = await resp.json(content_type=None)
        except (ValueError, aiohttp.ContentTypeError):
            answer = None
        if resp.status >= 400 or not isinstance(answer, dict) or answer.get("result") != "ok":
            message = answer.get("message") if isinstance(answer, dict) else None
            raise DiscoveryError(f"the Supervisor answered {resp.status}: {message or 'error'}",
                                 resp.status)
        data = answer.get("data")
        uuid = data.get("uuid") if isinstance(data, dict) else None
        if not isinstance(uuid, str):
            raise DiscoveryError("the Supervisor's answer carries no discovery uuid", resp.status)
        return uuid


async def announce(supervisor_url: str, token: str, body: dict[str, Any], *,
                   attempts: int = 3, backoff_s: float = 1.0,
                   timeout_s: float = 10.0) -> str:
    """POST the discovery message; retries transient failures, not refusals (4xx)."""
    url = supervisor_url.rstrip("/") + "/discovery"
    last: Exception | None = None
    timeout = aiohttp.ClientTimeout(total=timeout_s)
    async with aiohttp.ClientSession(timeout=timeout) as session:
        for attempt in range(attempts):
            try:
                return await _post_once(session, url, token, body)
            except DiscoveryError as err:
                last = err
                status = err.args[1] if len(err.args) > 1 else 0
                if 400 <= status < 500:
                    break  # a bad token or an unlisted service will not fix itself
            except (aiohttp.ClientError, asyncio.TimeoutError) as err:
                last = DiscoveryError(f"cannot reach the Supervisor at {supervisor_url}: "
                                      f"{type(err).__name__} {err}".rstrip())
            if attempt + 1 < attempts:
                await asyncio.sleep(backoff_s * (2 ** attempt))
    assert last is not None
    raise DiscoveryError(str(last.args[0]) if last.args else str(last))
