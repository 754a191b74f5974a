"""Notifiers: Home Assistant's events API (supervisor and standalone) and real MQTT."""

from __future__ import annotations

import asyncio
import json
import shutil
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aiomqtt
import pytest

from homesec_engine.notifiers import (
    HomeAssistantNotifier,
    MqttNotifier,
    NotifierConfigError,
    NotifierError,
)
from homesec_engine.records import AlertEvent, ClipFile
from tests.videotools import free_port

from .conftest import MQTT_HOST, MQTT_PORT, FakeHomeAssistant, Scene, mqtt_inbox

TOKEN = "ha-long-lived-token-for-tests"


def alert(camera: str = "front_door") -> AlertEvent:
    return AlertEvent(
        camera=camera, clip_id=f"clip-{uuid.uuid4().hex[:8]}", activity_type="person",
        risk_level="medium", summary="Someone at the door.",
        view_url="/api/v1/clips/x/media", storage_uri="local://x.mp4",
        timestamp=datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC), detected_objects=["person"])


HA_CONFIG = {"backend": "home_assistant", "url_env": "HOMESEC_TEST_HA_URL",
             "token_env": "HOMESEC_TEST_HA_TOKEN", "max_retries": 3}


@pytest.fixture
def standalone_env(monkeypatch: pytest.MonkeyPatch, fake_ha: FakeHomeAssistant) -> None:
    monkeypatch.delenv("SUPERVISOR_TOKEN", raising=False)
    monkeypatch.setenv("HOMESEC_TEST_HA_URL", fake_ha.url)
    monkeypatch.setenv("HOMESEC_TEST_HA_TOKEN", TOKEN)


async def test_standalone_mode_fires_homesec_alert_with_the_spec_payload(
    fake_ha: FakeHomeAssistant, standalone_env: None
) -> None:
    # Given a home_assistant notifier whose URL and token come from the env vars it names
    notifier = HomeAssistantNotifier(HA_CONFIG)
    await notifier.start()
    event = alert()
    try:
        # When an alert is sent
        await notifier.notify(event)
    finally:
        await notifier.close()
    # Then HA's events API got homesec_alert with the SPEC §7 payload (plus its tier, its
    # snapshot link and the camera's last-alert summary the alert makes) and the
    # bearer token
    (request,) = fake_ha.requests
    assert request.path == "/api/events/homesec_alert"
    assert request.authorization == f"Bearer {TOKEN}"
    assert request.body == {
        "camera": "front_door", "clip_id": event.clip_id, "activity_type": "person",
        "risk_level": "medium", "summary": "Someone at the door.",
        "view_url": "/api/v1/clips/x/media", "storage_uri": "local://x.mp4",
        "timestamp": "2026-01-02T03:04:05Z", "detected_objects": ["person"],
        "objects": [], "zones": [], "tier": "alert", "snapshot_url": None,
        "last_alert": {"clip_id": event.clip_id, "activity_type": "person",
                       "risk_level": "medium", "summary": "Someone at the door.",
                       "detected_objects": ["person"], "timestamp": "2026-01-02T03:04:05Z",
                       "objects": [], "zones": []},
    }
    assert notifier.mode == "standalone"


async def test_supervisor_mode_uses_the_supervisor_token_and_core_proxy(
    fake_ha: FakeHomeAssistant, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given the add-on environment (SUPERVISOR_TOKEN), even with standalone vars configured
    monkeypatch.setenv("SUPERVISOR_TOKEN", "supervisor-token")
    monkeypatch.setenv("HOMESEC_SUPERVISOR_CORE_URL", f"{fake_ha.url}/core")
    monkeypatch.setenv("HOMESEC_TEST_HA_URL", "http://127.0.0.1:9")
    monkeypatch.setenv("HOMESEC_TEST_HA_TOKEN", TOKEN)
    notifier = HomeAssistantNotifier(HA_CONFIG)
    await notifier.start()
    try:
        # When an alert and a camera health change are sent
        await notifier.notify(alert())
        await notifier.publish_camera_health("front_door", False)
    finally:
        await notifier.close()
    # Then both went through the Supervisor's core proxy with the supervisor token
    assert [r.path for r in fake_ha.requests] == [
        "/core/api/events/homesec_alert", "/core/api/events/homesec_camera_health"]
    assert {r.authorization for r in fake_ha.requests} == {"Bearer supervisor-token"}
    assert fake_ha.requests[1].body == {"camera": "front_door", "healthy": False,
                                        "last_heartbeat": None}
    assert notifier.mode == "supervisor"


@pytest.mark.parametrize("config", [
    {"backend": "home_assistant"},
    HA_CONFIG,
])
async def test_neither_mode_available_is_a_clear_start_up_error(
    monkeypatch: pytest.MonkeyPatch, config: dict[str, Any]
) -> None:
    # Given no SUPERVISOR_TOKEN, and standalone vars either not configured or not set
    for name in ("SUPERVISOR_TOKEN", "HOMESEC_TEST_HA_URL", "HOMESEC_TEST_HA_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    notifier = HomeAssistantNotifier(config)
    # When it starts / Then the error says what to set
    with pytest.raises(NotifierConfigError) as info:
        await notifier.start()
    message = str(info.value)
    assert "SUPERVISOR_TOKEN" in message or "HOMESEC_TEST_HA_URL" in message
    if config.get("url_env"):
        assert "HOMESEC_TEST_HA_URL" in message and "HOMESEC_TEST_HA_TOKEN" in message
    await notifier.close()


async def test_alerts_are_retried_with_backoff_while_ha_is_down(
    fake_ha: FakeHomeAssistant, standalone_env: None
) -> None:
    # Given HA that answers 503 twice before it is back
    fake_ha.fail_next = 2
    notifier = HomeAssistantNotifier(HA_CONFIG, backoff_s=0.01, max_backoff_s=0.05)
    await notifier.start()
    try:
        # When an alert is sent
        await notifier.notify(alert())
    finally:
        await notifier.close()
    # Then it arrived on the third attempt
    assert len(fake_ha.requests) == 3
    assert len(fake_ha.events("homesec_alert")) == 1
    assert notifier.status()["status"] == "ok" and notifier.sent == 1


async def test_retries_are_bounded_when_ha_stays_down(
    fake_ha: FakeHomeAssistant, standalone_env: None
) -> None:
    # Given HA that keeps failing
    fake_ha.fail_next = 1000
    notifier = HomeAssistantNotifier({**HA_CONFIG, "max_retries": 2}, backoff_s=0.01,
                                     max_backoff_s=0.02)
    await notifier.start()
    try:
        # When an alert is sent / Then it gives up after 1 + max_retries attempts
        with pytest.raises(NotifierError, match="503"):
            await notifier.notify(alert())
    finally:
        await notifier.close()
    assert len(fake_ha.requests) == 3
    assert notifier.failed == 1 and "503" in notifier.status()["error"]


async def test_a_refused_token_is_not_retried(
    fake_ha: FakeHomeAssistant, standalone_env: None
) -> None:
    # Given HA that refuses the token
    fake_ha.fail_next, fake_ha.fail_status = 1000, 401
    notifier = HomeAssistantNotifier(HA_CONFIG, backoff_s=0.01)
    await notifier.start()
    try:
        with pytest.raises(NotifierError, match="token"):
            await notifier.notify(alert())
    finally:
        await notifier.close()
    # Then it asked once: retrying cannot fix a bad token
    assert len(fake_ha.requests) == 1


async def test_pipeline_is_not_held_up_while_ha_is_unreachable(
    pipeline_rig: Callable[..., Any], make_video: Callable[..., Path],
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    # Given a pipeline whose only notifier points at an HA that is not there
    monkeypatch.delenv("SUPERVISOR_TOKEN", raising=False)
    monkeypatch.setenv("HOMESEC_TEST_HA_URL", f"http://127.0.0.1:{free_port()}")
    monkeypatch.setenv("HOMESEC_TEST_HA_TOKEN", TOKEN)
    notifier = HomeAssistantNotifier({**HA_CONFIG, "max_retries": 10}, backoff_s=0.2,
                                     max_backoff_s=0.5)
    rig = await pipeline_rig(notifiers=[notifier])
    clips = []
    for i in range(2):
        path = rig.work_dir / f"clip{i}.mp4"
        shutil.copy(make_video(Scene(subject=(36, 90))), path)
        now = datetime.now(UTC)
        clips.append(ClipFile("front_door", path, now, now))
    with rig.events.subscribe() as sub:
        # When two clips go through it
        outcomes = [await rig.pipeline.process(clip) for clip in clips]
        # Then both are done and alerted at once, live alerts published,
        # while HA deliveries are still being retried in the background
        assert [o.status for o in outcomes] == ["done", "done"]
        assert [(await sub.get())["type"] for _ in outcomes] == ["alert", "alert"]
    assert rig.fanout.in_flight == 2
    assert notifier.sent == 0
    # And stopping cancels the pending deliveries within the drain bound
    await rig.fanout.drain(0.1)
    assert rig.fanout.in_flight == 0


# -- MQTT ------------------------------------------------------------------------------------


async def test_mqtt_alert_arrives_on_the_camera_topic(mqtt_prefix: str) -> None:
    # Given a subscriber on the real broker and an mqtt notifier with its own topic prefix
    notifier = MqttNotifier({"backend": "mqtt", "host": MQTT_HOST, "port": MQTT_PORT,
                             "topic_prefix": mqtt_prefix, "max_retries": 2})
    async with mqtt_inbox(mqtt_prefix) as inbox:
        await notifier.start()
        event = alert("driveway")
        try:
            # When an alert is sent
            await notifier.notify(event)
            # Then the subscriber receives its payload on {prefix}/alerts/{camera}
            topic, payload = await inbox.wait_for(lambda t, p: "/alerts/" in t, timeout=20)
        finally:
            await notifier.close()
    assert topic == f"{mqtt_prefix}/alerts/driveway"
    assert payload == event.payload()


async def test_mqtt_camera_health_is_retained(mqtt_prefix: str) -> None:
    # Given an mqtt notifier
    notifier = MqttNotifier({"backend": "mqtt", "host": MQTT_HOST, "port": MQTT_PORT,
                             "topic_prefix": mqtt_prefix})
    await notifier.start()
    topic = f"{mqtt_prefix}/cameras/garage/health"
    try:
        # When a camera's health is published before anyone listens
        beat = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
        await notifier.publish_camera_health("garage", True, beat)
        # Then a subscriber that comes later still gets it (retained)
        async with mqtt_inbox(mqtt_prefix) as inbox:
            got_topic, payload = await inbox.wait_for(lambda t, p: t == topic, timeout=20)
            assert inbox.messages[0][2] is True  # delivered as a retained message
        assert payload == {"camera": "garage", "healthy": True,
                           "last_heartbeat": "2026-01-02T03:04:05Z"}
    finally:
        await notifier.close()
        # Clear the retained message so the broker keeps no test leftovers.
        async with aiomqtt.Client(MQTT_HOST, MQTT_PORT) as client:
            await client.publish(topic, b"", retain=True)


async def test_mqtt_broker_down_is_reported_not_raised_at_start() -> None:
    # Given an mqtt notifier pointed at a port where no broker listens
    notifier = MqttNotifier({"backend": "mqtt", "host": "127.0.0.1", "port": free_port(),
                             "max_retries": 1}, backoff_s=0.01)
    # When it starts / Then the engine can still start; the status says what is wrong
    await notifier.start()
    assert notifier.status()["status"] == "error" and not notifier.status()["connected"]
    # And an alert fails after its bounded retries
    with pytest.raises(NotifierError, match="MQTT"):
        await notifier.notify(alert())
    await notifier.close()
    assert json.dumps(notifier.status())  # diagnostics stay serialisable
    await asyncio.sleep(0)
