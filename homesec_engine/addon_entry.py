"""Start-up entry point of the Home Assistant add-on: `python -m homesec_engine.addon_entry`.

The s6 `homesec` service only execs this. In order it:
1. reads the add-on options (`/data/options.json`);
2. generates the API key and the media-link signing key once (kept under /data, mode 0600);
3. writes the engine's base config only if none exists (options are bootstrap-only) and
   rewrites the small add-on layer every start (see `addon.bootstrap`);
4. maps the secret options to environment variables (never to files);
5. waits for the database (bundled PostgreSQL, or the external `database_url`);
6. announces host, port and API key to the Supervisor discovery API;
7. runs the engine with both config files (the override file is loaded last by the engine).

Every path and URL can be set by an argument or an env var, so tests run it without Docker.
`SUPERVISOR_TOKEN` is read from the environment at run time: it changes on every start.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import socket
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from .addon import bootstrap
from .addon.database import DatabaseUnavailableError, wait_for_database
from .addon.dburl import with_password, without_password
from .addon.discovery import DiscoveryError, announce, discovery_body
from .addon.keys import API_KEY_FILE, DB_PASSWORD_FILE, read_or_create_secret
from .addon.options import AddonOptions, OptionsError, load_options

_LOGGER = logging.getLogger("homesec_engine.addon")

BUNDLED_DB_URL = "postgresql://homesec@127.0.0.1:5432/homesec"

EXIT_OK = 0
EXIT_ENGINE_MISSING = 1
EXIT_BAD_OPTIONS = 2
EXIT_NO_DATABASE = 3


@dataclass(frozen=True)
class Settings:
    options_path: Path = Path("/data/options.json")
    data_dir: Path = Path("/data")
    config_dir: Path = Path("/config")
    supervisor_url: str = "http://supervisor"
    supervisor_token: str | None = None
    hostname: str = "localhost"
    db_timeout_s: float = 120.0
    bundled_db_url: str = BUNDLED_DB_URL
    port: int = bootstrap.PORT
    run_engine: bool = True

    @property
    def config_path(self) -> Path:
        return self.config_dir / bootstrap.BASE_CONFIG_NAME

    @property
    def addon_layer_path(self) -> Path:
        return self.data_dir / bootstrap.ADDON_LAYER_NAME


@dataclass
class Startup:
    """What start-up prepared; `env` holds secrets and goes only into os.environ."""

    options: AddonOptions
    config_paths: list[Path]
    config_created: bool
    database_url_shown: str
    env: dict[str, str] = field(repr=False)
    discovery_uuid: str | None = None


class StartupError(RuntimeError):
    def __init__(self, message: str, exit_code: int) -> None:
        super().__init__(message)
        self.exit_code = exit_code


def _database_url(options: AddonOptions, settings: Settings) -> str:
    """The URL with its password: external option, or the bundled server."""
    if options.database_url:
        return with_password(options.database_url, options.database_password)
    # Same rule as postgres-init.sh: the option wins, else the password generated once.
    password = options.database_password or read_or_create_secret(
        settings.data_dir / DB_PASSWORD_FILE)
    return with_password(settings.bundled_db_url, password)


def _secret_env(options: AddonOptions, api_key: str, database_url: str) -> dict[str, str]:
    env = {
        bootstrap.ENV_API_KEY: api_key,
        bootstrap.ENV_DATABASE_URL: database_url,
    }
    optional = {
        bootstrap.ENV_VLM_API_KEY: options.vlm_api_key,
        bootstrap.ENV_MQTT_USERNAME: options.mqtt_username,
        bootstrap.ENV_MQTT_PASSWORD: options.mqtt_password,
    }
    env.update({name: value for name, value in optional.items() if value})
    return env


def _prepare_files(settings: Settings, options: AddonOptions,
                   database_url: str) -> tuple[bool, str]:
    """Blocking file work (run in a thread): keys, base config, add-on layer."""
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    # A key the user chose (for clients outside HA) wins; otherwise one generated once.
    api_key = options.api_key or read_or_create_secret(settings.data_dir / API_KEY_FILE)
    created = bootstrap.write_initial_config(
        settings.config_path,
        bootstrap.initial_config(options, settings.data_dir, database_url, settings.port))
    bootstrap.write_addon_layer(
        settings.addon_layer_path,
        bootstrap.addon_layer(settings.data_dir, database_url, settings.port))
    return created, api_key


async def start(settings: Settings) -> Startup:
    """Everything before the engine runs. Raises StartupError with the exit code to use."""
    try:
        options = await asyncio.to_thread(load_options, settings.options_path)
    except OptionsError as err:
        raise StartupError(f"Invalid add-on options: {err}", EXIT_BAD_OPTIONS) from err
    if options.external_database:
        _LOGGER.info("Using the external database from the 'database_url' option; "
                     "the bundled PostgreSQL is not started")
    database_url = await asyncio.to_thread(_database_url, options, settings)
    created, api_key = await asyncio.to_thread(
        _prepare_files, settings, options, database_url)
    if created:
        _LOGGER.info("Wrote the initial engine config to %s", settings.config_path)
    else:
        _LOGGER.info("Keeping the existing engine config %s (add-on options only seed a new "
                     "config; later changes go through Home Assistant or the API)",
                     settings.config_path)

    try:
        await wait_for_database(database_url, settings.db_timeout_s)
    except DatabaseUnavailableError as err:
        raise StartupError(str(err), EXIT_NO_DATABASE) from err

    startup = Startup(
        options=options,
        config_paths=[settings.config_path, settings.addon_layer_path],
        config_created=created,
        database_url_shown=without_password(database_url),
        env=_secret_env(options, api_key, database_url),
    )
    startup.discovery_uuid = await _announce(settings, api_key)
    return startup


async def _announce(settings: Settings, api_key: str) -> str | None:
    if not settings.supervisor_token:
        _LOGGER.warning("SUPERVISOR_TOKEN is not set (not running under the Supervisor?): "
                        "skipping discovery; set the integration up by hand")
        return None
    body = discovery_body(settings.hostname, settings.port, api_key)
    try:
        uuid = await announce(settings.supervisor_url, settings.supervisor_token, body)
    except DiscoveryError as err:
        # The engine is still useful without discovery: the integration can be added by hand.
        _LOGGER.error("Could not announce HomeSec to Home Assistant: %s", err)
        return None
    _LOGGER.info("Announced HomeSec to Home Assistant as %s:%d (discovery %s)",
                 settings.hostname, settings.port, uuid)
    return uuid


def run_engine(config_paths: Sequence[Path]) -> int:
    """The one call site of the engine's runner (`homesec run --config ... --config ...`)."""
    try:
        from .__main__ import main as engine_main
    except ImportError as err:
        _LOGGER.error("The engine runner (homesec_engine.__main__) is missing: %s", err)
        return EXIT_ENGINE_MISSING
    argv = ["run"]
    for path in config_paths:
        argv += ["--config", str(path)]
    result = engine_main(argv)
    return int(result or 0)


def _parse_args(argv: Sequence[str] | None) -> Settings:
    env = os.environ
    parser = argparse.ArgumentParser(prog="python -m homesec_engine.addon_entry",
                                     description="Start HomeSec inside the Home Assistant add-on.")
    parser.add_argument("--options", type=Path,
                        default=Path(env.get("HOMESEC_ADDON_OPTIONS", "/data/options.json")))
    parser.add_argument("--data-dir", type=Path,
                        default=Path(env.get("HOMESEC_ADDON_DATA_DIR", "/data")))
    parser.add_argument("--config-dir", type=Path,
                        default=Path(env.get("HOMESEC_ADDON_CONFIG_DIR", "/config")))
    parser.add_argument("--supervisor-url",
                        default=env.get("SUPERVISOR_URL", "http://supervisor"))
    parser.add_argument("--db-timeout", type=float,
                        default=float(env.get("HOMESEC_ADDON_DB_TIMEOUT", "120")))
    parser.add_argument("--bundled-db-url",
                        default=env.get("HOMESEC_ADDON_BUNDLED_DB_URL", BUNDLED_DB_URL))
    parser.add_argument("--port", type=int,
                        default=int(env.get("HOMESEC_ADDON_PORT", str(bootstrap.PORT))),
                        help="API port (the add-on's ingress_port; change only for tests)")
    parser.add_argument("--no-run", action="store_true",
                        help="prepare everything, then exit instead of running the engine")
    args = parser.parse_args(argv)
    return Settings(
        options_path=args.options,
        data_dir=args.data_dir,
        config_dir=args.config_dir,
        supervisor_url=args.supervisor_url,
        supervisor_token=env.get("SUPERVISOR_TOKEN") or env.get("HASSIO_TOKEN") or None,
        hostname=env.get("HOSTNAME") or socket.gethostname(),
        db_timeout_s=args.db_timeout,
        bundled_db_url=args.bundled_db_url,
        port=args.port,
        run_engine=not args.no_run,
    )


def main(argv: Sequence[str] | None = None) -> int:
    logging.basicConfig(level=logging.INFO, stream=sys.stderr,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    settings = _parse_args(argv)
    try:
        startup = asyncio.run(start(settings))
    except StartupError as err:
        _LOGGER.error("%s", err)
        return err.exit_code
    if not settings.run_engine:
        return EXIT_OK
    os.environ.update(startup.env)  # the engine reads its secrets from these names
    return run_engine(startup.config_paths)


if __name__ == "__main__":
    sys.exit(main())
