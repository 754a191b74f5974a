"""The ROUTES table, the handlers and the served routes cannot drift apart."""

from __future__ import annotations

from pathlib import Path

import pytest

from homesec_engine.api import app as app_module
from homesec_engine.api import create_app
from homesec_engine.schema import API_BASE, ROUTES
from tests.engine_harness import RunningEngine


def test_every_route_has_a_handler_and_every_handler_a_route() -> None:
    # Given the schema's route table and the API's handlers
    operations = {route["operation_id"] for route in ROUTES}
    # Then they name exactly the same operations
    assert operations == set(app_module.HANDLERS)


async def test_the_app_serves_exactly_the_table(engine: RunningEngine) -> None:
    # Given a running engine
    served = {
        (route.method, route.resource.canonical)
        for route in engine.app.router.routes()
        if route.resource is not None and route.resource.canonical.startswith(API_BASE)
    }
    # Then every (method, path) of the table is served, and nothing else under /api/v1
    assert served == {(r["method"], API_BASE + r["path"]) for r in ROUTES}


async def test_building_the_app_fails_when_a_handler_is_missing(
    engine: RunningEngine, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    # Given a handler table that lost an operation
    handlers = dict(app_module.HANDLERS)
    del handlers["get_stats"]
    monkeypatch.setattr(app_module, "HANDLERS", handlers)
    # When the app is built, Then it refuses, naming the operation
    with pytest.raises(RuntimeError, match="get_stats"):
        create_app(engine.runtime)
