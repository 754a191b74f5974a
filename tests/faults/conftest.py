"""Fault tests: the engine under a hostile environment, on loopback, each bounded in time."""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def _tcp_sockets(request: pytest.FixtureRequest) -> None:
    """pytest-homeassistant-custom-component blocks sockets; these tests use loopback TCP."""
    try:
        request.getfixturevalue("socket_enabled")
    except pytest.FixtureLookupError:
        pass
