"""ConfigManager: run-time changes land in the override file, versioned and atomic."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from homesec_engine.config import (
    CameraExists,
    CameraNotFound,
    ConfigManager,
    ConfigVersionConflict,
)
from homesec_engine.schema import SchemaValidationError, model_defaults

BASE = """
server: {port: 8080}
cameras:
  - name: front
    source_backend: demo
    source_config: {interval_s: 10}
"""
DEMO = {"name": "garage", "source_backend": "demo", "source_config": {"interval_s": 5}}


@pytest.fixture
async def manager(tmp_path: Path) -> ConfigManager:
    base = tmp_path / "config.yaml"
    base.write_text(BASE, encoding="utf-8")
    mgr = ConfigManager([base], tmp_path / "overrides.yaml")
    await mgr.load()
    return mgr


async def test_add_camera_writes_the_override_and_bumps_the_version(
    manager: ConfigManager, tmp_path: Path
) -> None:
    # Given the base config at version 1
    assert manager.config_version == 1
    base_before = (tmp_path / "config.yaml").read_text()
    # When a camera is added
    result = await manager.add_camera(DEMO, expected_version=1)
    # Then the version is 2, a restart is required and the change is in the override file only
    assert (result.config_version, result.restart_required) == (2, True)
    assert result.camera is not None and result.camera["name"] == "garage"
    written = yaml.safe_load((tmp_path / "overrides.yaml").read_text())
    assert written["config_version"] == 2
    assert [c["name"] for c in written["cameras"]] == ["garage"]
    assert (tmp_path / "config.yaml").read_text() == base_before
    # And a fresh manager reading the same files sees both cameras
    again = ConfigManager([tmp_path / "config.yaml"], tmp_path / "overrides.yaml")
    config = await again.load()
    assert [c["name"] for c in config["cameras"]] == ["front", "garage"]
    assert again.config_version == 2


async def test_a_stale_version_is_refused_with_the_current_one(manager: ConfigManager) -> None:
    # Given a change that moved the config to version 2
    await manager.add_camera(DEMO)
    # When another client changes it against version 1
    with pytest.raises(ConfigVersionConflict) as err:
        await manager.update_camera("front", {"enabled": False}, expected_version=1)
    # Then it is refused, told the current version, and nothing changed
    assert err.value.current_version == 2
    assert manager.get_config()["cameras"][0]["enabled"] is True


async def test_duplicate_and_unknown_cameras(manager: ConfigManager) -> None:
    # Given the base camera "front"
    # When it is added again, then CameraExists
    with pytest.raises(CameraExists):
        await manager.add_camera({**DEMO, "name": "front"})
    # When an unknown camera is updated or removed, then CameraNotFound
    with pytest.raises(CameraNotFound):
        await manager.update_camera("nope", {"enabled": False})
    with pytest.raises(CameraNotFound):
        await manager.remove_camera("nope")
    # And the version did not move
    assert manager.config_version == 1


async def test_update_replaces_source_config_and_validates(manager: ConfigManager) -> None:
    # When the base camera's source config is replaced
    result = await manager.update_camera("front", {"source_config": {"subject": "vehicle"}})
    # Then the old interval is gone (defaults apply) and the new subject is set
    assert result.camera is not None
    assert result.camera["source_config"]["subject"] == "vehicle"
    default = model_defaults("DemoSourceConfig")["interval_s"]
    assert default != 10 and result.camera["source_config"]["interval_s"] == default
    # When an invalid value is sent, then the error names the field path
    with pytest.raises(SchemaValidationError) as err:
        await manager.update_camera("front", {"source_config": {"fps": 0}})
    assert err.value.errors[0]["path"] == "camera.source_config.fps"


async def test_removing_a_base_camera_survives_a_reload(
    manager: ConfigManager, tmp_path: Path
) -> None:
    # When the camera defined in the base file is removed at run time
    await manager.remove_camera("front")
    # Then it is gone now and after reading the files again
    assert manager.get_config()["cameras"] == []
    again = ConfigManager([tmp_path / "config.yaml"], tmp_path / "overrides.yaml")
    assert (await again.load())["cameras"] == []
    # And it can be added back
    await again.add_camera({**DEMO, "name": "front"})
    assert [c["name"] for c in again.get_config()["cameras"]] == ["front"]


async def test_alert_policy_applies_without_restart(manager: ConfigManager) -> None:
    # When the alert policy changes
    result = await manager.set_alert_policy(
        {"min_risk_level": "high", "cameras": {"front": {"activity_types": ["person"]}}}
    )
    # Then no restart is needed and the merged config carries it
    assert result.restart_required is False
    policy = manager.get_config()["alert_policy"]
    assert policy["min_risk_level"] == "high"
    assert policy["cameras"]["front"]["activity_types"] == ["person"]


async def test_crash_between_temp_write_and_rename_leaves_the_old_file_whole(
    manager: ConfigManager, tmp_path: Path
) -> None:
    # Given a first change on disk
    await manager.add_camera(DEMO)
    overrides = tmp_path / "overrides.yaml"
    before = overrides.read_bytes()

    # When the process dies after the temp file is written but before the rename
    class Crash(Exception):
        pass

    def crash() -> None:
        raise Crash

    manager.before_rename = crash
    with pytest.raises(Crash):
        await manager.add_camera({**DEMO, "name": "porch"})
    # Then the override file is exactly the old one, still valid, and a backup exists
    assert overrides.read_bytes() == before
    assert yaml.safe_load(before)["config_version"] == 2
    assert (tmp_path / "overrides.yaml.bak").exists()
    # And the in-memory config did not take the failed change
    assert manager.config_version == 2
    assert "porch" not in [c["name"] for c in manager.get_config()["cameras"]]


async def test_a_pasted_secret_never_reaches_the_file(
    manager: ConfigManager, tmp_path: Path
) -> None:
    # When a camera arrives with credentials in its URL
    camera = {"name": "door", "source_backend": "rtsp",
              "source_config": {"url": "rtsp://admin:hunter2@10.0.0.5/stream"}}
    with pytest.raises(SchemaValidationError):
        await manager.add_camera(camera)
    # Then nothing was written
    assert not (tmp_path / "overrides.yaml").exists()


async def test_a_new_alert_policy_replaces_the_base_files_policy(tmp_path: Path) -> None:
    # Given a base file whose policy only alerts on people and is strict for "front"
    base = tmp_path / "config.yaml"
    base.write_text(BASE + """
alert_policy:
  min_risk_level: medium
  activity_types: [person]
  cameras:
    front: {min_risk_level: critical}
""", encoding="utf-8")
    mgr = ConfigManager([base], tmp_path / "overrides.yaml")
    await mgr.load()
    # When the user replaces the policy with "every activity, no per-camera override"
    await mgr.set_alert_policy({"min_risk_level": "low", "activity_types": [], "cameras": {}})
    # Then the config says exactly that (the base file's list and override are gone), with
    # the fields the user left out at their defaults
    expected = {"min_risk_level": "low", "activity_types": [], "cameras": {},
                "alert_classes": ["person", "vehicle"]}
    assert mgr.get_config()["alert_policy"] == expected
    # And so does the engine after a restart (a fresh manager reading the same files)
    again = ConfigManager([base], tmp_path / "overrides.yaml")
    assert (await again.load())["alert_policy"] == expected
