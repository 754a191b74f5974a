"""The panel in headless Chromium, served through an ingress-style reverse proxy.

A tiny aiohttp proxy plays Home Assistant's ingress: it forwards
`/api/hassio_ingress/<token>/*` to the engine and adds `X-Ingress-Path`. The engine sees
the proxy's loopback address as the peer, which the test config trusts (as the add-on
trusts the Supervisor's 172.30.32.2), so the panel works there without an API key.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import aiohttp
import numpy as np
from aiohttp import web
from playwright.async_api import Page, async_playwright, expect

from homesec_engine.records import ClipRecord, new_clip_id, utcnow
from tests.engine_harness import RunningEngine, running_engine
from tests.videotools import write_h264

from .conftest import API_KEY, Api, scratch_postgres_db

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
TOKEN = "Xq7_ingress-token"
PREFIX = f"/api/hassio_ingress/{TOKEN}"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
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


async def _seed(engine: RunningEngine, tmp_path: Path) -> ClipRecord:
    frames = [np.full((120, 160, 3), (i * 8) % 255, dtype=np.uint8) for i in range(20)]
    clip_id = new_clip_id()
    video = write_h264(tmp_path / f"{clip_id}.mp4", frames, fps=10)
    uri = await engine.runtime.storage.put(video, f"{clip_id}.mp4")
    clip = ClipRecord(id=clip_id, camera="front_door", status="done", created_at=utcnow(),
                      activity_type="delivery", risk_level="medium",
                      summary="A courier leaves a parcel", detected_objects=["person", "package"],
                      storage_uri=uri, alerted=True)
    await engine.runtime.repository.upsert_clip(clip)
    return clip


async def _check_panel(page: Page, engine: RunningEngine, http: aiohttp.ClientSession,
                       panel_url: str) -> None:
    requests: list[str] = []
    page.on("request", lambda req: requests.append(req.url))
    await page.goto(panel_url)
    # Then the cameras with their health, and the clip with its analysis, are shown
    cameras = page.locator("#cameras tbody")
    await expect(cameras).to_contain_text("front_door")
    await expect(cameras).to_contain_text("garage")
    # ... a camera switched off reads "disabled", not "offline"
    await expect(cameras.locator("tr", has_text="garage").locator(".badge")).to_have_text(
        "disabled")
    await expect(cameras.locator("tr", has_text="front_door").locator(".badge")).to_have_text(
        "offline")
    await expect(page.locator("#health")).to_have_text("healthy")
    clips = page.locator("#clips tbody")
    await expect(clips).to_contain_text("A courier leaves a parcel")
    await expect(clips).to_contain_text("person, package")
    await expect(page.locator("#config-version")).to_have_text("1")
    # And the clip plays from the media route
    await page.locator("#clips button.play").first.click()
    await page.wait_for_function(
        "document.getElementById('video').readyState >= 1", timeout=15000)
    # When the alert policy is edited and saved
    await page.select_option("#policy-min-risk", "high")
    await page.locator("#policy-activities input[value=person]").check()
    await page.select_option("select[data-camera=garage][data-field=enabled]", "false")
    await page.click("#policy-save")
    # Then it is saved in the engine and applied
    await expect(page.locator("#policy-message")).to_have_text("Saved")
    await expect(page.locator("#config-version")).to_have_text("2")
    api = Api(http, engine)
    _, view, _ = await api.call("GET", "/alert-policy")
    assert view["alert_policy"]["min_risk_level"] == "high"
    assert view["alert_policy"]["activity_types"] == ["person"]
    assert view["alert_policy"]["cameras"]["garage"]["enabled"] is False
    assert engine.runtime.policy.min_risk_level == "high"
    # When someone else changes the config behind the panel's back
    status, _, _ = await api.call("PUT", "/alert-policy",
                                  json_body={"alert_policy": {"min_risk_level": "critical"}})
    assert status == 200
    # And the panel saves its (now stale) edit
    await page.select_option("#policy-min-risk", "medium")
    await page.click("#policy-save")
    # Then it says the config changed elsewhere and nothing is overwritten
    await expect(page.locator("#policy-message")).to_have_text("Changed elsewhere — reload")
    _, view, _ = await api.call("GET", "/alert-policy")
    assert view["alert_policy"]["min_risk_level"] == "critical"
    # And reloading shows the other change
    await page.click("#policy-reload")
    await expect(page.locator("#policy-min-risk")).to_have_value("critical")
    ARTIFACTS.mkdir(exist_ok=True)
    await page.screenshot(path=str(ARTIFACTS / "panel.png"), full_page=True)
    # And every request stayed under the ingress prefix (all URLs are relative)
    assert requests and all(PREFIX in url for url in requests), requests


async def test_panel_under_ingress(tmp_path: Path) -> None:
    async with scratch_postgres_db() as db_url, running_engine(
        tmp_path, api_key=API_KEY, database_url=db_url, trusted_proxies=["127.0.0.1"]
    ) as engine, ingress_proxy(engine.url) as panel_url, aiohttp.ClientSession() as http:
        await _seed(engine, tmp_path)
        async with async_playwright() as pw:
            browser = await pw.chromium.launch(executable_path="/usr/bin/chromium",
                                               args=CHROMIUM_ARGS)
            try:
                page = await browser.new_page(viewport={"width": 1280, "height": 900})
                await _check_panel(page, engine, http, panel_url)
            finally:
                await browser.close()


async def test_panel_asks_for_the_key_outside_ingress(tmp_path: Path) -> None:
    # Given an engine with a key and no trusted proxy
    async with running_engine(tmp_path, api_key=API_KEY,
                              database_url=None) as engine, async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path="/usr/bin/chromium",
                                           args=CHROMIUM_ARGS)
        try:
            page = await browser.new_page()
            # When the panel is opened directly
            await page.goto(engine.url + "/")
            # Then it asks for the key, and with it shows the cameras
            await expect(page.locator("#key-form")).to_be_visible()
            await page.fill("#key-input", API_KEY)
            await page.click("#key-form button[type=submit]")
            await expect(page.locator("#cameras tbody")).to_contain_text("front_door")
            stored = await page.evaluate("sessionStorage.getItem('homesec.apiKey')")
            assert stored == API_KEY
        finally:
            await browser.close()
