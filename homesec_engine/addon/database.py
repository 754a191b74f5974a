"""Wait for PostgreSQL before the engine starts (the bundled server may still be starting)."""

from __future__ import annotations

import asyncio
import logging

import asyncpg  # type: ignore[import-untyped]

from .dburl import for_asyncpg, without_password

_LOGGER = logging.getLogger(__name__)

# Errors that waiting will not cure: report them at once instead of after the timeout.
_FATAL = (
    asyncpg.InvalidAuthorizationSpecificationError,
    asyncpg.InvalidPasswordError,
    asyncpg.InvalidCatalogNameError,
)


class DatabaseUnavailableError(RuntimeError):
    """The database did not answer in time, or refused us for good."""


async def wait_for_database(url: str, timeout_s: float, *, retry_s: float = 1.0,
                            report_every_s: float = 10.0) -> None:
    """Connect and run `SELECT 1` until it works or `timeout_s` passes."""
    shown = without_password(url)
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout_s
    next_report = loop.time() + report_every_s
    _LOGGER.info("Waiting for the database at %s (up to %.0f s)", shown, timeout_s)
    last_error = "no attempt made"
    while True:
        remaining = deadline - loop.time()
        if remaining <= 0:
            raise DatabaseUnavailableError(
                f"The database at {shown} did not answer within {timeout_s:.0f} s "
                f"(last error: {last_error}). Check that it is running and reachable, or "
                "clear the 'database_url' option to use the bundled database."
            )
        try:
            conn = await asyncpg.connect(for_asyncpg(url), timeout=max(0.1, min(5.0, remaining)))
        except _FATAL as err:
            raise DatabaseUnavailableError(
                f"The database at {shown} refused the connection: {err}"
            ) from err
        except (OSError, asyncio.TimeoutError, asyncpg.PostgresError,
                asyncpg.InterfaceError) as err:
            last_error = f"{type(err).__name__}: {err}" if str(err) else type(err).__name__
        else:
            try:
                await conn.fetchval("SELECT 1")
            finally:
                await conn.close()
            _LOGGER.info("The database at %s is ready", shown)
            return
        if loop.time() >= next_report:
            _LOGGER.info("Still waiting for the database at %s (%s)", shown, last_error)
            next_report = loop.time() + report_every_s
        await asyncio.sleep(min(retry_s, max(0.0, deadline - loop.time())))
