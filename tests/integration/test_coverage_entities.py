"""Entity edges against the real engine: the alert snapshot image, switch failures, the
heartbeat sensor and motion that outlives a reload.

Where a healthy engine cannot answer the way a test needs (a camera that vanished between
two polls answered with 404, a proxy's 429), the scripted engine answers instead.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pytest
from freezegun.api import FrozenDateTimeFactory
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    async_fire_time_changed,
)
from pytest_homeassistant_custom_component.typing import ClientSessionGenerator

from custom_components.homesec.const import DOMAIN
from homeassistant.components.switch import SERVICE_TURN_OFF
from homeassistant.config_entries import ConfigEntryState
from homeassistant.const import ATTR_ENTITY_ID, STATE_OFF, STATE_ON, STATE_UNKNOWN
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import HomeAssistantError
from homeassistant.helpers import entity_registry as er
from homesec_engine.records import ClipRecord
from homesec_engine.snapshots import draw_box, encode_jpeg
from tests.engine_harness import RunningEngine, running_engine

from .conftest import API_KEY, ENTRY_ID, entry_data, seed_last_alert, wait_for
from .scripted_engine import ScriptedEngine, scripted_engine

IMAGE = "image.front_door_last_alert_snapshot"


async def _store_snapshot(engine: RunningEngine, tmp_path: Path, clip_id: str) -> bytes:
    """A real JPEG snapshot (as the pipeline writes it) and its clip row, in the engine."""
    frame = np.zeros((120, 160, 3), dtype=np.uint8)
    frame[:, :, 1] = 90
    jpeg = await asyncio.to_thread(encode_jpeg, draw_box(frame, (0.25, 0.25, 0.5, 0.5)))
    local = tmp_path / f"{clip_id}.jpg"
    await asyncio.to_thread(local.write_bytes, jpeg)
    snap_uri = await engine.runtime.storage.put(local, f"front_door/{clip_id}.jpg")
    await engine.runtime.repository.upsert_clip(ClipRecord(
        id=clip_id, camera="front_door", status="done", alerted=True,
        storage_uri=snap_uri.removesuffix(".jpg") + ".mp4",
        activity_type="person", risk_level="high",
    ))
    return jpeg


async def _image(hass_client: ClientSessionGenerator) -> tuple[int, bytes, str]:
    client = await hass_client()
    resp = await client.get(f"/api/image_proxy/{IMAGE}")
    return resp.status, await resp.read(), resp.content_type


async def test_last_alert_snapshot_is_shown_by_the_image_entity(
    hass: HomeAssistant,
    engine: RunningEngine,
    config_entry: MockConfigEntry,
    hass_client: ClientSessionGenerator,
    tmp_path: Path,
) -> None:
    # Given an alert whose clip has a JPEG snapshot in the engine's storage
    jpeg = await _store_snapshot(engine, tmp_path, "clip-snap-1")
    seed_last_alert(engine, clip_id="clip-snap-1")
    config_entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(config_entry.entry_id)
    await hass.async_block_till_done()
    client = config_entry.runtime_data.client
    # When the dashboard loads the image entity through HA's image proxy
    status, body, content_type = await _image(hass_client)
    # Then it gets exactly the engine's snapshot, as a JPEG
    assert status == 200
    assert content_type == "image/jpeg"
    assert body == jpeg and body.startswith(b"\xff\xd8")
    # When the dashboard loads it again for the same alert
    requests = client.request_count
    assert (await _image(hass_client))[1] == jpeg
    # Then it is served without asking the engine again
    assert client.request_count == requests
    await hass.config_entries.async_unload(config_entry.entry_id)


async def test_an_alert_without_snapshot_shows_no_image(
    hass: HomeAssistant,
    engine: RunningEngine,
    loaded_entry: MockConfigEntry,
    hass_client: ClientSessionGenerator,
    tmp_path: Path,
) -> None:
    # Given no last alert yet
    assert hass.states.get(IMAGE).state == STATE_UNKNOWN
    # Then the image proxy has nothing to serve
    assert (await _image(hass_client))[0] == 500
    # When an alert arrives whose clip has no snapshot (the engine answers 404 for it)
    await engine.runtime.repository.upsert_clip(ClipRecord(
        id="clip-no-snap", camera="front_door", status="done", alerted=True,
        storage_uri="local://front_door/clip-no-snap.mp4",
    ))
    seed_last_alert(engine, clip_id="clip-no-snap", timestamp="2026-02-03T04:05:06+00:00")
    await loaded_entry.runtime_data.coordinator.async_refresh()
    await hass.async_block_till_done()
    # Then the entity names the alert, and the proxy still has no picture (not a stale one)
    image = hass.states.get(IMAGE)
    assert image.state == "2026-02-03T04:05:06+00:00"
    assert image.attributes["clip_id"] == "clip-no-snap"
    assert (await _image(hass_client))[0] == 500
    # When the snapshot shows up in storage later (the pipeline writes it after the alert)
    jpeg = await _store_snapshot(engine, tmp_path, "clip-no-snap")
    # Then the next load shows it (a missing snapshot is not cached)
    assert (await _image(hass_client))[1] == jpeg


@pytest.fixture
async def scripted() -> AsyncIterator[ScriptedEngine]:
    async with scripted_engine() as engine:
        yield engine


async def _scripted_entry(hass: HomeAssistant, engine: ScriptedEngine) -> MockConfigEntry:
    entry = MockConfigEntry(
        domain=DOMAIN, title="HomeSec", unique_id="scripted",
        data={"host": engine.host, "port": engine.port, "api_key": API_KEY, "ssl": False,
              "verify_ssl": True},
    )
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    return entry


async def _turn_off(hass: HomeAssistant, entity_id: str) -> HomeAssistantError:
    with pytest.raises(HomeAssistantError) as err:
        await hass.services.async_call(
            "switch", SERVICE_TURN_OFF, {ATTR_ENTITY_ID: entity_id}, blocking=True
        )
    return err.value


async def test_switch_of_a_camera_removed_meanwhile_says_so(
    hass: HomeAssistant, scripted: ScriptedEngine
) -> None:
    # Given the front door camera in HA, removed from the engine since the last poll
    entry = await _scripted_entry(hass, scripted)
    scripted.answer("PUT /api/v1/cameras/front_door",
                    (404, {"detail": "no camera named 'front_door'", "error_code": "NOT_FOUND"}))
    # When the user turns its switch off
    err = await _turn_off(hass, "switch.front_door_enabled")
    # Then HA says the camera does not exist (naming it), and sent the change only once
    assert err.translation_key == "camera_not_found"
    assert err.translation_placeholders == {"name": "front_door"}
    assert scripted.requests.count("PUT /api/v1/cameras/front_door") == 1
    assert hass.states.get("switch.front_door_enabled").state == STATE_ON
    await hass.config_entries.async_unload(entry.entry_id)


async def test_switch_with_an_unexpected_answer_says_so(
    hass: HomeAssistant, scripted: ScriptedEngine
) -> None:
    # Given a proxy in front of the engine that rate-limits the change
    entry = await _scripted_entry(hass, scripted)
    scripted.answer("PUT /api/v1/cameras/front_door",
                    (429, {"detail": "too many requests", "error_code": "RATE_LIMITED"}))
    # When the user turns the camera off
    err = await _turn_off(hass, "switch.front_door_enabled")
    # Then HA shows the engine's answer instead of pretending it worked
    assert err.translation_key == "unexpected_error"
    assert "429" in err.translation_placeholders["error"]
    assert "too many requests" in err.translation_placeholders["error"]
    assert hass.states.get("switch.front_door_enabled").state == STATE_ON
    await hass.config_entries.async_unload(entry.entry_id)


async def test_switch_while_the_engine_is_down_says_it_cannot_connect(
    hass: HomeAssistant, tmp_path: Path, database_url: str
) -> None:
    # Given a loaded entry whose engine stops before the next poll
    async with running_engine(tmp_path, api_key=API_KEY, database_url=database_url) as eng:
        entry = MockConfigEntry(domain=DOMAIN, title="HomeSec", data=entry_data(eng),
                                unique_id="down")
        entry.add_to_hass(hass)
        assert await hass.config_entries.async_setup(entry.entry_id)
        await hass.async_block_till_done()
        engine_config = eng.overrides_path
    assert hass.states.get("switch.front_door_enabled").state == STATE_ON
    # When the user turns the front door camera off
    err = await _turn_off(hass, "switch.front_door_enabled")
    # Then HA says it cannot reach the engine, and nothing was written to its config
    assert err.translation_key == "cannot_connect"
    # (the event stream's reconnect attempts may already have opened the circuit breaker)
    assert "reach" in err.translation_placeholders["error"]
    assert not engine_config.exists() or "front_door" not in engine_config.read_text()
    await hass.config_entries.async_unload(entry.entry_id)


async def test_heartbeat_sensor_shows_the_cameras_last_sign_of_life(
    hass: HomeAssistant, tmp_path: Path, database_url: str,
    entity_registry: er.EntityRegistry,
) -> None:
    # Given the (diagnostic, off by default) heartbeat sensor enabled by the user
    entity_registry.async_get_or_create(
        "sensor", DOMAIN, f"{ENTRY_ID}_front_door_last_heartbeat",
        suggested_object_id="front_door_last_heartbeat", disabled_by=None,
    )
    # And an engine whose demo camera runs and streams
    async with running_engine(
        tmp_path, api_key=API_KEY, database_url=database_url, run_sources=True,
        cameras=[{"name": "front_door", "enabled": True, "source_backend": "demo",
                  "source_config": {"interval_s": 3600, "subject": "person"}}],
    ) as eng:
        entry = MockConfigEntry(domain=DOMAIN, title="HomeSec", data=entry_data(eng),
                                unique_id="beat", entry_id=ENTRY_ID)
        entry.add_to_hass(hass)
        assert await hass.config_entries.async_setup(entry.entry_id)
        await hass.async_block_till_done()
        coordinator = entry.runtime_data.coordinator
        await wait_for(lambda: bool((cam := coordinator.camera("front_door"))
                                    and cam["last_heartbeat"]), timeout=10)
        engine_beat = coordinator.camera("front_door")["last_heartbeat"]  # type: ignore[index]
        await coordinator.async_refresh()
        await hass.async_block_till_done()
        # Then the sensor shows the engine's last heartbeat as a time
        state = hass.states.get("sensor.front_door_last_heartbeat")
        assert state is not None and state.attributes["device_class"] == "timestamp"
        shown = datetime.fromisoformat(state.state)
        assert shown.tzinfo is not None
        assert abs(shown - datetime.fromisoformat(str(engine_beat))) < timedelta(seconds=60)
        assert datetime.now(UTC) - shown < timedelta(minutes=5)
        await hass.config_entries.async_unload(entry.entry_id)
        await hass.async_block_till_done()


async def test_motion_from_a_recent_alert_outlives_a_reload(
    hass: HomeAssistant,
    engine: RunningEngine,
    config_entry: MockConfigEntry,
    freezer: FrozenDateTimeFactory,
) -> None:
    # Given an alert 10 s ago (the reset time is 30 s)
    seed_last_alert(engine, timestamp=(datetime.now(UTC) - timedelta(seconds=10)).isoformat())
    # When HomeSec is (re)loaded
    config_entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(config_entry.entry_id)
    await hass.async_block_till_done()
    # Then motion and person are on right away, as they were before the reload
    assert hass.states.get("binary_sensor.front_door_motion").state == STATE_ON
    assert hass.states.get("binary_sensor.front_door_person").state == STATE_ON
    # When the rest of the reset time (20 s) has passed Then both are off
    freezer.tick(timedelta(seconds=19))
    async_fire_time_changed(hass)
    await hass.async_block_till_done()
    assert hass.states.get("binary_sensor.front_door_motion").state == STATE_ON
    freezer.tick(timedelta(seconds=2))
    async_fire_time_changed(hass)
    await hass.async_block_till_done()
    assert hass.states.get("binary_sensor.front_door_motion").state == STATE_OFF
    assert hass.states.get("binary_sensor.front_door_person").state == STATE_OFF
    await hass.config_entries.async_unload(config_entry.entry_id)
    assert config_entry.state is ConfigEntryState.NOT_LOADED
