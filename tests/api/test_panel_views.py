"""The panel's views in headless Chromium, each with real data from a real engine.

Camera grid (live pictures, or the camera's health and a placeholder when there is none),
clips (thumbnails with boxes, filters, paging, the player brought into view), the day
timeline, and the zone editor; all under Home Assistant's ingress prefix. Every test writes a
screenshot under test-artifacts/ and checks what a person would look for on it.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from playwright.async_api import Page, Request, expect

from tests.engine_harness import DEFAULT_CAMERAS, RunningEngine, running_engine
from tests.videotools import RtspTestServer, Segment, scripted_frames, write_h264

from .panel_rig import PREFIX, chromium, ingress_proxy, open_page, record_clip, shoot

PAGE_SIZE = 12  # the panel's clips per page (clips.js)


def _midnight() -> datetime:
    now = datetime.now(UTC)
    return now.replace(hour=0, minute=0, second=0, microsecond=0)


async def _seed_day(engine: RunningEngine, tmp_path: Path) -> dict[str, list[str]]:
    """Real clips through the pipeline over today (UTC): 9 on front_door, 5 on garage."""
    start, span = _midnight(), max(60.0, (datetime.now(UTC) - _midnight()).total_seconds() - 60)
    made: dict[str, list[str]] = {"front_door": [], "garage": []}
    plan = [("front_door", i) for i in range(9)] + [("garage", i) for i in range(5)]
    for n, (camera, _) in enumerate(plan):
        when = start + timedelta(seconds=span * n / len(plan))
        clip = await record_clip(engine, tmp_path, camera, f"clip{n}", when)
        made[camera].append(clip.id)
    return made


async def _canvas_has_red(page: Page, selector: str) -> bool:
    """Whether the boxes' colour is on the canvas: a box a person can see."""
    return bool(await page.eval_on_selector(selector, """canvas => {
        const data = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data;
        for (let i = 0; i < data.length; i += 4) {
            const [r, g, b, a] = data.slice(i, i + 4);
            if (r > 200 && g < 100 && b < 80 && a > 200) return true;
        }
        return false;
    }"""))


# -- camera grid --------------------------------------------------------------------------


async def test_the_grid_shows_each_cameras_health_and_why_there_is_no_picture(
    tmp_path: Path,
) -> None:
    # Given cameras that show no picture: one not running, one switched off, one a folder
    cameras = [*DEFAULT_CAMERAS,
               {"name": "shed", "enabled": True, "source_backend": "local_folder",
                "source_config": {"path": str(tmp_path / "drop")}}]
    async with running_engine(tmp_path, cameras=cameras,
                              trusted_proxies=["127.0.0.1"]) as engine, \
            ingress_proxy(engine.url) as panel_url, chromium() as browser, \
            aiohttp.ClientSession() as http:
        errors: list[str] = []
        page = await open_page(browser, errors)
        asked: list[str] = []
        page.on("request", lambda r: asked.append(r.url) if "/snapshot" in r.url else None)
        # When the panel is opened through ingress
        await page.goto(panel_url)
        tile = page.locator("#cameras [data-camera=front_door]")
        # Then every camera has a tile with its name and health
        await expect(tile.locator("figcaption")).to_contain_text("front_door")
        await expect(tile.locator(".badge")).to_have_text("offline")
        garage = page.locator("#cameras [data-camera=garage]")
        await expect(garage.locator(".badge")).to_have_text("disabled")
        shed = page.locator("#cameras [data-camera=shed]")
        await expect(shed.locator(".badge")).to_have_text("offline")
        # And a placeholder gives the engine's reason instead of a broken image
        async with http.get(f"{engine.api}/cameras/front_door/snapshot") as resp:
            assert resp.status == 503
            reason = (await resp.json())["detail"]
        await expect(tile.locator(".placeholder")).to_be_visible()
        await expect(tile.locator(".placeholder")).to_have_text(reason)
        await expect(tile.locator("img")).to_be_hidden()
        await expect(tile).to_have_attribute("data-live", "no")
        await expect(garage.locator(".placeholder")).to_have_text("Camera switched off")
        # And the folder camera says it has no live picture, without asking for one
        await expect(shed.locator(".placeholder")).to_contain_text("No live picture")
        # And the picture was asked for at the tile's width, under the ingress prefix
        assert asked and all(u.startswith(f"{panel_url}api/v1/cameras/front_door/snapshot?width=")
                             for u in asked), asked
        await shoot(page, "panel-cameras-no-picture")
        assert errors == []


async def test_live_pictures_refresh_and_pause_while_the_tab_is_hidden(tmp_path: Path) -> None:
    # Given a camera streaming over RTSP from a loopback server
    frames = scripted_frames(320, 240, fps=10, duration_s=6, segments=[Segment(0.5, 5.5)])
    video = write_h264(tmp_path / "cam.mp4", frames, fps=10, gop=10)
    with RtspTestServer(video, loop=True) as server:
        cameras = [{"name": "porch", "enabled": True, "source_backend": "rtsp",
                    "source_config": {"url": server.url}}]
        async with running_engine(tmp_path, cameras=cameras, run_sources=True,
                                  trusted_proxies=["127.0.0.1"]) as engine, \
                ingress_proxy(engine.url) as panel_url, chromium() as browser:
            page = await open_page(browser, [])
            pictures: list[str] = []
            page.on("response", lambda r: pictures.append(r.url)
                    if "/snapshot" in r.url and r.status == 200 else None)
            # When the panel is open
            await page.goto(panel_url)
            tile = page.locator("#cameras [data-camera=porch]")
            # Then the camera's live picture is shown and replaced by newer ones
            await expect(tile).to_have_attribute("data-live", "yes", timeout=20000)
            await expect(tile.locator("img")).to_be_visible()
            await expect(tile.locator(".placeholder")).to_be_hidden()
            # (a real camera's picture carries no "synthetic scene" label)
            await expect(tile.locator(".synthetic")).to_be_hidden()
            assert await tile.locator("img").evaluate("i => i.naturalWidth") > 0
            first = await tile.locator("img").get_attribute("src")
            await page.wait_for_function(
                "src => document.querySelector('[data-camera=porch] img').src !== src",
                arg=first, timeout=10000)
            await expect(tile.locator(".badge")).to_have_text("online", timeout=15000)
            # And the zone editor draws on that picture too
            await expect(page.locator("#zone-picture")).to_be_visible(timeout=20000)
            await shoot(page, "panel-cameras-live")
            # When the tab is hidden (headless Chromium has no background tabs: the page is
            # told so the way a browser tells it, a visibilitychange event)
            await page.evaluate("""() => {
                Object.defineProperty(document, 'hidden', {configurable: true, get: () => true});
                Object.defineProperty(document, 'visibilityState',
                                      {configurable: true, get: () => 'hidden'});
                document.dispatchEvent(new Event('visibilitychange'));
            }""")
            await page.wait_for_timeout(300)  # a request already under way may still answer
            hidden_at = len(pictures)
            await page.wait_for_timeout(3000)
            # Then no picture is fetched while nobody can see it
            assert len(pictures) == hidden_at
            # When it is shown again, Then pictures come again
            async with page.expect_response(lambda r: "/snapshot" in r.url and r.status == 200,
                                            timeout=10000):
                await page.evaluate("""() => {
                    delete document.hidden; delete document.visibilityState;
                    document.dispatchEvent(new Event('visibilitychange'));
                }""")


# -- clips and timeline -------------------------------------------------------------------


async def test_clips_show_thumbnails_with_boxes_filter_and_page(tmp_path: Path) -> None:
    # Given a day of real clips: 9 on front_door and 5 on garage
    async with running_engine(tmp_path, trusted_proxies=["127.0.0.1"]) as engine, \
            ingress_proxy(engine.url) as panel_url, chromium() as browser:
        made = await _seed_day(engine, tmp_path)
        errors: list[str] = []
        page = await open_page(browser, errors)
        # When the clips are opened through ingress
        await page.goto(panel_url)
        rows = page.locator("#clips tbody tr")
        # Then the first page holds 12 clips, and the panel says there are 14
        await expect(rows).to_have_count(PAGE_SIZE)
        await expect(page.locator("#clips-total")).to_have_text("1–12 of 14 clips")
        await expect(page.locator("#page-label")).to_have_text("Page 1 of 2")
        # And each clip shows its snapshot with the detection box drawn over it
        first = rows.first
        await expect(first.locator(".thumb img")).to_be_visible()
        assert await first.locator(".thumb img").evaluate("i => i.naturalWidth") > 0
        await expect(first.locator(".thumb canvas")).to_have_attribute("data-boxes", "1")
        assert await _canvas_has_red(page, "#clips tbody tr:first-child .thumb canvas")
        await expect(first).to_contain_text("person")
        await shoot(page, "panel-clips")
        # When the next page is opened, Then it holds the 2 oldest clips
        await page.click("#page-next")
        await expect(rows).to_have_count(2)
        await expect(page.locator("#clips-total")).to_have_text("13–14 of 14 clips")
        await expect(page.locator("#page-next")).to_be_disabled()
        shown = {await r.get_attribute("data-clip") for r in await rows.all()}
        assert shown == set(made["front_door"][:2])
        # When one camera is chosen, Then only its clips are listed, from page 1
        await page.select_option("#filter-camera", "garage")
        await expect(rows).to_have_count(5)
        await expect(page.locator("#clips-total")).to_have_text("1–5 of 5 clips")
        for r in await rows.all():
            await expect(r.locator("td").nth(2)).to_have_text("garage")
        # When a class no clip has is chosen, Then the list says nothing matches
        await page.select_option("#filter-class", "vehicle")
        await expect(page.locator("#clips tbody")).to_contain_text("No clips match")
        # When the class is one the clips have, Then they are back
        await page.select_option("#filter-class", "person")
        await expect(rows).to_have_count(5)
        # When yesterday is chosen, Then there are none; "All clips" clears the filters
        yesterday = (_midnight() - timedelta(days=1)).strftime("%Y-%m-%d")
        await page.fill("#filter-date", yesterday)
        await page.locator("#filter-date").dispatch_event("change")
        await expect(page.locator("#clips-total")).to_have_text("0–0 of 0 clips")
        await page.click("#clip-filters button[type=reset]")
        await expect(page.locator("#clips-total")).to_have_text("1–12 of 14 clips")
        # And with no camera having zones there is no zone to choose
        await expect(page.locator("#filter-zone")).to_be_disabled()
        assert errors == []


async def test_the_zone_filter_lists_the_clips_that_alerted_in_that_zone(tmp_path: Path) -> None:
    # Given front_door with a zone over its whole picture, and clips on both cameras
    yard = {"name": "yard", "points": [[0, 0], [1, 0], [1, 1], [0, 1]]}
    cameras = [DEFAULT_CAMERAS[0] | {"zones": [yard]}, DEFAULT_CAMERAS[1]]
    async with running_engine(tmp_path, cameras=cameras,
                              trusted_proxies=["127.0.0.1"]) as engine, \
            ingress_proxy(engine.url) as panel_url, chromium() as browser:
        start = _midnight()
        in_yard = [(await record_clip(engine, tmp_path, "front_door", f"y{i}",
                                      start + timedelta(minutes=i))).id for i in range(2)]
        await record_clip(engine, tmp_path, "garage", "g0", start + timedelta(minutes=5))
        errors: list[str] = []
        page = await open_page(browser, errors)
        await page.goto(panel_url)
        rows = page.locator("#clips tbody tr")
        await expect(rows).to_have_count(3)
        # When the zone is chosen
        await page.select_option("#filter-zone", "yard")
        # Then only the clips that alerted in it are listed, with the right total
        await expect(rows).to_have_count(2)
        await expect(page.locator("#clips-total")).to_have_text("1–2 of 2 clips")
        assert {await r.get_attribute("data-clip") for r in await rows.all()} == set(in_yard)
        # And the zone is drawn over front_door's tile
        tile = page.locator("#cameras [data-camera=front_door]")
        await expect(tile.locator(".zone-label")).to_have_text("yard")
        await shoot(page, "panel-zone-filter")
        assert errors == []


async def test_the_timeline_shows_the_day_per_camera_and_plays_a_clip_in_view(
    tmp_path: Path,
) -> None:
    # Given a day of real clips on two cameras
    async with running_engine(tmp_path, trusted_proxies=["127.0.0.1"]) as engine, \
            ingress_proxy(engine.url) as panel_url, chromium() as browser:
        made = await _seed_day(engine, tmp_path)
        errors: list[str] = []
        page = await open_page(browser, errors)
        # When the panel is opened through ingress
        await page.goto(panel_url)
        # Then each camera has a track with a mark per clip of the day (not only one page)
        front = page.locator("#timeline [data-camera=front_door] .mark")
        garage = page.locator("#timeline [data-camera=garage] .mark")
        await expect(front).to_have_count(9)
        await expect(garage).to_have_count(5)
        await expect(page.locator("#timeline [data-camera=front_door] .track")).to_have_attribute(
            "aria-label", "front_door: 9 clips")
        # And the marks run left to right in the order of the day
        xs = [(await m.bounding_box() or {"x": 0})["x"] for m in await front.all()]
        assert xs == sorted(xs, reverse=True)  # the API lists newest first
        await page.locator("#timeline-section").scroll_into_view_if_needed()
        await shoot(page, "panel-timeline")
        # When the newest garage mark is clicked (by keyboard: it is a button)
        await garage.first.focus()
        await page.keyboard.press("Enter")
        # Then the player comes into view with that clip, and the video loads
        await expect(page.locator("#player")).to_be_in_viewport()
        await expect(page.locator("#player-title")).to_contain_text("garage")
        await page.wait_for_function(
            "document.getElementById('video').readyState >= 1", timeout=15000)
        src = await page.locator("#video").get_attribute("src")
        assert src == f"api/v1/clips/{made['garage'][-1]}/media"
        # When the person scrolls down to the list's end and plays the last clip there
        await page.locator("#page-next").scroll_into_view_if_needed()
        await page.mouse.wheel(0, 3000)
        await expect(page.locator("#player")).not_to_be_in_viewport()
        last = page.locator("#clips tbody tr").last
        await last.locator("button.play").click()
        # Then the player is brought back into view, and the list marks what plays
        await expect(page.locator("#player")).to_be_in_viewport()
        await expect(last).to_have_attribute("aria-current", "true")
        await expect(page.locator("#clips tbody tr[aria-current]")).to_have_count(1)
        await shoot(page, "panel-player")
        assert errors == []


# -- zone editor --------------------------------------------------------------------------


async def _draw_porch(page: Page) -> list[list[float]]:
    """Click four corners on the picture; the points the panel should compute from them."""
    stage = page.locator("#zone-stage")
    await expect(stage).to_be_visible()
    box = await stage.bounding_box()
    assert box is not None
    corners = [(0.1, 0.5), (0.6, 0.5), (0.6, 0.95), (0.1, 0.95), (0.3, 0.2)]
    for fx, fy in corners:
        await stage.click(position={"x": fx * box["width"], "y": fy * box["height"]})
    # The last corner was a slip: Backspace takes it back
    await stage.focus()
    await page.keyboard.press("Backspace")
    return [[round(fx, 3), round(fy, 3)] for fx, fy in corners[:4]]


def _close(points: list[list[float]], expected: list[list[float]]) -> bool:
    return len(points) == len(expected) and all(
        abs(a - b) <= 0.01 for p, q in zip(points, expected, strict=True)
        for a, b in zip(p, q, strict=True))


async def test_the_zone_editor_saves_zones_and_shows_them_over_the_live_picture(
    tmp_path: Path,
) -> None:
    # Given an engine whose cameras take zones
    async with running_engine(tmp_path, trusted_proxies=["127.0.0.1"]) as engine, \
            ingress_proxy(engine.url) as panel_url, chromium() as browser, \
            aiohttp.ClientSession() as http:
        errors: list[str] = []
        page = await open_page(browser, errors)
        await page.goto(panel_url)
        # When a zone is drawn, named, limited to people and saved
        expected = await _draw_porch(page)
        await page.fill("#zone-name", "porch")
        await page.locator("#zone-classes input[value=person]").check()
        await page.click("#zone-add")
        await page.click("#zones-save")
        # Then the engine keeps it
        await expect(page.locator("#zones-message")).to_contain_text("Saved")
        async with http.get(f"{engine.api}/cameras/front_door") as resp:
            camera = await resp.json()
        assert [z["name"] for z in camera["zones"]] == ["porch"]
        assert camera["zones"][0]["classes"] == ["person"]
        assert _close(camera["zones"][0]["points"], expected)
        await expect(page.locator("#config-version")).to_have_text("2")
        # And the camera's tile shows it over the picture
        tile = page.locator("#cameras [data-camera=front_door]")
        await expect(tile.locator(".zones polygon.zone")).to_have_count(1)
        await expect(tile.locator(".zone-label")).to_have_text("porch")
        await shoot(page, "panel-zones-saved")
        assert errors == []


async def test_points_typed_by_keyboard_are_checked(tmp_path: Path) -> None:
    # Given the zone editor
    async with running_engine(tmp_path, trusted_proxies=["127.0.0.1"]) as engine, \
            ingress_proxy(engine.url) as panel_url, chromium() as browser:
        page = await open_page(browser, [])
        await page.goto(panel_url)
        await expect(page.locator("#zone-camera")).to_have_value("front_door")
        # When corners are typed with one outside the frame
        await page.fill("#zone-points", "0.1,0.1 1.5,0.1 0.5,0.9")
        await page.locator("#zone-points").press("Tab")
        # Then the editor says what a corner must be, and draws nothing
        await expect(page.locator("#zones-message")).to_contain_text("between 0 and 1")
        await expect(page.locator("#zone-overlay polyline.draft")).to_have_count(0)
        # When they are typed right, Then they are drawn, and a zone needs a name to be added
        await page.fill("#zone-points", "0.1,0.1 0.9,0.1 0.5,0.9")
        await page.locator("#zone-points").press("Tab")
        await expect(page.locator("#zone-overlay polyline.draft")).to_have_count(1)
        await page.click("#zone-add")
        await expect(page.locator("#zones-message")).to_have_text("Give the zone a name")
        await expect(page.locator("#zone-name")).to_be_focused()
        await expect(page.locator("#zone-overlay polygon.zone")).to_have_count(0)
