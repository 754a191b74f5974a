"""Database URLs and async engines for the state layer (PostgreSQL/asyncpg, SQLite/aiosqlite)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import event

import orjson  # several times faster than json for the JSON columns
from sqlalchemy.engine import URL, make_url
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

_SQLITE_DRIVERS = {"sqlite", "sqlite+aiosqlite"}
_POSTGRES_DRIVERS = {"postgresql", "postgres", "postgresql+asyncpg"}

POOL_SIZE = 20  # pooled PostgreSQL connections kept open
POOL_OVERFLOW = 10  # extra ones opened under a burst (closed when returned)


def normalize_url(url: str | URL) -> URL:
    """The async URL for a database URL.

    `sqlite:///path.db` becomes `sqlite+aiosqlite:///path.db`, `postgresql://...` (and
    `postgres://...`) becomes `postgresql+asyncpg://...`; the async forms are kept as they are.
    Any other driver is refused with a ValueError (without echoing a password).
    """
    parsed = make_url(url)
    if parsed.drivername in _SQLITE_DRIVERS:
        return parsed.set(drivername="sqlite+aiosqlite")
    if parsed.drivername in _POSTGRES_DRIVERS:
        return parsed.set(drivername="postgresql+asyncpg")
    raise ValueError(
        f"unsupported database URL scheme {parsed.drivername!r}: use sqlite:///PATH "
        "(or sqlite+aiosqlite:///PATH) or postgresql://USER@HOST/DB (or postgresql+asyncpg://)"
    )


def safe_url(url: URL) -> str:
    """The URL for logs and messages: the password is masked (also a `?password=` one)."""
    if any(key.lower() == "password" for key in url.query):
        url = url.set(query={k: ("***" if k.lower() == "password" else v)
                             for k, v in url.query.items()})
    return url.render_as_string(hide_password=True)


def sqlite_path(url: URL) -> Path | None:
    """The database file of a SQLite URL; None for PostgreSQL and in-memory databases."""
    if url.get_backend_name() != "sqlite" or url.database in (None, "", ":memory:"):
        return None
    if url.database.startswith("file:"):
        return None
    return Path(url.database)


def create_engine(url: URL, *, schema: str | None = None, timeout: float = 10.0) -> AsyncEngine:
    """An AsyncEngine for `url` (already normalised) with the state layer's settings.

    PostgreSQL: pooled asyncpg connections (not pinged before each use: the repository
    retries once on a connection that died with a server restart, which saves a round trip
    per query), connect and statement timeouts of `timeout` seconds, and tables in `schema`
    when one is given (through SQLAlchemy's schema_translate_map).

    SQLite: real transactions (BEGIN is emitted by us, so DDL is transactional too, as in
    SQLAlchemy's documented aiosqlite recipe), foreign keys enforced, WAL journal for file
    databases, and a busy timeout of `timeout` seconds.
    """
    options: dict[str, Any] = {"json_deserializer": orjson.loads}
    if schema is not None:
        options["execution_options"] = {"schema_translate_map": {None: schema}}
    backend = url.get_backend_name()
    if backend == "postgresql":
        return create_async_engine(
            url,
            connect_args={"timeout": timeout, "command_timeout": timeout},
            # Room for the API's concurrent reads (16 polls at once) plus the writers: an
            # overflow connection is closed when it is returned, so a pool smaller than the
            # usual concurrency connects anew on every request.
            pool_size=POOL_SIZE,
            max_overflow=POOL_OVERFLOW,
            **options,
        )
    if schema is not None:
        raise ValueError("a schema can only be given for PostgreSQL")
    engine = create_async_engine(url, connect_args={"timeout": timeout}, **options)
    wal = sqlite_path(url) is not None

    @event.listens_for(engine.sync_engine, "connect")
    def _sqlite_connect(dbapi_connection: Any, _record: Any) -> None:
        # Stop the driver's own implicit BEGIN handling; _sqlite_begin emits BEGIN instead.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        if wal:
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _sqlite_begin(conn: Any) -> None:
        conn.exec_driver_sql("BEGIN")

    return engine
