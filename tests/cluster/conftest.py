"""Cluster tests: real engines as processes, one fresh PostgreSQL database per test (on the
development server), one real S3 server (moto's standalone server, from the offsite tests'
fixtures) on loopback."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterator

import asyncpg
import pytest

from tests.engine.lifecycle.conftest import s3_env, s3_port, s3_server  # noqa: F401
from tests.loopback import loopback_sockets  # noqa: F401
from tests.services import PG_URL

PG_ADMIN_URL = PG_URL


async def _admin(sql: str) -> None:
    conn = await asyncpg.connect(PG_ADMIN_URL, timeout=5)
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


@pytest.fixture
def cluster_db() -> Iterator[str]:
    """The name of a fresh PostgreSQL database, dropped (with its sessions) afterwards."""
    name = f"homesec_cluster_{uuid.uuid4().hex[:10]}"
    try:
        asyncio.run(_admin(f'CREATE DATABASE "{name}"'))
    except (OSError, asyncpg.PostgresError) as exc:
        pytest.fail(f"PostgreSQL at {PG_ADMIN_URL} is needed for these tests: {exc}")
    yield name
    asyncio.run(_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
