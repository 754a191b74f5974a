"""Schema errors name the file and line that set the bad field, across merged files."""

from __future__ import annotations

from pathlib import Path

import pytest

from homesec_engine.config import ConfigError
from homesec_engine.config.defaults import embedded_default
from homesec_engine.config.manager import ConfigManager


def _write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def _load_error(tmp_path: Path, files: list[Path], overrides: Path | None = None) -> str:
    manager = ConfigManager(files, overrides or tmp_path / "overrides.yaml",
                            embedded_default=embedded_default(tmp_path / "data"))
    with pytest.raises(ConfigError) as err:
        manager.load_sync()
    return str(err.value)


def test_a_bad_field_in_the_second_file_names_that_file_and_line(tmp_path: Path) -> None:
    # Given a base file that is fine and a second file with a typo on its line 3
    base = _write(tmp_path / "base.yaml", "log_level: info\nserver:\n  port: 8081\n")
    local = _write(tmp_path / "local.yaml", "# my changes\nserver:\n  prot: 9000\n")
    # When both load, merged left to right
    message = _load_error(tmp_path, [base, local])
    # Then the error points at local.yaml line 3, not at the merged result or base.yaml
    assert f"{local}:3: server.prot:" in message
    assert str(base) not in message


def test_a_camera_is_found_by_name_though_the_merge_renumbers_cameras(tmp_path: Path) -> None:
    # Given a base file with two cameras and a second file that redefines the second one badly
    base = _write(tmp_path / "base.yaml", (
        "cameras:\n"
        "  - name: front\n    source_backend: demo\n    source_config: {interval_s: 5}\n"
        "  - name: back\n    source_backend: demo\n    source_config: {interval_s: 5}\n"))
    local = _write(tmp_path / "local.yaml", (
        "removed_cameras: [demo]\n"
        "cameras:\n"
        "  - name: back\n"
        "    source_backend: demo\n"
        "    source_config:\n"
        "      interval_s: -1\n"))
    # When they merge (the embedded demo camera comes first, then removed: indexes shift)
    message = _load_error(tmp_path, [base, local])
    # Then the error names the line in local.yaml where that camera's interval is set
    assert f"{local}:6: cameras[1].source_config.interval_s:" in message, message


def test_a_missing_required_field_points_at_the_item_that_lacks_it(tmp_path: Path) -> None:
    # Given a camera without its backend in the second file
    base = _write(tmp_path / "base.yaml", "log_level: info\n")
    local = _write(tmp_path / "local.yaml", "cameras:\n  - name: side\n    enabled: true\n")
    # When loaded / Then the error points at the camera's first line in that file
    message = _load_error(tmp_path, [base, local])
    assert f"{local}:2: cameras[1].source_backend:" in message, message


def test_a_bad_value_in_the_override_file_names_the_override_file(tmp_path: Path) -> None:
    # Given good config files and an override file (written at run time, then hand-edited)
    base = _write(tmp_path / "base.yaml", "alert_policy:\n  min_risk_level: high\n")
    overrides = _write(tmp_path / "overrides.yaml", (
        "config_version: 3\nalert_policy:\n  min_risk_level: apocalyptic\n"))
    # When loaded / Then the override file and its line are named
    message = _load_error(tmp_path, [base], overrides)
    assert f"{overrides}:3: alert_policy.min_risk_level:" in message, message
    assert str(base) not in message


def test_a_bad_list_item_names_the_file_that_added_it(tmp_path: Path) -> None:
    # Given two files whose trigger-class lists merge as a union, the second adding a typo
    base = _write(tmp_path / "base.yaml", "filter:\n  trigger_classes: [person, vehicle]\n")
    local = _write(tmp_path / "local.yaml", (
        "filter:\n  trigger_classes:\n    - vehicle\n    - persn\n"))
    # When loaded / Then the error names the line in local.yaml that added the bad class
    message = _load_error(tmp_path, [base, local])
    assert f"{local}:4: filter.trigger_classes[2]:" in message, message
