"""HomeSec service actions against a real engine on loopback and real HA core."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from custom_components.homesec.compat import vol

from homeassistant.core import HomeAssistant
from homeassistant.exceptions import HomeAssistantError, ServiceValidationError
from homeassistant.helpers import device_registry as dr
from homeassistant.helpers import issue_registry as ir
from pytest_homeassistant_custom_component.common import MockConfigEntry

from homesec_engine.records import ClipRecord
from tests.e2e.ha_harness import DOMAIN, engine_for_ha, homesec_entry
from tests.engine_harness import RunningEngine

from .conftest import find_device

API_KEY = "svc-test-key-41d2"


@pytest.fixture
async def engine(tmp_path: Path) -> AsyncIterator[RunningEngine]:
    async with engine_for_ha(tmp_path, api_key=API_KEY) as eng:
        yield eng


@pytest.fixture
async def entry(hass: HomeAssistant, engine: RunningEngine) -> AsyncIterator[MockConfigEntry]:
    async with homesec_entry(hass, engine) as loaded:
        yield loaded


async def _engine_get(engine: RunningEngine, path: str) -> tuple[int, Any]:
    async with aiohttp.ClientSession() as session:
        async with session.get(f"{engine.api}{path}", headers=engine.headers) as resp:
            return resp.status, await resp.json()


async def _call(
    hass: HomeAssistant, service: str, data: dict[str, Any], response: bool = False
) -> Any:
    return await hass.services.async_call(
        DOMAIN, service, data, blocking=True, return_response=response
    )


def _camera_device(hass: HomeAssistant, entry: MockConfigEntry, camera: str) -> Any:
    return find_device(hass, entry.entry_id, f"{entry.entry_id}_{camera}")


async def _add_clips(engine: RunningEngine, clips: list[ClipRecord]) -> None:
    for clip in clips:
        await engine.runtime.repository.upsert_clip(clip)


# -- cameras ------------------------------------------------------------------------------


async def test_add_camera_creates_it_in_the_engine_and_a_device_in_ha(
    hass: HomeAssistant, engine: RunningEngine, entry: MockConfigEntry
) -> None:
    # Given HomeSec set up with the engine's two cameras
    assert _camera_device(hass, entry, "backyard") is None
    # When the user adds a camera through the service
    await _call(hass, "add_camera", {
        "name": "backyard", "source_backend": "demo", "source_config": {"interval_s": 600},
    })
    await hass.async_block_till_done()
    # Then the engine has it, HA shows its device without a reload, and no restart is
    # asked for (the engine applied it)
    status, camera = await _engine_get(engine, "/cameras/backyard")
    assert status == 200 and camera["source_backend"] == "demo"
    assert _camera_device(hass, entry, "backyard") is not None
    issue = ir.async_get(hass).async_get_issue(DOMAIN, f"restart_required_{entry.entry_id}")
    assert issue is None


async def test_add_camera_with_a_taken_name_says_so(
    hass: HomeAssistant, entry: MockConfigEntry
) -> None:
    # Given a camera front_door in the engine
    # When the user adds another camera with that name
    with pytest.raises(ServiceValidationError) as err:
        await _call(hass, "add_camera", {
            "name": "front_door", "source_backend": "demo", "source_config": {},
        })
    # Then the error is the translated "already exists" naming the camera
    assert err.value.translation_domain == DOMAIN
    assert err.value.translation_key == "camera_exists"
    assert err.value.translation_placeholders == {"name": "front_door"}


async def test_backend_settings_are_checked_by_ha_with_the_field_path(
    hass: HomeAssistant, engine: RunningEngine, entry: MockConfigEntry
) -> None:
    # Given the service schema, derived from the engine's camera declaration (with its
    # per-backend settings rule)
    # When the user adds an RTSP camera whose url_env holds a URL instead of a variable name
    with pytest.raises(vol.Invalid) as err:
        await _call(hass, "add_camera", {
            "name": "porch", "source_backend": "rtsp",
            "source_config": {"url_env": "rtsp://user:secret@cam/stream"},
        })
    # Then Home Assistant refuses it before the engine is asked, naming the field path
    assert [str(p) for p in err.value.path] == ["source_config", "url_env"]
    # And nothing was created
    status, _ = await _engine_get(engine, "/cameras/porch")
    assert status == 404


async def test_schema_from_the_shared_declarations_refuses_bad_input_before_the_engine(
    hass: HomeAssistant, engine: RunningEngine, entry: MockConfigEntry
) -> None:
    # When a camera name breaks the slug rule, or an unknown field is passed
    with pytest.raises(vol.Invalid) as bad_name:
        await _call(hass, "add_camera", {
            "name": "Front Door", "source_backend": "demo", "source_config": {},
        })
    with pytest.raises(vol.Invalid):
        await _call(hass, "remove_camera", {"name": "garage", "force": True})
    with pytest.raises(vol.Invalid):
        await _call(hass, "get_clips", {"page_size": 500}, response=True)
    # Then HA refuses with the shared schema's message, and the engine saw no change
    assert "lowercase letters" in str(bad_name.value)
    status, cameras = await _engine_get(engine, "/cameras")
    assert sorted(c["name"] for c in cameras["cameras"]) == ["front_door", "garage"]


async def test_update_camera_changes_the_engine(
    hass: HomeAssistant, engine: RunningEngine, entry: MockConfigEntry
) -> None:
    # When the user disables front_door and changes its settings
    await _call(hass, "update_camera", {
        "name": "front_door", "enabled": False,
        "source_config": {"interval_s": 120, "subject": "vehicle"},
    })
    # Then the engine has the new settings, and HA's data follows at once
    _, camera = await _engine_get(engine, "/cameras/front_door")
    assert camera["enabled"] is False
    assert camera["source_config"]["subject"] == "vehicle"
    assert entry.runtime_data.coordinator.camera("front_door")["enabled"] is False


async def test_update_or_remove_an_unknown_camera_is_a_not_found_error(
    hass: HomeAssistant, entry: MockConfigEntry
) -> None:
    for service, data in (
        ("update_camera", {"name": "attic", "enabled": True}),
        ("remove_camera", {"name": "attic"}),
    ):
        # When the user names a camera the engine does not have
        with pytest.raises(ServiceValidationError) as err:
            await _call(hass, service, data)
        # Then the translated error names it
        assert err.value.translation_key == "camera_not_found"
        assert err.value.translation_placeholders == {"name": "attic"}


async def test_remove_camera_removes_it_and_its_device(
    hass: HomeAssistant, engine: RunningEngine, entry: MockConfigEntry
) -> None:
    # Given the garage camera and its device
    assert _camera_device(hass, entry, "garage") is not None
    # When the user removes it
    await _call(hass, "remove_camera", {"name": "garage"})
    await hass.async_block_till_done()
    # Then the engine no longer has it and HA removed its device
    status, _ = await _engine_get(engine, "/cameras/garage")
    assert status == 404
    assert _camera_device(hass, entry, "garage") is None


# -- alert policy -------------------------------------------------------------------------


async def test_set_alert_policy_globally_keeps_camera_overrides(
    hass: HomeAssistant, engine: RunningEngine, entry: MockConfigEntry
) -> None:
    # Given a per-camera override for front_door
    await _call(hass, "set_alert_policy", {
        "camera": "front_door", "min_risk_level": "critical", "activity_types": ["person"],
    })
    # When the user changes the global policy
    await _call(hass, "set_alert_policy", {
        "min_risk_level": "medium", "activity_types": ["person", "vehicle"],
    })
    # Then the engine has the new global policy and the override is still there
    _, view = await _engine_get(engine, "/alert-policy")
    policy = view["alert_policy"]
    assert policy["min_risk_level"] == "medium"
    assert policy["activity_types"] == ["person", "vehicle"]
    assert policy["cameras"]["front_door"]["min_risk_level"] == "critical"
    assert policy["cameras"]["front_door"]["activity_types"] == ["person"]


async def test_set_alert_policy_for_one_camera_leaves_the_global_policy(
    hass: HomeAssistant, engine: RunningEngine, entry: MockConfigEntry
) -> None:
    # Given the engine's global policy
    _, before = await _engine_get(engine, "/alert-policy")
    # When the user sets garage's override
    await _call(hass, "set_alert_policy", {"camera": "garage", "min_risk_level": "high"})
    # Then only garage's override changed
    _, after = await _engine_get(engine, "/alert-policy")
    assert after["alert_policy"]["cameras"]["garage"]["min_risk_level"] == "high"
    assert after["alert_policy"]["min_risk_level"] == before["alert_policy"]["min_risk_level"]
    assert after["config_version"] > before["config_version"]


async def test_update_settings_applies_retention_and_the_threshold_in_the_running_engine(
    hass: HomeAssistant, engine: RunningEngine, entry: MockConfigEntry
) -> None:
    # When the user shortens the keep time, sets a disk budget and raises the threshold
    await _call(hass, "update_settings", {"keep_days": 7, "max_gb": 50,
                                          "min_confidence": 0.7})
    # Then the running engine uses them at once (no restart asked for), the rest unchanged
    retention = engine.runtime.retention
    assert retention is not None
    assert retention.config["keep_days"] == 7 and retention.config["max_gb"] == 50
    assert retention.config["alerted_keep_days"] == 90
    assert engine.runtime.filter_for("front_door").min_confidence == 0.7
    assert engine.runtime.config_manager.restart_pending is False
    assert not [i for i in ir.async_get(hass).issues.values() if i.domain == DOMAIN]
    # And a threshold out of range is refused by HA, naming the field, before the engine
    with pytest.raises(vol.Invalid, match="min_confidence"):
        await _call(hass, "update_settings", {"min_confidence": 2})
    assert engine.runtime.filter_for("front_door").min_confidence == 0.7


async def test_update_camera_gives_one_camera_its_own_keep_time_in_the_running_engine(
    hass: HomeAssistant, engine: RunningEngine, entry: MockConfigEntry
) -> None:
    # When the user keeps the front door's clips 5 days (alerted ones 10)
    await _call(hass, "update_camera", {"name": "front_door", "keep_days": 5,
                                        "alerted_keep_days": 10})
    # Then the running engine's retention uses them for that camera alone, no restart asked
    retention = engine.runtime.retention
    assert retention is not None
    assert retention.config["cameras"] == {"front_door": {"keep_days": 5,
                                                          "alerted_keep_days": 10}}
    assert retention.config["keep_days"] == 30
    assert engine.runtime.config_manager.restart_pending is False
    _, camera = await _engine_get(engine, "/cameras/front_door")
    assert camera["retention"] == {"keep_days": 5, "alerted_keep_days": 10}


async def test_set_alert_policy_for_an_unknown_camera_is_refused(
    hass: HomeAssistant, engine: RunningEngine, entry: MockConfigEntry
) -> None:
    _, before = await _engine_get(engine, "/alert-policy")
    with pytest.raises(ServiceValidationError) as err:
        await _call(hass, "set_alert_policy", {"camera": "attic", "min_risk_level": "high"})
    assert err.value.translation_key == "camera_not_found"
    _, after = await _engine_get(engine, "/alert-policy")
    assert after == before


async def test_concurrent_change_makes_set_alert_policy_a_translated_conflict(
    hass: HomeAssistant, engine: RunningEngine, entry: MockConfigEntry,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Given someone else changes the configuration right after the service read the policy
    client = entry.runtime_data.client
    read_policy = client.get_alert_policy

    async def read_then_someone_else_writes() -> Any:
        view = await read_policy()
        async with aiohttp.ClientSession() as session:
            async with session.put(
                f"{engine.api}/alert-policy", headers=engine.headers,
                json={"alert_policy": {"min_risk_level": "critical",
                                       "activity_types": ["package"]}},
            ) as resp:
                assert resp.status == 200
        return view

    monkeypatch.setattr(client, "get_alert_policy", read_then_someone_else_writes)
    # When the service writes the policy it read
    with pytest.raises(ServiceValidationError) as err:
        await _call(hass, "set_alert_policy", {"min_risk_level": "low"})
    # Then the engine refused the stale write (409) and the user sees the translated message
    assert err.value.translation_key == "config_version_conflict"
    assert "The HomeSec configuration was changed elsewhere. Reload and try again" in str(
        err.value
    )
    # And the other writer's change survived
    _, view = await _engine_get(engine, "/alert-policy")
    assert view["alert_policy"]["min_risk_level"] == "critical"
    assert view["alert_policy"]["activity_types"] == ["package"]



async def test_a_zone_an_alert_rule_names_is_kept_and_a_removed_camera_takes_its_rules(
    hass: HomeAssistant, engine: RunningEngine, entry: MockConfigEntry
) -> None:
    # Given front_door with a driveway zone (set through the service) and an alert rule for
    # people on it
    driveway = {"name": "driveway", "points": [[0, 0.5], [1, 0.5], [1, 1], [0, 1]]}
    await _call(hass, "update_camera", {"name": "front_door", "zones": [driveway]})
    async with aiohttp.ClientSession() as session:
        async with session.put(f"{engine.api}/alert-policy", headers=engine.headers, json={
            "alert_policy": {"cameras": {"front_door": {
                "zones": {"driveway": {"alert_classes": ["person"]}}}}}}) as resp:
            assert resp.status == 200, await resp.text()
    # When the user removes the zone through the service
    with pytest.raises(ServiceValidationError) as err:
        await _call(hass, "update_camera", {"name": "front_door", "zones": []})
    # Then the engine's refusal reaches the user, naming the rule's field and saying to
    # remove the rule first
    assert err.value.translation_key == "invalid_input"
    message = str(err.value)
    assert "alert_policy.cameras.front_door.zones.driveway: " in message, message
    assert "remove the rule" in message, message
    # And the engine still has the camera, its zone and the rule
    _, camera = await _engine_get(engine, "/cameras/front_door")
    assert [z["name"] for z in camera["zones"]] == ["driveway"]
    _, view = await _engine_get(engine, "/alert-policy")
    assert view["alert_policy"]["cameras"]["front_door"]["zones"] == {
        "driveway": {"alert_classes": ["person"]}}
    # When the user removes the whole camera through the service
    await _call(hass, "remove_camera", {"name": "front_door"})
    # Then it goes, and its rule with it (HA has no action that removes the rule first)
    _, view = await _engine_get(engine, "/alert-policy")
    assert "front_door" not in view["alert_policy"]["cameras"]


# -- clips ------------------------------------------------------------------------------------


def _clip(clip_id: str, camera: str, minutes_ago: int, **fields: Any) -> ClipRecord:
    return ClipRecord(
        id=clip_id, camera=camera, status="done",
        created_at=datetime.now(UTC) - timedelta(minutes=minutes_ago), **fields,
    )


async def test_get_clips_returns_a_filtered_page(
    hass: HomeAssistant, engine: RunningEngine, entry: MockConfigEntry
) -> None:
    # Given clips of two cameras, some alerted
    await _add_clips(engine, [
        _clip("c-1", "front_door", 50, alerted=True, risk_level="high", activity_type="person"),
        _clip("c-2", "front_door", 40),
        _clip("c-3", "front_door", 30, alerted=True, risk_level="low", activity_type="animal"),
        _clip("c-4", "garage", 20, alerted=True, risk_level="high", activity_type="vehicle"),
        _clip("c-5", "front_door", 10, alerted=True, risk_level="medium",
              activity_type="person"),
    ])
    # When the user asks for front_door's alerted clips, two per page
    page1 = await _call(hass, "get_clips", {
        "camera": "front_door", "alerted": True, "page_size": 2,
    }, response=True)
    page2 = await _call(hass, "get_clips", {
        "camera": "front_door", "alerted": True, "page_size": 2, "page": 2,
    }, response=True)
    # Then the response is one page, newest first, with the total of matches
    assert [c["id"] for c in page1["clips"]] == ["c-5", "c-3"]
    assert (page1["total"], page1["page"], page1["page_size"]) == (3, 1, 2)
    assert [c["id"] for c in page2["clips"]] == ["c-1"]
    # And time filters reach the engine
    recent = await _call(hass, "get_clips", {
        "since": (datetime.now(UTC) - timedelta(minutes=25)).isoformat(),
    }, response=True)
    assert sorted(c["id"] for c in recent["clips"]) == ["c-4", "c-5"]
    by_risk = await _call(hass, "get_clips", {"risk_level": "high"}, response=True)
    assert sorted(c["id"] for c in by_risk["clips"]) == ["c-1", "c-4"]


async def test_delete_clip_deletes_it_and_unknown_clips_say_so(
    hass: HomeAssistant, engine: RunningEngine, entry: MockConfigEntry
) -> None:
    # Given a clip
    await _add_clips(engine, [_clip("doomed-1", "front_door", 5)])
    # When the user deletes it
    await _call(hass, "delete_clip", {"clip_id": "doomed-1"})
    # Then the engine lists it no more
    result = await _call(hass, "get_clips", {"camera": "front_door"}, response=True)
    assert "doomed-1" not in [c["id"] for c in result["clips"] if c["status"] != "deleted"]
    # And deleting a clip that does not exist is a translated not-found error
    with pytest.raises(ServiceValidationError) as err:
        await _call(hass, "delete_clip", {"clip_id": "no-such-clip"})
    assert err.value.translation_key == "clip_not_found"
    assert err.value.translation_placeholders == {"name": "no-such-clip"}


# -- engine -----------------------------------------------------------------------------------


async def test_restart_engine_asks_the_engine_to_restart(
    hass: HomeAssistant, engine: RunningEngine, entry: MockConfigEntry
) -> None:
    assert not engine.runtime.restart_requested.is_set()
    await _call(hass, "restart_engine", {})
    assert engine.runtime.restart_requested.is_set()


async def test_services_without_a_loaded_entry_say_so(
    hass: HomeAssistant, engine: RunningEngine
) -> None:
    # Given HomeSec was set up and then unloaded (the services stay registered)
    async with homesec_entry(hass, engine):
        pass
    assert hass.services.has_service(DOMAIN, "restart_engine")
    # When the user calls a service
    with pytest.raises(ServiceValidationError) as err:
        await _call(hass, "restart_engine", {})
    # Then the error says HomeSec is not loaded, and nothing reached the engine
    assert err.value.translation_key == "not_loaded"
    assert not engine.runtime.restart_requested.is_set()


async def test_an_unreachable_engine_is_a_translated_connection_error(
    hass: HomeAssistant, tmp_path: Path
) -> None:
    # Given HomeSec set up against an engine that then goes away
    async with engine_for_ha(tmp_path, api_key=API_KEY) as engine:
        async with homesec_entry(hass, engine) as entry:
            pass
        entry_id = entry.entry_id
        assert await hass.config_entries.async_setup(entry_id)
        await hass.async_block_till_done()
    try:
        # When the user calls services
        for service, data in (("restart_engine", {}), ("delete_clip", {"clip_id": "x"})):
            with pytest.raises(HomeAssistantError) as err:
                await _call(hass, service, data)
            # Then the error is the translated connection error, not a validation error
            assert not isinstance(err.value, ServiceValidationError)
            assert err.value.translation_key == "cannot_connect"
    finally:
        await hass.config_entries.async_unload(entry_id)
        await hass.async_block_till_done()
