"""The panel's <base href> from X-Ingress-Path: a plain path prefix only."""

from __future__ import annotations

import re

import aiohttp
import pytest

from homesec_engine.api.panel import PANEL_DIR
from tests.engine_harness import RunningEngine


async def _index(http: aiohttp.ClientSession, engine: RunningEngine, prefix: str) -> str:
    async with http.get(f"{engine.url}/", headers={"X-Ingress-Path": prefix}) as resp:
        assert resp.status == 200
        return await resp.text()


async def test_the_ingress_prefix_becomes_the_base(
    http: aiohttp.ClientSession, engine: RunningEngine
) -> None:
    # Given the prefix Home Assistant's ingress sends; When the panel is loaded
    page = await _index(http, engine, "/api/hassio_ingress/AbC-123_x")
    # Then its links resolve under that prefix
    assert '<base href="/api/hassio_ingress/AbC-123_x/">' in page


@pytest.mark.parametrize("prefix", ["//evil.example/x", "/a//evil.example", "/a/../b"])
async def test_a_prefix_that_could_lead_elsewhere_is_ignored(
    http: aiohttp.ClientSession, engine: RunningEngine, prefix: str
) -> None:
    # Given a prefix that is not a plain path: a browser reads //host as another host
    # When the panel is loaded with it
    page = await _index(http, engine, prefix)
    # Then no <base> is written: the panel's scripts still come from the engine itself
    assert "<base" not in page


async def test_every_module_the_panel_imports_is_served(
    http: aiohttp.ClientSession, engine: RunningEngine
) -> None:
    # Given the panel's ES modules, which import each other by relative path
    modules = {"app.js"}
    for path in PANEL_DIR.glob("*.js"):
        modules |= set(re.findall(r'from "\./([a-z]+\.js)"', path.read_text("utf-8")))
    # When each is fetched as the browser would
    for name in sorted(modules):
        async with http.get(f"{engine.url}/{name}") as resp:
            # Then it is served as JavaScript (a missing one would leave the panel blank)
            assert resp.status == 200, name
            assert resp.content_type == "text/javascript", name
