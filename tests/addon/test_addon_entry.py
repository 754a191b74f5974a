"""The add-on start-up entry point against real PostgreSQL and a Supervisor stand-in."""

from __future__ import annotations

import logging
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from homesec_engine.addon_entry import (
    EXIT_BAD_OPTIONS,
    EXIT_NO_DATABASE,
    StartupError,
    start,
)
from homesec_engine.config.loader import merge_all, read_yaml, validate_config
from homesec_engine.schema import validate

from tests.services import pg_url

from .conftest import REPO, TEST_DB_URL, AddonDirs, closed_port


async def test_first_start_writes_config_and_announces_the_key(
    addon_dirs: AddonDirs, make_settings, supervisor
) -> None:
    # Given a fresh add-on with secret options and a Supervisor that checks its token
    addon_dirs.write_options(vlm_enabled=True, vlm_api_key="sk-vlm-secret-123",
                             mqtt_password="mqtt-secret-456", log_level="warning")
    settings = make_settings(supervisor)

    # When the add-on starts
    startup = await start(settings)

    # Then the engine config exists, is valid for the engine, and seeds from the options
    config_path = addon_dirs.config / "config.yaml"
    base = yaml.safe_load(config_path.read_text(encoding="utf-8"))
    validate("Config", base)
    assert startup.config_created is True
    assert base["log_level"] == "warning"
    assert base["analyzer"]["enabled"] is True
    assert base["analyzer"]["api_key_env"] == "HOMESEC_VLM_API_KEY"
    assert base["storage"]["path"] == "/media/homesec"
    assert base["config_overrides_path"] == str(addon_dirs.data / "overrides.yaml")
    assert base["notifiers"] == [{"backend": "home_assistant", "enabled": True}]
    assert base["cameras"] == []
    # ... the API needs the generated key from everyone but the ingress proxy
    assert base["server"]["host"] == "0.0.0.0" and base["server"]["port"] == 8080
    assert base["server"]["api_key_env"] == "HOMESEC_API_KEY"
    assert base["server"]["trusted_proxies"] == ["172.30.32.2"]
    # ... the database is the bundled one, named without a password
    assert base["state"] == {"url": TEST_DB_URL, "url_env": "HOMESEC_DATABASE_URL",
                             "outbox_path": str(addon_dirs.data / "outbox")}

    # And the API key was generated once, readable only by the add-on
    key_file = addon_dirs.data / "api_key"
    api_key = key_file.read_text(encoding="utf-8").strip()
    assert len(api_key) >= 32
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    db_password_file = addon_dirs.data / "postgres_password"
    assert stat.S_IMODE(db_password_file.stat().st_mode) == 0o600

    # And the Supervisor received the announcement with host, port and the key
    assert supervisor.refused == []
    assert supervisor.received == [{"service": "homesec", "config": {
        "host": "a0d7b954-homesec", "port": 8080, "api_key": api_key}}]
    assert startup.discovery_uuid == supervisor.messages["homesec"]["uuid"]

    # And the secrets reach the engine only as environment variables
    db_password = db_password_file.read_text(encoding="utf-8").strip()
    assert startup.env["HOMESEC_API_KEY"] == api_key
    assert startup.env["HOMESEC_VLM_API_KEY"] == "sk-vlm-secret-123"
    assert startup.env["HOMESEC_MQTT_PASSWORD"] == "mqtt-secret-456"
    assert startup.env["HOMESEC_DATABASE_URL"] == (
        pg_url(password=db_password))
    on_disk = addon_dirs.all_file_text()
    for secret in (api_key, db_password, "sk-vlm-secret-123", "mqtt-secret-456",
                   supervisor.token):
        assert secret not in on_disk
    assert supervisor.token not in startup.env.values()


async def test_second_start_keeps_config_and_key(
    addon_dirs: AddonDirs, make_settings, supervisor
) -> None:
    # Given an add-on that started once
    addon_dirs.write_options()
    await start(make_settings(supervisor))
    config_path = addon_dirs.config / "config.yaml"
    first_bytes = config_path.read_bytes()
    first_key = (addon_dirs.data / "api_key").read_text(encoding="utf-8")

    # When the user changes the bootstrap options and the add-on starts again
    # (with a new SUPERVISOR_TOKEN, as the Supervisor issues one on every start)
    addon_dirs.write_options(log_level="debug", storage_path="/share/homesec",
                             vlm_enabled=True)
    supervisor.token = "a-fresh-token-for-this-start"
    second = await start(make_settings(supervisor))

    # Then the engine config is byte-for-byte the one written on the first start
    assert config_path.read_bytes() == first_bytes
    assert second.config_created is False
    # And the same key is announced again, under the same discovery message
    assert (addon_dirs.data / "api_key").read_text(encoding="utf-8") == first_key
    assert [m["config"]["api_key"] for m in supervisor.received] == [first_key.strip()] * 2
    assert len(supervisor.messages) == 1
    assert second.discovery_uuid == supervisor.messages["homesec"]["uuid"]


async def test_a_start_cut_off_while_writing_a_key_does_not_block_the_next(
    addon_dirs: AddonDirs, make_settings, supervisor
) -> None:
    # Given a first start that died (power cut) after creating the key's temp file: in the
    # container the entry point runs with the same process id on every start
    addon_dirs.write_options()
    addon_dirs.data.mkdir(parents=True, exist_ok=True)
    for name in ("api_key",):
        (addon_dirs.data / f".{name}.{os.getpid()}.tmp").write_text("half", encoding="utf-8")

    # When the add-on starts again
    startup = await start(make_settings(supervisor))

    # Then it starts, with new keys, announces the API key and leaves no temp file behind
    api_key = (addon_dirs.data / "api_key").read_text(encoding="utf-8").strip()
    assert len(api_key) >= 32 and startup.env["HOMESEC_API_KEY"] == api_key
    assert [m["config"]["api_key"] for m in supervisor.received] == [api_key]
    assert not list(addon_dirs.data.glob(".*.tmp"))


async def test_a_chosen_api_key_is_used_and_announced(
    addon_dirs: AddonDirs, make_settings, supervisor
) -> None:
    # Given a user who set the api_key option (to set the integration up by hand)
    addon_dirs.write_options(api_key="my-own-key-for-scripts-123")

    # When the add-on starts
    startup = await start(make_settings(supervisor))

    # Then the engine and the discovery message use that key, and it is on no disk file
    assert startup.env["HOMESEC_API_KEY"] == "my-own-key-for-scripts-123"
    assert supervisor.received[-1]["config"]["api_key"] == "my-own-key-for-scripts-123"
    assert "my-own-key-for-scripts-123" not in addon_dirs.all_file_text()


async def test_existing_standalone_config_is_kept_and_secured(
    addon_dirs: AddonDirs, make_settings, supervisor
) -> None:
    # Given a config copied over from a standalone install (loopback, no key, SQLite)
    standalone = (
        "log_level: info\n"
        "server:\n  host: 127.0.0.1\n  port: 9000\n"
        "state:\n  url: sqlite:///./data/homesec.db\n"
        "cameras:\n  - name: porch\n    source_backend: demo\n    source_config: {}\n"
    )
    config_path = addon_dirs.config / "config.yaml"
    config_path.write_text(standalone, encoding="utf-8")
    addon_dirs.write_options()

    # When the add-on starts
    startup = await start(make_settings(supervisor))

    # Then the user's file is untouched
    assert config_path.read_text(encoding="utf-8") == standalone
    # And the engine, loading both files in order, still listens for the ingress proxy,
    # requires the key and uses the add-on's database, keeping the user's camera
    merged = validate_config(merge_all([read_yaml(p) for p in startup.config_paths]))
    assert merged["server"]["host"] == "0.0.0.0" and merged["server"]["port"] == 8080
    assert merged["server"]["api_key_env"] == "HOMESEC_API_KEY"
    assert merged["server"]["trusted_proxies"] == ["172.30.32.2"]
    assert merged["state"]["url_env"] == "HOMESEC_DATABASE_URL"
    assert merged["config_overrides_path"] == str(addon_dirs.data / "overrides.yaml")
    assert [c["name"] for c in merged["cameras"]] == ["porch"]


async def test_external_database_url_skips_the_bundled_one(
    addon_dirs: AddonDirs, make_settings, supervisor
) -> None:
    # Given an external database URL and its password as options, and no bundled server
    # (the bundled URL points at a closed port: using it would time out)
    addon_dirs.write_options(database_url=TEST_DB_URL, database_password="pg-pass-w0rd!")
    settings = make_settings(supervisor, db_timeout_s=5.0,
                             bundled_db_url=f"postgresql://homesec@127.0.0.1:{closed_port()}/x")

    # When the add-on starts
    startup = await start(settings)

    # Then it used the external database: no bundled password was generated
    assert not (addon_dirs.data / "postgres_password").exists()
    assert startup.database_url_shown == TEST_DB_URL
    # And the password travels only in the env var (URL-quoted), never in a file
    assert startup.env["HOMESEC_DATABASE_URL"] == (
        pg_url(password="pg-pass-w0rd%21"))
    base = yaml.safe_load((addon_dirs.config / "config.yaml").read_text(encoding="utf-8"))
    assert base["state"]["url"] == TEST_DB_URL
    assert "pg-pass-w0rd" not in addon_dirs.all_file_text()
    assert supervisor.received  # announced once the database answered


async def test_a_password_in_the_url_query_never_reaches_a_file_or_the_log(
    addon_dirs: AddonDirs, make_settings, supervisor, caplog: pytest.LogCaptureFixture
) -> None:
    # Given an external database URL that carries its password as a query parameter
    caplog.set_level(logging.DEBUG)
    url = TEST_DB_URL + "?password=pg-query-s3cret&application_name=homesec"
    addon_dirs.write_options(database_url=url)
    settings = make_settings(supervisor, db_timeout_s=5.0,
                             bundled_db_url=f"postgresql://homesec@127.0.0.1:{closed_port()}/x")

    # When the add-on starts
    startup = await start(settings)

    # Then the engine gets the full URL through its env var only
    assert startup.env["HOMESEC_DATABASE_URL"] == url
    # And the config files, the shown URL and the log keep the other parameters, not the
    # password (the engine shows its config through GET /config)
    shown = TEST_DB_URL + "?application_name=homesec"
    assert startup.database_url_shown == shown
    base = yaml.safe_load((addon_dirs.config / "config.yaml").read_text(encoding="utf-8"))
    assert base["state"]["url"] == shown
    assert "pg-query-s3cret" not in addon_dirs.all_file_text()
    assert "pg-query-s3cret" not in caplog.text
    # And the config the engine will load is valid
    layers = [read_yaml(addon_dirs.config / "config.yaml"),
              read_yaml(addon_dirs.data / "addon.yaml")]
    assert validate_config(merge_all(layers))["state"]["url_env"] == "HOMESEC_DATABASE_URL"


async def test_missing_database_times_out_with_a_clear_error(
    addon_dirs: AddonDirs, make_settings, supervisor, caplog: pytest.LogCaptureFixture
) -> None:
    # Given a database URL on a port where nothing listens
    port = closed_port()
    addon_dirs.write_options(database_url=f"postgresql://homesec@127.0.0.1:{port}/homesec",
                             database_password="never-logged-pw")
    settings = make_settings(supervisor, db_timeout_s=1.5)
    caplog.set_level(logging.INFO, logger="homesec_engine")

    # When the add-on starts
    with pytest.raises(StartupError) as failure:
        await start(settings)

    # Then start-up fails with the "no database" exit code and a message naming the database
    assert failure.value.exit_code == EXIT_NO_DATABASE
    message = str(failure.value)
    assert f"postgresql://homesec@127.0.0.1:{port}/homesec did not answer within 2 s" in message
    assert "never-logged-pw" not in message + caplog.text
    assert f"Waiting for the database at postgresql://homesec@127.0.0.1:{port}" in caplog.text
    # And nothing was announced to Home Assistant
    assert supervisor.received == []


def test_command_line_exits_non_zero_without_database(addon_dirs: AddonDirs) -> None:
    # Given the add-on's command line with a bundled database that is not running
    addon_dirs.write_options()
    port = closed_port()
    env = {k: v for k, v in os.environ.items() if k not in ("SUPERVISOR_TOKEN", "HASSIO_TOKEN")}
    cmd = [sys.executable, "-m", "homesec_engine.addon_entry", "--no-run",
           "--options", str(addon_dirs.options), "--data-dir", str(addon_dirs.data),
           "--config-dir", str(addon_dirs.config), "--db-timeout", "1",
           "--bundled-db-url", f"postgresql://homesec@127.0.0.1:{port}/homesec"]

    # When it runs
    result = subprocess.run(cmd, cwd=REPO, env=env, capture_output=True, text=True,
                            timeout=60, check=False)

    # Then it exits with the database code and says which database did not answer
    assert result.returncode == EXIT_NO_DATABASE, result.stderr
    assert f"postgresql://homesec@127.0.0.1:{port}/homesec did not answer" in result.stderr
    password = (addon_dirs.data / "postgres_password").read_text(encoding="utf-8").strip()
    assert password not in result.stderr


async def test_refused_discovery_does_not_stop_the_engine(
    addon_dirs: AddonDirs, make_settings, supervisor, caplog: pytest.LogCaptureFixture
) -> None:
    # Given a Supervisor that rejects the token the add-on holds
    addon_dirs.write_options()
    settings = make_settings(supervisor, supervisor_token="stale-token")
    caplog.set_level(logging.INFO, logger="homesec_engine")

    # When the add-on starts
    startup = await start(settings)

    # Then start-up still completes (the integration can be added by hand), the refusal is
    # logged plainly, and a refusal is not retried
    assert startup.discovery_uuid is None
    assert supervisor.refused == [401]
    assert "Could not announce HomeSec to Home Assistant" in caplog.text
    assert "401" in caplog.text
    assert "stale-token" not in caplog.text


async def test_invalid_options_stop_with_a_clear_error(
    addon_dirs: AddonDirs, make_settings
) -> None:
    # Given an options file with a relative storage path and a non-PostgreSQL database URL
    addon_dirs.write_options(storage_path="clips")
    # When the add-on starts
    with pytest.raises(StartupError) as failure:
        await start(make_settings())
    # Then it stops with the options exit code, naming the option, and writes no config
    assert failure.value.exit_code == EXIT_BAD_OPTIONS
    assert "storage_path" in str(failure.value)
    assert not (addon_dirs.config / "config.yaml").exists()

    addon_dirs.write_options(database_url="mysql://db/homesec")
    with pytest.raises(StartupError) as failure:
        await start(make_settings())
    assert "database_url" in str(failure.value)
