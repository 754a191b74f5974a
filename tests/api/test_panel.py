"""The panel in headless Chromium: health, clips, playing, the alert policy, the API key.

Served from a real engine, through an ingress-style reverse proxy (tests/api/panel_rig.py).
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import aiohttp
import numpy as np
from playwright.async_api import Page, expect

from homesec_engine.records import ClipRecord, new_clip_id, utcnow
from tests.engine_harness import RunningEngine, running_engine
from tests.videotools import write_h264

from .conftest import API_KEY, Api, scratch_postgres_db
from .panel_rig import PREFIX, chromium, ingress_proxy, open_page, record_clip, shoot

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
    # (and earlier the same day a fox crossed: a detection, recorded, not notified; the
    # panel lists today's clips, so the fox stays on today's UTC day even just after midnight)
    now = utcnow()
    since_midnight = now - now.replace(hour=0, minute=0, second=0, microsecond=0)
    await engine.runtime.repository.upsert_clip(ClipRecord(
        id=new_clip_id(), camera="front_door", status="done",
        created_at=now - min(timedelta(hours=1), since_midnight / 2), activity_type="animal", risk_level="low",
        summary="A fox crosses", detected_objects=["animal"], alerted=False,
        objects=[{"class": "animal", "count": 1, "confidence": 0.8, "boxes": []}]))
    await page.goto(panel_url)
    # Then the cameras with their health, and the clip with its analysis, are shown
    cameras = page.locator("#cameras")
    await expect(cameras).to_contain_text("front_door")
    await expect(cameras).to_contain_text("garage")
    # ... a camera switched off reads "disabled", not "offline"
    await expect(cameras.locator("[data-camera=garage] .badge")).to_have_text("disabled")
    await expect(cameras.locator("[data-camera=front_door] .badge")).to_have_text("offline")
    # ... and a demo camera's drawn scene is labelled as such
    await expect(cameras.locator("[data-camera=front_door] .synthetic")).to_have_text(
        "synthetic scene")
    await expect(page.locator("#health")).to_have_text("healthy")
    clips = page.locator("#clips tbody")
    await expect(clips).to_contain_text("A courier leaves a parcel")
    await expect(clips).to_contain_text("person, package")
    # ... each with its tier: the courier an alert, the fox a detection
    await expect(clips.locator("tr", has_text="A courier").locator(".tier")).to_have_text(
        "alert")
    await expect(clips.locator("tr", has_text="A fox").locator(".tier")).to_have_text(
        "detection")
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
    await shoot(page, "panel")
    # And every request stayed under the ingress prefix (all URLs are relative)
    assert requests and all(PREFIX in url for url in requests), requests


async def test_panel_under_ingress(tmp_path: Path) -> None:
    async with scratch_postgres_db() as db_url, running_engine(
        tmp_path, api_key=API_KEY, database_url=db_url, trusted_proxies=["127.0.0.1"]
    ) as engine, ingress_proxy(engine.url) as panel_url, aiohttp.ClientSession() as http:
        await _seed(engine, tmp_path)
        errors: list[str] = []
        async with chromium() as browser:
            page = await open_page(browser, errors)
            await _check_panel(page, engine, http, panel_url)
        assert errors == []


async def test_panel_asks_for_the_key_outside_ingress(tmp_path: Path) -> None:
    # Given an engine with a key and no trusted proxy
    async with running_engine(tmp_path, api_key=API_KEY,
                              database_url=None) as engine, chromium() as browser:
        await record_clip(engine, tmp_path, "front_door", "keyed", utcnow())
        page = await open_page(browser, [])
        # When the panel is opened directly
        await page.goto(engine.url + "/")
        # Then it asks for the key, and with it shows the cameras
        await expect(page.locator("#key-form")).to_be_visible()
        await page.fill("#key-input", API_KEY)
        await page.click("#key-form button[type=submit]")
        await expect(page.locator("#cameras")).to_contain_text("front_door")
        stored = await page.evaluate("sessionStorage.getItem('homesec.apiKey')")
        assert stored == API_KEY
        # And the pictures an <img> could not fetch without the key are shown: the thumbnail
        thumb = page.locator("#clips tbody tr").first.locator(".thumb img")
        await expect(thumb).to_be_visible()
        assert await thumb.evaluate("i => i.naturalWidth") > 0


async def test_saving_the_policy_form_keeps_the_tier_rules_it_does_not_show(
    tmp_path: Path
) -> None:
    # Given a policy with tier rules the panel's form does not show: animals alert too, and
    # on front_door's driveway only vehicles do
    driveway = {"name": "driveway", "points": [[0, 0.5], [1, 0.5], [1, 1], [0, 1]]}
    tiers = {"alert_classes": ["person", "vehicle", "animal"],
             "cameras": {"front_door": {"zones": {"driveway": {"alert_classes": ["vehicle"]}}}}}
    async with running_engine(tmp_path, api_key=API_KEY) as engine, \
            aiohttp.ClientSession() as http, chromium() as browser:
        api = Api(http, engine)
        status, body, _ = await api.call("PUT", "/cameras/front_door",
                                         json_body={"zones": [driveway]})
        assert status == 200, body
        status, body, _ = await api.call("PUT", "/alert-policy", json_body={"alert_policy": tiers})
        assert status == 200, body
        page = await open_page(browser, [])
        await page.goto(engine.url + "/")
        await page.fill("#key-input", API_KEY)
        await page.click("#key-form button[type=submit]")
        # When the owner raises the lowest risk in the panel and saves
        await page.select_option("#policy-min-risk", "high")
        await page.click("#policy-save")
        await expect(page.locator("#policy-message")).to_have_text("Saved")
        # Then the risk changed, and the tier rules are still there as they were
        _, view, _ = await api.call("GET", "/alert-policy")
        policy = view["alert_policy"]
        assert policy["min_risk_level"] == "high"
        assert policy["alert_classes"] == tiers["alert_classes"]
        assert policy["cameras"]["front_door"]["zones"] == {
            "driveway": {"alert_classes": ["vehicle"]}}
        assert engine.runtime.policy.effective("front_door")["zones"] == {
            "driveway": ["vehicle"]}
