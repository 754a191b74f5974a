"""What the panel's browser tests share: Chromium, an ingress-style proxy and real clips.

- `ingress_proxy` plays Home Assistant's ingress: it forwards `/api/hassio_ingress/<token>/*`
  to the engine and adds `X-Ingress-Path`. The engine sees the proxy's loopback address as the
  peer, which the test config trusts (as the add-on trusts the Supervisor's 172.30.32.2), so
  the panel works there without an API key.
- `chromium` launches Chromium headless through Playwright (the machine's or the one
  ./scripts/test unpacked into the cache: tests/tools.py).
- `record_clip` runs a real H.264 clip (tests/videotools.py) through the engine's own
  pipeline: stored video, real detection, the snapshot JPEG beside it.
- `shoot` writes a full-page screenshot under test-artifacts/ (gitignored).
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import datetime, timedelta
from pathlib import Path

import aiohttp
from aiohttp import web
from playwright.async_api import Browser, Page, async_playwright

from homesec_engine.records import ClipFile, ClipRecord
from tests import tools
from tests.engine_harness import RunningEngine
from tests.videotools import Segment, scripted_frames, write_h264

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
TOKEN = "Xq7_ingress-token"
PREFIX = f"/api/hassio_ingress/{TOKEN}"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "upgrade", "host",
              "content-length", "te", "trailer", "proxy-authorization"}


@asynccontextmanager
async def ingress_proxy(engine_url: str) -> AsyncIterator[str]:
    """Forward PREFIX/* to the engine with X-Ingress-Path, as HA's ingress does."""
    session = aiohttp.ClientSession(auto_decompress=False)

    async def forward(request: web.Request) -> web.StreamResponse:
        headers = {k: v for k, v in request.headers.items() if k.lower() not in HOP_BY_HOP}
        headers["X-Ingress-Path"] = PREFIX
        url = f"{engine_url}/{request.match_info['tail']}"
        async with session.request(request.method, url, params=request.query,
                                   headers=headers, data=await request.read(),
                                   allow_redirects=False) as upstream:
            body = await upstream.read()
            out = {k: v for k, v in upstream.headers.items() if k.lower() not in HOP_BY_HOP}
            return web.Response(status=upstream.status, body=body, headers=out)

    app = web.Application()
    app.router.add_route("*", PREFIX + "/{tail:.*}", forward)
    runner = web.AppRunner(app, access_log=None, handle_signals=False)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    try:
        yield f"http://127.0.0.1:{port}{PREFIX}/"
    finally:
        await runner.cleanup()
        await session.close()


@asynccontextmanager
async def chromium() -> AsyncIterator[Browser]:
    # Chromium's own config and cache (dconf, fonts) go to a throw-away home, not the user's.
    with tempfile.TemporaryDirectory(prefix="homesec-chromium-") as home:
        env = {**os.environ, "HOME": home, "XDG_CONFIG_HOME": f"{home}/.config",
               "XDG_CACHE_HOME": f"{home}/.cache"}
        async with async_playwright() as pw:
            browser = await pw.chromium.launch(executable_path=tools.chromium(),
                                               args=CHROMIUM_ARGS, env=env)
            try:
                yield browser
            finally:
                await browser.close()


async def open_page(browser: Browser, errors: list[str]) -> Page:
    """A 1280x900 page in UTC (the tests' days are UTC days); script errors land in `errors`."""
    context = await browser.new_context(viewport={"width": 1280, "height": 900},
                                        timezone_id="UTC")
    page = await context.new_page()
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    # An HTTP error answer is logged by Chromium too; those are the tests' own doing.
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error"
            and not msg.text.startswith("Failed to load resource") else None)
    return page


async def record_clip(engine: RunningEngine, tmp_path: Path, camera: str, name: str,
                      started: datetime) -> ClipRecord:
    """A real clip through the engine's pipeline: a subject crosses a textured scene."""
    frames = scripted_frames(320, 240, fps=10, duration_s=3, segments=[Segment(0.2, 2.8)])
    video = write_h264(tmp_path / f"{name}.mp4", frames, fps=10)
    pipeline = engine.runtime.pipeline
    assert pipeline is not None
    work = tmp_path / f"{name}-work.mp4"
    shutil.copy(video, work)
    out = await pipeline.process(ClipFile(camera, work, started, started + timedelta(seconds=3)))
    clip = await engine.runtime.repository.get_clip(out.clip_id)
    assert clip is not None and clip.storage_uri, out
    return clip


async def shoot(page: Page, name: str) -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    await page.screenshot(path=str(path), full_page=True)
    return path
