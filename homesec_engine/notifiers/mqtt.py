"""MQTT notifier (aiomqtt): alerts to `{prefix}/alerts/{camera}`, camera health (retained)
to `{prefix}/cameras/{camera}/health`. Payloads are JSON; alerts carry the homesec_alert
payload. One connection is kept and re-made after a failure.
"""

from __future__ import annotations

import asyncio
import json
import os
import uuid
from datetime import datetime
from typing import Any

import aiomqtt

from ..records import AlertEvent
from ..timefmt import iso_z
from .base import Notifier, NotifierError

CONNECT_TIMEOUT_S = 5.0


class MqttNotifier(Notifier):
    backend = "mqtt"

    def __init__(self, config: dict[str, Any], **kwargs: Any) -> None:
        super().__init__(config, **kwargs)
        self.host = str(config.get("host") or "127.0.0.1")
        self.port = int(config.get("port") or 1883)
        self.prefix = str(config.get("topic_prefix") or "homesec").rstrip("/")
        self._client: aiomqtt.Client | None = None
        self._lock = asyncio.Lock()

    def alert_topic(self, camera: str) -> str:
        return f"{self.prefix}/alerts/{camera}"

    def health_topic(self, camera: str) -> str:
        return f"{self.prefix}/cameras/{camera}/health"

    async def start(self) -> None:
        try:
            await self._connected()
        except NotifierError as err:  # a broker that is down now may be up later
            self.last_error = str(err)

    async def close(self) -> None:
        async with self._lock:
            await self._drop()

    def status(self) -> dict[str, Any]:
        return {**super().status(), "connected": self._client is not None}

    async def send_alert(self, event: AlertEvent) -> None:
        await self._publish(self.alert_topic(event.camera), event.payload(), retain=False)

    async def send_health(self, camera: str, healthy: bool,
                          last_heartbeat: datetime | None) -> None:
        beat = iso_z(last_heartbeat) if last_heartbeat else None
        await self._publish(self.health_topic(camera),
                            {"camera": camera, "healthy": healthy, "last_heartbeat": beat},
                            retain=True)

    async def _publish(self, topic: str, data: dict[str, Any], *, retain: bool) -> None:
        client = await self._connected()
        try:
            await client.publish(topic, json.dumps(data), qos=1, retain=retain,
                                 timeout=CONNECT_TIMEOUT_S)
        except aiomqtt.MqttError as err:
            async with self._lock:
                if self._client is client:
                    await self._drop()
            raise NotifierError(f"MQTT publish failed: {err}") from err

    async def _connected(self) -> aiomqtt.Client:
        async with self._lock:
            if self._client is not None:
                return self._client
            username = _env(self.config.get("username_env"))
            password = _env(self.config.get("password_env"))
            client = aiomqtt.Client(self.host, self.port, username=username, password=password,
                                    identifier=f"homesec-{uuid.uuid4().hex[:8]}",
                                    timeout=CONNECT_TIMEOUT_S)
            try:
                await client.__aenter__()
            except aiomqtt.MqttError as err:
                raise NotifierError(
                    f"cannot connect to the MQTT broker {self.host}:{self.port}: {err}") from err
            self._client = client
            return client

    async def _drop(self) -> None:
        client, self._client = self._client, None
        if client is not None:
            try:
                await client.__aexit__(None, None, None)
            except aiomqtt.MqttError:
                pass  # already disconnected


def _env(name: str | None) -> str | None:
    return os.environ.get(name) if name else None
