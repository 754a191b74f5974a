"""End to end on the embedded default: demo camera -> clips -> detection -> alert -> HA + MQTT."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aiomqtt
import pytest
import yaml

from homesec_engine.config import ConfigManager
from homesec_engine.config.defaults import embedded_default
from homesec_engine.records import ClipQuery
from homesec_engine.runtime import EngineRuntime
from tests.videotools import Segment, make_motion_video

from .conftest import MQTT_HOST, MQTT_PORT, FakeHomeAssistant, mqtt_inbox

TOKEN = "e2e-long-lived-token"


def runtime_for(data: Path, overrides: dict[str, Any]) -> tuple[ConfigManager, Path]:
    path = data.parent / "overrides.yaml"
    path.write_text(yaml.safe_dump(overrides))
    return ConfigManager([], path, embedded_default=embedded_default(data)), path


async def wait_until(predicate: Any, timeout: float = 60.0, every: float = 0.1) -> None:
    async with asyncio.timeout(timeout):
        while not await predicate():
            await asyncio.sleep(every)


async def test_demo_camera_alert_reaches_home_assistant_and_mqtt(
    tmp_path: Path, fake_ha: FakeHomeAssistant, mqtt_prefix: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Given the embedded default with an override adding both notifiers and a quick demo camera
    monkeypatch.delenv("SUPERVISOR_TOKEN", raising=False)
    monkeypatch.setenv("HOMESEC_E2E_HA_URL", fake_ha.url)
    monkeypatch.setenv("HOMESEC_E2E_HA_TOKEN", TOKEN)
    data = tmp_path / "data"
    manager, _ = runtime_for(data, {
        "notifiers": [
            {"backend": "home_assistant", "url_env": "HOMESEC_E2E_HA_URL",
             "token_env": "HOMESEC_E2E_HA_TOKEN"},
            {"backend": "mqtt", "host": MQTT_HOST, "port": MQTT_PORT,
             "topic_prefix": mqtt_prefix},
        ],
        "cameras": [{"name": "demo", "enabled": True, "source_backend": "demo",
                     "source_config": {"interval_s": 3, "subject": "person"}}],
    })
    await manager.load()
    runtime = EngineRuntime(manager, notifier_backoff_s=0.05)
    async with mqtt_inbox(mqtt_prefix) as inbox:
        with runtime.events.subscribe() as live:
            # When the engine runs
            await runtime.start()
            try:
                # Then Home Assistant receives homesec_alert with the bearer token
                (post, *_) = await fake_ha.wait_for("homesec_alert", timeout=60)
                alert = post.body
                assert post.authorization == f"Bearer {TOKEN}"
                assert alert["camera"] == "demo"
                assert alert["activity_type"] == "person" and alert["risk_level"] == "medium"
                assert alert["detected_objects"] == ["person"]
                assert alert["view_url"] == f"/api/v1/clips/{alert['clip_id']}/media"
                assert alert["storage_uri"] == f"local://{alert['clip_id']}.mp4"
                assert alert["timestamp"].endswith("Z")
                # And the same alert arrives from Mosquitto on the camera's topic
                topic, payload = await inbox.wait_for(
                    lambda t, p: t.endswith("/alerts/demo")
                    and p["clip_id"] == alert["clip_id"])
                assert payload == alert
                # And the camera's health went out (HA event and retained MQTT message)
                await fake_ha.wait_for("homesec_camera_health")
                await inbox.wait_for(lambda t, p: t.endswith("/cameras/demo/health")
                                     and p["healthy"] is True)
                # And the live event stream carried it too, and last_alerts shows it
                kinds = set()
                while "alert" not in kinds:
                    kinds.add((await asyncio.wait_for(live.get(), 30))["type"])
                assert runtime.last_alerts["demo"]["clip_id"] is not None

                # And the repository has the clip's final state and every stage's events
                repo = runtime.repository
                clip_id = alert["clip_id"]

                async def both_notified() -> bool:
                    events, _ = await repo.list_events(clip_id)
                    record = await repo.get_clip(clip_id)
                    return sum(e.type == "notified" for e in events) == 2 and \
                        record.status == "done"

                await wait_until(both_notified)
                record = await repo.get_clip(clip_id)
                assert record.status == "done" and record.alerted
                assert record.detected_objects == ["person"]
                events, _ = await repo.list_events(clip_id)
                types = [e.type for e in events]
                for expected in ("clip_recorded", "uploaded", "filtered", "snapshot",
                                 "alert_decided", "notified"):
                    assert expected in types
                notified = {e.data["notifier"] for e in events if e.type == "notified"}
                assert notified == {"home_assistant", "mqtt"}
                # And diagnostics show every component, without the token
                components = runtime.components()
                assert components["database"]["status"] == "ok"
                assert components["camera:demo"]["status"] == "ok"
                assert components["notifier:home_assistant"]["mode"] == "standalone"
                assert TOKEN not in repr(components)
            finally:
                await runtime.stop()
    async with aiomqtt.Client(MQTT_HOST, MQTT_PORT) as client:  # no retained leftovers
        await client.publish(f"{mqtt_prefix}/cameras/demo/health", b"", retain=True)

    # When the engine starts again on the same data (without cameras running)
    again = EngineRuntime(manager)
    await again.start(run_sources=False)
    try:
        # Then the last alert per camera is restored from the repository
        assert again.last_alerts["demo"]["clip_id"] == runtime.last_alerts["demo"]["clip_id"]
        clips, total = await again.repository.list_clips(ClipQuery(camera="demo"))
        assert total >= 1 and all(c.status in ("done", "error") for c in clips)
        assert again.cameras()["demo"].healthy is False  # not running
    finally:
        await again.stop()


async def test_disabled_cameras_are_listed_but_not_started(tmp_path: Path) -> None:
    # Given the embedded default plus a disabled camera
    data = tmp_path / "data"
    manager, _ = runtime_for(data, {"cameras": [
        {"name": "garage", "enabled": False, "source_backend": "demo",
         "source_config": {"interval_s": 1, "subject": "vehicle"}}]})
    await manager.load()
    runtime = EngineRuntime(manager)
    await runtime.start()
    try:
        # When the engine runs / Then both cameras are listed, only the enabled one runs
        cameras = runtime.cameras()
        assert set(cameras) == {"demo", "garage"}
        assert set(runtime.sources) == {"demo"}
        assert cameras["garage"].enabled is False and cameras["garage"].healthy is False
        assert runtime.components()["camera:garage"]["status"] == "disabled"
    finally:
        await runtime.stop()
    assert not runtime.pipeline_running


async def test_apply_alert_policy_takes_effect_without_restart(tmp_path: Path) -> None:
    # Given a running engine whose demo camera sees a person (medium risk) every second
    data = tmp_path / "data"
    manager, _ = runtime_for(data, {"cameras": [
        {"name": "demo", "enabled": True, "source_backend": "demo",
         "source_config": {"interval_s": 1, "clip_s": 1, "subject": "person"}}]})
    await manager.load()
    runtime = EngineRuntime(manager)
    await runtime.start()
    repo = runtime.repository
    try:
        async def alerted() -> bool:
            clips, _ = await repo.list_clips(ClipQuery(camera="demo", alerted=True))
            return bool(clips)

        await wait_until(alerted)
        # When the policy is raised to "high" through the ConfigManager and applied live
        result = await manager.set_alert_policy({"min_risk_level": "high"})
        runtime.apply_alert_policy(manager.get_config()["alert_policy"])
        changed_at = datetime.now(UTC)

        async def decided_after_change() -> bool:
            clips, _ = await repo.list_clips(ClipQuery(camera="demo", status="done",
                                                       since=changed_at))
            return bool(clips)

        await wait_until(decided_after_change)
        # Then clips recorded since are still stored and decided, but none alerts
        later, _ = await repo.list_clips(ClipQuery(camera="demo", since=changed_at))
        assert later and not any(c.alerted for c in later)
        assert result.restart_required is False
        assert runtime.policy.min_risk_level == "high"
    finally:
        await runtime.stop()


async def test_home_assistant_notifier_without_credentials_is_left_out_with_a_warning(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    # Given a home_assistant notifier and neither SUPERVISOR_TOKEN nor its env vars (a
    # standalone engine whose user has not set up Home Assistant yet)
    monkeypatch.delenv("SUPERVISOR_TOKEN", raising=False)
    monkeypatch.delenv("HOMESEC_E2E_HA_URL", raising=False)
    data = tmp_path / "data"
    manager, _ = runtime_for(data, {"notifiers": [
        {"backend": "home_assistant", "url_env": "HOMESEC_E2E_HA_URL",
         "token_env": "HOMESEC_E2E_HA_TOKEN"}]})
    await manager.load()
    runtime = EngineRuntime(manager)
    # When the engine starts
    await runtime.start(run_sources=False)
    try:
        # Then it runs without that notifier, and a warning names what to set
        assert runtime.pipeline_running and runtime.notifiers == []
        assert any("notifier home_assistant is off" in r.getMessage() and
                   "HOMESEC_E2E_HA_URL" in r.getMessage() for r in caplog.records
                   if r.levelname == "WARNING")
        # And diagnostics show it switched off, with the reason
        component = runtime.components()["notifier:home_assistant"]
        assert component["status"] == "disabled" and "HOMESEC_E2E_HA_URL" in component["error"]
    finally:
        await runtime.stop()


async def test_a_recording_left_by_a_killed_engine_is_processed_at_the_next_start(
    tmp_path: Path,
) -> None:
    # Given a finished recording a killed engine left in the demo camera's work folder
    # (and an unfinished one still under its .part name)
    data = tmp_path / "data"
    manager, _ = runtime_for(data, {"cameras": [
        {"name": "demo", "enabled": True, "source_backend": "demo",
         "source_config": {"interval_s": 3600, "subject": "person"}}]})
    await manager.load()
    work = data / "work" / "demo"
    work.mkdir(parents=True)
    left = make_motion_video(work / "demo-left.mp4", [Segment(0.2, 2.8)], duration_s=3.0)
    partial = work / "demo-cut.mp4.part"
    partial.write_bytes(b"half a recording")
    runtime = EngineRuntime(manager, data_dir=data)
    # When the engine starts again (cameras not started: only the recovery runs)
    await runtime.start(run_sources=False)
    repo = runtime.repository
    try:
        async def stored() -> bool:
            clips, _ = await repo.list_clips(ClipQuery(camera="demo", status="done"))
            return bool(clips)

        await wait_until(stored)
        # Then the recording went through the pipeline into storage, and the work copy is gone
        clips, total = await repo.list_clips(ClipQuery(camera="demo"))
        assert total == 1 and clips[0].storage_uri
        assert runtime.storage.resolve(clips[0].storage_uri).exists()
        assert not left.exists()
        # And the unfinished .part file (unplayable: its index is written at the end) is gone
        assert not partial.exists()
    finally:
        await runtime.stop()
