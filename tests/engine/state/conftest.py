"""Fixtures for the state layer: the repository over SQLite and the real PostgreSQL.

PostgreSQL tests use the test server (tests/services.py), each test in a schema of its own that is dropped
at teardown, so parallel runs do not collide. Outage tests start their own cluster
(pgcluster.py).
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import asyncpg
import pytest

from homesec_engine.state import ClipRepository
from tests.services import PG_URL

from .pgcluster import PgCluster, throwaway_postgres


# Quick retries so recovery is seen in tests within a fraction of a second.
FAST_RETRY: dict[str, Any] = {"retry_initial": 0.05, "retry_max": 0.25}


@pytest.fixture(autouse=True)
def _tcp_sockets(request: pytest.FixtureRequest) -> None:
    """pytest-homeassistant-custom-component blocks sockets; these tests talk to PostgreSQL."""
    try:
        request.getfixturevalue("socket_enabled")
    except pytest.FixtureLookupError:
        pass  # pytest-socket is not loaded: sockets are allowed anyway


@dataclass(frozen=True)
class Database:
    backend: str
    url: str
    schema: str | None = None


@pytest.fixture(params=["sqlite", "postgresql"])
async def database(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Database]:
    """A throw-away database: a SQLite file in tmp_path, or a unique PostgreSQL schema."""
    if request.param == "sqlite":
        yield Database("sqlite", f"sqlite:///{tmp_path / 'state.db'}")
        return
    try:
        conn = await asyncpg.connect(PG_URL, timeout=5)
    except (OSError, asyncpg.PostgresError) as exc:
        pytest.fail(f"PostgreSQL at {PG_URL} is needed for these tests: {exc}")
    schema = f"homesec_test_{uuid.uuid4().hex[:12]}"
    try:
        yield Database("postgresql", PG_URL, schema)
    finally:
        await conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
        await conn.close()


RepoFactory = Callable[..., Awaitable[ClipRepository]]


@pytest.fixture
async def make_repo(database: Database, tmp_path: Path) -> AsyncIterator[RepoFactory]:
    """Start repositories on `database` (closed at teardown); kwargs go to ClipRepository."""
    repos: list[ClipRepository] = []

    async def factory(**kwargs: Any) -> ClipRepository:
        kwargs.setdefault("outbox_dir", tmp_path / "outbox")
        repo = ClipRepository(database.url, schema=database.schema, **{**FAST_RETRY, **kwargs})
        repos.append(repo)
        await repo.start()
        return repo

    yield factory
    for repo in repos:
        await repo.close()


@pytest.fixture
async def repo(make_repo: RepoFactory) -> ClipRepository:
    return await make_repo()


@pytest.fixture
async def pg_cluster() -> AsyncIterator[PgCluster]:
    """A throw-away PostgreSQL cluster of this test's own (it may stop and start it)."""
    async with throwaway_postgres() as cluster:
        yield cluster
