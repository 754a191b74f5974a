"""An alert-policy rule naming a camera or zone that does not exist is refused at load,
naming the file, line and field, instead of silently never applying."""

from __future__ import annotations

from pathlib import Path

import pytest

from homesec_engine.config import ConfigError, ConfigManager

CAMERAS = """
cameras:
  - name: plaza
    source_backend: demo
    source_config: {interval_s: 10}
    zones:
      - {name: driveway, points: [[0, 0.5], [1, 0.5], [1, 1], [0, 1]]}
      - {name: path, points: [[0, 0], [1, 0], [1, 0.5], [0, 0.5]]}
  - name: garden
    source_backend: demo
    source_config: {interval_s: 10}
"""


def _load(tmp_path: Path, policy: str) -> ConfigManager:
    config = tmp_path / "homesec.yaml"
    config.write_text(CAMERAS + policy, encoding="utf-8")
    manager = ConfigManager([config], tmp_path / "overrides.yaml")
    manager.load_sync()
    return manager


@pytest.mark.parametrize(("policy", "line", "field", "message"), [
    ("alert_policy:\n  cameras:\n    plaza:\n      zones:\n"
     "        drivewy: {alert_classes: [person]}\n",
     16, "alert_policy.cameras.plaza.zones.drivewy",
     'camera plaza has no zone "drivewy" (its zones: driveway, path)'),
    ("alert_policy:\n  cameras:\n    garden:\n      zones:\n"
     "        lawn: {alert_classes: [animal]}\n",
     16, "alert_policy.cameras.garden.zones.lawn",
     'camera garden has no zone "lawn" (its zones: none)'),
    ("alert_policy:\n  cameras:\n    plazza:\n      min_risk_level: high\n",
     14, "alert_policy.cameras.plazza", 'no camera named "plazza" (cameras: garden, plaza)'),
])
def test_a_rule_for_a_missing_zone_or_camera_stops_the_load_naming_the_field(
    tmp_path: Path, policy: str, line: int, field: str, message: str
) -> None:
    # Given a config file whose alert policy names a zone or camera that is not there
    # (a typo, or a zone the camera does not have)
    # When the engine loads it
    with pytest.raises(ConfigError) as err:
        _load(tmp_path, policy)
    # Then it refuses to start, naming the file and line, the field and what does exist
    assert f"{tmp_path / 'homesec.yaml'}:{line}: {field}: {message}" in str(err.value), \
        str(err.value)


def test_rules_on_existing_zones_and_cameras_load_as_written(tmp_path: Path) -> None:
    # Given rules on a zone the camera has and on another camera
    manager = _load(tmp_path, (
        "alert_policy:\n  cameras:\n    plaza:\n      zones:\n"
        "        path: {alert_classes: []}\n    garden: {alert_classes: [animal]}\n"))
    # When loaded Then the rules are kept as written
    policy = manager.get_config()["alert_policy"]["cameras"]
    assert policy["plaza"]["zones"] == {"path": {"alert_classes": []}}
    assert policy["garden"]["alert_classes"] == ["animal"]
