"""Home Assistant notifier: fires `homesec_alert` on HA's event bus through its REST API.

Home Assistant is reached as homesec_engine/hass_target.py says (add-on or standalone), chosen
at start; neither available is a start-up error that says what to set. Camera health changes go
out as `homesec_camera_health` events, live events (started/updated/ended/interrupted) as
`homesec_event`.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import aiohttp

from ..hass_target import HassTargetError, resolve_target
from ..records import AlertEvent
from ..timefmt import iso_z
from ..schema.events import ALERT_EVENT_TYPE, CAMERA_HEALTH_EVENT_TYPE, LIVE_EVENT_TYPE
from .base import Notifier, NotifierConfigError, NotifierError, PermanentNotifierError

REQUEST_TIMEOUT_S = 10.0


class HomeAssistantNotifier(Notifier):
    backend = "home_assistant"
    sends_live_events = True

    def __init__(self, config: dict[str, Any], **kwargs: Any) -> None:
        super().__init__(config, **kwargs)
        self.mode: str | None = None
        self._base = ""
        self._token = ""
        self._session: aiohttp.ClientSession | None = None

    async def start(self) -> None:
        try:
            self.mode, self._base, self._token = resolve_target(
                self.config, "home_assistant notifier")
        except HassTargetError as err:
            raise NotifierConfigError(str(err)) from err
        if self._session is None:
            self._session = aiohttp.ClientSession()

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    def status(self) -> dict[str, Any]:
        return {**super().status(), "mode": self.mode}

    async def send_alert(self, event: AlertEvent) -> None:
        await self._fire(ALERT_EVENT_TYPE, event.payload())

    async def send_live_event(self, message: dict[str, Any]) -> None:
        await self._fire(LIVE_EVENT_TYPE, message)

    async def send_health(self, camera: str, healthy: bool,
                          last_heartbeat: datetime | None) -> None:
        beat = iso_z(last_heartbeat) if last_heartbeat else None
        await self._fire(CAMERA_HEALTH_EVENT_TYPE,
                         {"camera": camera, "healthy": healthy, "last_heartbeat": beat})

    async def _fire(self, event_type: str, data: dict[str, Any]) -> None:
        if self._session is None:
            raise NotifierError("the home_assistant notifier is not started")
        url = f"{self._base}/api/events/{event_type}"
        headers = {"Authorization": f"Bearer {self._token}"}
        try:
            async with self._session.post(
                url, json=data, headers=headers,
                timeout=aiohttp.ClientTimeout(total=REQUEST_TIMEOUT_S),
            ) as resp:
                if resp.status in (401, 403):
                    raise PermanentNotifierError(
                        f"Home Assistant refused the token (HTTP {resp.status})")
                if resp.status >= 400:
                    err = NotifierError if resp.status >= 500 or resp.status == 429 \
                        else PermanentNotifierError
                    raise err(f"Home Assistant answered HTTP {resp.status}")
        except TimeoutError as exc:
            raise NotifierError("Home Assistant did not answer in time") from exc
        except aiohttp.ClientError as exc:
            raise NotifierError(f"cannot reach Home Assistant: {type(exc).__name__}") from exc
