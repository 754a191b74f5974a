"""Config files: merge rules, malformed YAML, unknown keys, secret refusal."""

from __future__ import annotations

from pathlib import Path

import pytest

from homesec_engine.config import ConfigError, ConfigFileError, merge, read_yaml
from homesec_engine.config.loader import merge_all, validate_config


def _write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def test_rightmost_file_wins_and_dicts_deep_merge() -> None:
    # Given a base with server settings and an override changing only the port
    base = {"server": {"host": "0.0.0.0", "port": 8080}, "log_level": "info"}
    override = {"server": {"port": 9090}, "log_level": "debug"}
    # When they merge left to right
    merged = merge(base, override)
    # Then the override wins where it speaks and the rest of the dict survives
    assert merged == {"server": {"host": "0.0.0.0", "port": 9090}, "log_level": "debug"}
    assert base["server"]["port"] == 8080  # inputs untouched


def test_lists_merge_as_a_union() -> None:
    # Given two files that both list trigger classes
    left = {"filter": {"trigger_classes": ["person", "vehicle"]}}
    right = {"filter": {"trigger_classes": ["vehicle", "animal"]}}
    # When merged
    merged = merge(left, right)
    # Then each class appears once, in first-seen order
    assert merged["filter"]["trigger_classes"] == ["person", "vehicle", "animal"]


def test_cameras_union_by_name_with_the_rightmost_definition_winning() -> None:
    # Given a base camera and an override that redefines it and adds another
    base = {"cameras": [{"name": "front", "source_backend": "rtsp",
                         "source_config": {"url": "rtsp://cam/1", "sensitivity": 0.2}}]}
    override = {"cameras": [
        {"name": "front", "source_backend": "rtsp", "source_config": {"url": "rtsp://cam/2"}},
        {"name": "back", "source_backend": "demo", "source_config": {}},
    ]}
    # When merged
    merged = merge_all([base, override])
    # Then "front" is replaced whole (its old sensitivity is gone) and "back" is added
    assert [c["name"] for c in merged["cameras"]] == ["front", "back"]
    assert merged["cameras"][0]["source_config"] == {"url": "rtsp://cam/2"}


def test_malformed_yaml_names_file_and_line(tmp_path: Path) -> None:
    # Given a YAML file with a broken line 3
    path = _write(tmp_path / "config.yaml", "server:\n  port: 8080\n  host: [unclosed\n")
    # When it is read
    with pytest.raises(ConfigFileError) as err:
        read_yaml(path)
    # Then the message names the file and a line number
    assert str(path) in str(err.value)
    assert err.value.line is not None and err.value.line >= 3
    assert f"{path}:{err.value.line}" in str(err.value)


def test_top_level_must_be_a_mapping(tmp_path: Path) -> None:
    # Given a YAML file holding a list
    path = _write(tmp_path / "config.yaml", "- a\n- b\n")
    # When read, then the error says what is wrong
    with pytest.raises(ConfigFileError, match="mapping"):
        read_yaml(path)


def test_unknown_keys_are_reported_with_their_path() -> None:
    # Given a config with a typo in a nested key
    raw = {"server": {"prot": 8080}}
    # When validated
    with pytest.raises(ConfigError) as err:
        validate_config(raw)
    # Then the typo is reported, not silently dropped
    assert "server.prot: is not a known field" in str(err.value)


def test_invalid_camera_config_reports_the_field_path() -> None:
    # Given a camera whose RTSP settings are out of range
    raw = {"cameras": [{"name": "front", "source_backend": "rtsp",
                        "source_config": {"url": "rtsp://cam/1", "sensitivity": 3}}]}
    # When validated
    with pytest.raises(ConfigError) as err:
        validate_config(raw)
    # Then the error names the exact field
    assert "cameras[0].source_config.sensitivity: must be at most 1.0" in str(err.value)


@pytest.mark.parametrize(
    ("section", "value"),
    [
        ({"server": {"api_key_env": "sk-live-abcdef123456"}}, "server.api_key_env"),
        ({"analyzer": {"api_key_env": "hunter2"}}, "analyzer.api_key_env"),
        ({"notifiers": [{"backend": "mqtt", "password_env": "p@ss word"}]},
         "notifiers[0].password_env"),
    ],
)
def test_a_pasted_secret_is_refused(section: dict, value: str) -> None:
    # Given a secret pasted where an env-var name belongs
    # When validated
    with pytest.raises(ConfigError) as err:
        validate_config(section)
    # Then the field is named and the message says to use an env-var name
    assert value in str(err.value)
    assert "environment variable" in str(err.value)


def test_credentials_inside_a_camera_url_are_refused() -> None:
    # Given an RTSP URL with a password in it
    raw = {"cameras": [{"name": "front", "source_backend": "rtsp",
                        "source_config": {"url": "rtsp://admin:secret@cam/1"}}]}
    # When validated
    with pytest.raises(ConfigError) as err:
        validate_config(raw)
    # Then it is refused and the secret is not echoed back
    assert "cameras[0].source_config.url" in str(err.value)
    assert "admin:secret" not in str(err.value)


@pytest.mark.parametrize("url", [
    "postgresql://homesec:s3cret-pw@db.lan:5432/homesec",
    "postgresql+asyncpg://homesec:s3cret-pw@[::1]/homesec",
    "postgresql://homesec@db.lan/homesec?sslmode=require&password=s3cret-pw",
])
def test_a_password_inside_the_database_url_is_refused(url: str) -> None:
    # Given a database URL with its password written into the config
    raw = {"state": {"url": url}}
    # When validated
    with pytest.raises(ConfigError) as err:
        validate_config(raw)
    # Then it is refused (GET /config would show it), the field is named, the user is told
    # to use state.url_env, and the password is not echoed back
    assert "state.url" in str(err.value)
    assert "url_env" in str(err.value)
    assert "s3cret-pw" not in str(err.value)


@pytest.mark.parametrize("url", [
    "sqlite:///./data/homesec.db",
    "sqlite:////data/with:colon@odd/homesec.db",
    "postgresql://homesec@127.0.0.1:5432/homesec",
    "postgresql+asyncpg://homesec@[::1]:5432/homesec?sslmode=disable",
])
def test_a_database_url_without_a_password_is_accepted(url: str) -> None:
    # Given a password-free database URL; when validated; then it is kept as written
    assert validate_config({"state": {"url": url}})["state"]["url"] == url


def test_removed_cameras_hide_base_cameras() -> None:
    # Given a base camera and an override that removes it
    raw = merge_all([
        {"cameras": [{"name": "front", "source_backend": "demo", "source_config": {}}]},
        {"removed_cameras": ["front"]},
    ])
    # When validated
    config = validate_config(raw)
    # Then the camera is gone
    assert config["cameras"] == []
