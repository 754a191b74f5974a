"""Real servers on loopback for tests and benches that are not under the HA test plugin's rules.

- `loopback_sockets`: an autouse-able fixture that lifts the HA plugin's socket block (these
  tests talk to PostgreSQL and to servers they start);
- `serve_loopback(app)`: runs an aiohttp application on 127.0.0.1 on a free port;
- `closed_port()`: a loopback port nothing listens on (for a server the test starts later).
"""

from __future__ import annotations

import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import pytest
from aiohttp import web


@pytest.fixture(autouse=True)
def loopback_sockets(request: pytest.FixtureRequest) -> None:
    """The HA test plugin blocks sockets; these tests talk to PostgreSQL and local servers."""
    try:
        request.getfixturevalue("socket_enabled")
    except pytest.FixtureLookupError:
        pass  # pytest-socket is not loaded: sockets are allowed anyway


def closed_port() -> int:
    """A loopback port nothing listens on (bound, then released)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@asynccontextmanager
async def serve_loopback(app: web.Application) -> AsyncIterator[str]:
    """`app` served on 127.0.0.1 until the block ends; yields its base URL."""
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        await runner.cleanup()
