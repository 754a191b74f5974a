"""The `homesec` command line: `homesec run [--config FILE ...]`.

`run` loads the config files left to right (relative paths from the caller's working
directory; without any: the embedded default, data under ./data), then the override file
(`config_overrides_path`; default `overrides.yaml` beside the first config file, or
`data/overrides.yaml` with the embedded default), starts the engine and serves the REST API
and panel on server.host:server.port until SIGTERM/SIGINT.

A restart asked for through the API stops everything and starts again in this process with
the config read anew; `--exit-on-restart` exits instead (status 0), for supervisors that
restart the process themselves. Config errors are printed with file, line or field and exit
with status 2.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import logging
import signal
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from . import __version__
from .config.defaults import DEFAULT_DATA_DIR, embedded_default
from .config.loader import ConfigError, merge_all, read_yaml
from .config.manager import ConfigManager
from .demo.feed import start_demo_feed
from .runtime import EngineRuntime, StartupError

_LOGGER = logging.getLogger("homesec_engine")

EXIT_OK = 0
EXIT_FAILURE = 1
EXIT_CONFIG = 2


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="homesec", description="HomeSec video security engine")
    parser.add_argument("--version", action="version", version=f"homesec {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)
    run = sub.add_parser("run", help="run the engine and its REST API")
    run.add_argument("--config", action="append", type=Path, default=[], metavar="FILE",
                     help="config file (repeatable; later files win)")
    run.add_argument("--embedded-default", action="store_true",
                     help="start from the embedded default and apply the --config files on top")
    run.add_argument("--exit-on-restart", action="store_true",
                     help="exit (status 0) when a restart is requested instead of restarting")
    return parser


def config_manager_for(config_paths: list[Path], use_default: bool,
                       demo_url: str | None = None) -> ConfigManager:
    """A ConfigManager for the given files (the embedded default when there are none; its
    demo camera reads `demo_url` when given)."""
    embedded = (embedded_default(DEFAULT_DATA_DIR, demo_url)
                if use_default or not config_paths else None)
    layers = ([embedded] if embedded else []) + [read_yaml(p) for p in config_paths]
    chosen = merge_all(layers).get("config_overrides_path")
    anchor = config_paths[0].parent if config_paths else Path(".")
    if chosen:
        overrides = Path(chosen).expanduser()
        overrides = overrides if overrides.is_absolute() else anchor / overrides
    elif config_paths:
        overrides = anchor / "overrides.yaml"
    else:
        overrides = DEFAULT_DATA_DIR / "overrides.yaml"
    return ConfigManager(list(config_paths), overrides, embedded_default=embedded)


def _configure_logging(level: str) -> None:
    root = logging.getLogger()
    if not root.handlers:
        logging.basicConfig(format="%(asctime)s %(levelname)s %(name)s: %(message)s",
                            stream=sys.stderr)
    root.setLevel(getattr(logging, level.upper(), logging.INFO))
    # Third-party chatter stays at warning unless debugging.
    for noisy in ("aiohttp.access", "sqlalchemy", "aiosqlite", "asyncio"):
        logging.getLogger(noisy).setLevel(logging.DEBUG if level == "debug" else logging.WARNING)


def _api_factory() -> Callable[[EngineRuntime], Any] | None:
    try:
        from .api.app import create_app
    except ImportError as err:
        if err.name and err.name.startswith("homesec_engine.api"):
            _LOGGER.warning("the REST API is not available in this build: serving nothing")
            return None
        raise
    return create_app


async def _serve(runtime: EngineRuntime, server: dict[str, Any]) -> Any:
    factory = _api_factory()
    if factory is None:
        return None
    from aiohttp import web

    from .api.server import GuardedRunner, server_limits

    host, port = server["host"], int(server["port"])
    app = factory(runtime)
    runner = GuardedRunner(app, server_limits(server))
    await runner.setup()
    site = web.TCPSite(runner, host, port, backlog=runner.limits.backlog)
    try:
        await site.start()
    except OSError:
        await runner.cleanup()
        raise
    _LOGGER.info("REST API and panel on http://%s:%d", host, port)
    return runner


async def run_engine(config_paths: list[Path], *, use_default: bool = False,
                     exit_on_restart: bool = False) -> int:
    """Run until stopped; restarts in-process when asked. Returns the exit status."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        try:
            loop.add_signal_handler(sig, stop.set)
        except (NotImplementedError, RuntimeError):  # not the main thread / platform
            pass
    # The demo footage's feed outlives in-process restarts: the camera's URL stays the same.
    feed = start_demo_feed() if use_default or not config_paths else None
    try:
        while True:
            try:
                manager = await asyncio.to_thread(config_manager_for, config_paths, use_default,
                                                  feed.url if feed else None)
                config = await manager.load()
            except ConfigError as err:
                print(f"homesec: config error: {err}", file=sys.stderr)
                return EXIT_CONFIG
            _configure_logging(config["log_level"])
            runtime = EngineRuntime(manager)
            runner = None
            try:
                await runtime.start()
                server = config["server"]
                runner = await _serve(runtime, server)
            except (StartupError, ConfigError) as err:
                await runtime.stop()
                print(f"homesec: cannot start: {err}", file=sys.stderr)
                return EXIT_CONFIG
            except OSError as err:
                await runtime.stop()
                print(f"homesec: cannot listen on {config['server']['host']}:"
                      f"{config['server']['port']}: {err.strerror or err}", file=sys.stderr)
                return EXIT_FAILURE
            except Exception:
                _LOGGER.exception("the engine failed to start")
                await runtime.stop()
                return EXIT_FAILURE
            # Objects alive after start-up live as long as the engine: move them out of the
            # garbage collector's reach so full collections do not stall the event loop
            # (~70 ms pauses measured by bench/api.py).
            gc.collect()  # garbage (a restarted engine's old runtime) must not be frozen too
            gc.freeze()
            restart = asyncio.ensure_future(runtime.restart_requested.wait())
            stopping = asyncio.ensure_future(stop.wait())
            try:
                await asyncio.wait({restart, stopping}, return_when=asyncio.FIRST_COMPLETED)
            finally:
                for waiter in (restart, stopping):
                    waiter.cancel()
                if runner is not None:
                    await runner.cleanup()
                await runtime.stop()
                # Hand the stopped engine back to the collector: left frozen, every restart
                # would keep the previous runtime (its reference cycles) for good.
                gc.unfreeze()
            if stop.is_set():
                _LOGGER.info("stopped")
                return EXIT_OK
            if exit_on_restart:
                _LOGGER.info("restart requested: exiting for the supervisor to restart us")
                return EXIT_OK
            _LOGGER.info("restarting with the current config")
    finally:
        if feed is not None:
            feed.stop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            try:
                loop.remove_signal_handler(sig)
            except (NotImplementedError, RuntimeError):
                pass


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.command == "run":
        # Resolved now, from the caller's working directory: an in-process restart (or
        # anything that changes directory later) reads the same files.
        config_paths = [path.expanduser().absolute() for path in args.config]
        try:
            return asyncio.run(run_engine(config_paths, use_default=args.embedded_default,
                                          exit_on_restart=args.exit_on_restart))
        except KeyboardInterrupt:
            return EXIT_OK
    return EXIT_FAILURE


if __name__ == "__main__":
    sys.exit(main())
