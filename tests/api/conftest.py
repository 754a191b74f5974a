"""Fixtures for the API tests: a real engine on loopback over SQLite or PostgreSQL.

PostgreSQL tests get a database of their own on the development server
(tests/services.py), created for the
test and dropped afterwards, so runs never see each other's clips.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from datetime import datetime
from pathlib import Path
from typing import Any

import aiohttp
import asyncpg
import pytest

from homesec_engine.records import ClipRecord, ClipStatus, new_clip_id, utcnow
from homesec_engine.schema import validate
from tests.engine_harness import RunningEngine, running_engine
from tests.services import PG_URL

API_KEY = "test-key-7f3a9c"  # a throw-away key: tests check it never shows up anywhere


@pytest.fixture(autouse=True)
def _tcp_sockets(request: pytest.FixtureRequest) -> None:
    """pytest-homeassistant-custom-component blocks sockets; these tests use loopback TCP."""
    try:
        request.getfixturevalue("socket_enabled")
    except pytest.FixtureLookupError:
        pass


@asynccontextmanager
async def scratch_postgres_db() -> AsyncIterator[str]:
    """A new, empty database on the shared server (dropped on exit); yields its URL."""
    name = f"homesec_api_{uuid.uuid4().hex[:12]}"
    try:
        admin = await asyncpg.connect(PG_URL, timeout=5)
    except (OSError, asyncpg.PostgresError) as exc:
        pytest.fail(f"PostgreSQL at {PG_URL} is needed for these tests: {exc}")
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
        yield PG_URL.rsplit("/", 1)[0] + f"/{name}"
    finally:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()


@pytest.fixture(params=["sqlite", "postgresql"])
async def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'api.db'}"
        return
    async with scratch_postgres_db() as url:
        yield url


@pytest.fixture
async def engine(tmp_path: Path, database_url: str) -> AsyncIterator[RunningEngine]:
    """An engine with the default two cameras and an API key, on either database."""
    async with running_engine(tmp_path, api_key=API_KEY, database_url=database_url) as eng:
        yield eng


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


class Api:
    """A small client for tests: the engine's API with (or without) its key."""

    def __init__(self, session: aiohttp.ClientSession, engine: RunningEngine,
                 authorised: bool = True) -> None:
        self.session, self.engine = session, engine
        self.headers = engine.headers if authorised else {}

    async def call(self, method: str, path: str, *, json_body: Any = None,
                   headers: dict[str, str] | None = None, data: Any = None,
                   params: Any = None) -> tuple[int, Any, aiohttp.ClientResponse]:
        kwargs: dict[str, Any] = {"headers": {**self.headers, **(headers or {})}}
        if json_body is not None:
            kwargs["json"] = json_body
        if data is not None:
            kwargs["data"] = data
        if params is not None:
            kwargs["params"] = params
        async with self.session.request(method, f"{self.engine.api}{path}", **kwargs) as resp:
            raw = await resp.read()
            body: Any = raw
            if resp.content_type == "application/json":
                body = json.loads(raw)
            return resp.status, body, resp


@pytest.fixture
def api(http: aiohttp.ClientSession, engine: RunningEngine) -> Api:
    return Api(http, engine)


def assert_valid(model: str, body: Any) -> dict[str, Any]:
    """The response body matches its schema model (raises with the field paths if not)."""
    return validate(model, body)


def assert_error(status: int, body: Any, expected_status: int, code: str) -> dict[str, Any]:
    assert status == expected_status, body
    assert_valid("Error", body)
    assert body["error_code"] == code
    assert body["detail"]
    return body


ClipFactory = Callable[..., Awaitable[ClipRecord]]


@pytest.fixture
def make_clip(engine: RunningEngine, tmp_path: Path) -> ClipFactory:
    """Store a clip the way the pipeline does: a file in storage plus its state record."""

    async def factory(camera: str = "front_door", *, created_at: datetime | None = None,
                      video: bytes = b"\x00\x00\x00\x18ftypmp42" + bytes(range(256)) * 8,
                      snapshot: bytes | None = b"\xff\xd8\xff\xe0JFIF-test\xff\xd9",
                      status: str = ClipStatus.DONE, **fields: Any) -> ClipRecord:
        clip_id = new_clip_id()
        source = tmp_path / f"{clip_id}.mp4"
        source.write_bytes(video)
        uri = await engine.runtime.storage.put(source, f"{camera}/{clip_id}.mp4")
        if snapshot is not None:
            jpeg = tmp_path / f"{clip_id}.jpg"
            jpeg.write_bytes(snapshot)
            await engine.runtime.storage.put(jpeg, f"{camera}/{clip_id}.jpg")
        clip = ClipRecord(id=clip_id, camera=camera, status=status,
                          created_at=created_at or utcnow(), storage_uri=uri, **fields)
        await engine.runtime.repository.upsert_clip(clip)
        return clip

    return factory
