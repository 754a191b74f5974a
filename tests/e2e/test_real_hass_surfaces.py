"""Home Assistant's newest surfaces as a user sees them in HA's own frontend (issue 23).

A real `hass` process (tests/e2e/real_hass.py) with HomeSec added through its config flow,
against the engine recording a looping RTSP camera of real footage (tests/e2e/real_hass_rig.py).
In headless Chromium, logged in as the owner:

- the camera's more-info dialog plays the live view over WebRTC, browser <-> engine;
- the notification blueprint, saved as HA's blueprint import saves it, drives an automation
  whose editor shows the blueprint's inputs;
- HomeSec in HA's sidebar (standalone install, option on) shows the engine's camera list
  through HA's login, with the engine's key in nothing the browser sent or got.

Each view is shot into test-artifacts/ (`shoot`); docs/integration/images/ holds the ones the
integration docs show, copied from there by hand after looking at them.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from playwright.async_api import Page, Request, expect

from tests.api.panel_rig import chromium, open_page, shoot
from tests.e2e.real_hass import REPO, RealHass, running_hass, until
from tests.e2e.real_hass_rig import (  # noqa: F401 - fixtures
    API_KEY, CAMERA, add_homesec, camera, engine, entity, frontend_installed, loopback, plaza)
from tests.engine_harness import RunningEngine
from tests.webrtc_client import real_network  # noqa: F401 - fixture

BLUEPRINT = REPO / "blueprints" / "automation" / "homesec" / "notify.yaml"
BLUEPRINT_PATH = "homesec/notify.yaml"
# The automation editor saves to automations.yaml, which configuration.yaml must include.
AUTOMATIONS = "automation: !include automations.yaml\nblueprint:\n"
AUTOMATION_ID = "homesec_notify_e2e"
NOTIFY = "notify.mobile_app_pixel_8"

# The blueprint automation's editor as a screen reader has it (the parts this test is about).
EDITOR = f"""
- heading "Blueprint" [level=1]
- listitem: Blueprint to use HomeSec phone notification
- text: Cameras
- paragraph: /HomeSec event entities/
- listitem:
  - text: Alert Plaza
- text: Notify action
- textbox:
  - text: {NOTIFY}
- text: Classes
- toolbar:
  - button "person"
- text: Zones
- text: Tier
- radiogroup:
  - radio "alert" [checked]
- text: Cooldown
- spinbutton: "120"
- text: /Silence button/
- spinbutton: "30"
"""

# What the frontend's camera view plays: HA renders an HLS and a WebRTC player and shows the
# WebRTC one once it has video. Searched through the frontend's shadow roots.
PLAYER_JS = """() => {
  const find = (root, sel) => {
    const hit = root.querySelector(sel);
    if (hit) return hit;
    for (const el of root.querySelectorAll('*')) {
      const inner = el.shadowRoot && find(el.shadowRoot, sel);
      if (inner) return inner;
    }
    return null;
  };
  const player = find(document, 'ha-web-rtc-player');
  if (!player) return null;
  const video = player.shadowRoot && player.shadowRoot.querySelector('video');
  const stream = video && video.srcObject;
  const track = stream instanceof MediaStream ? stream.getVideoTracks()[0] : undefined;
  return {shown: !player.classList.contains('hidden') && player.offsetWidth > 0,
          track: track ? track.readyState : null,
          width: video ? video.videoWidth : 0, time: video ? video.currentTime : 0,
          paused: video ? video.paused : true};
}"""


async def _player(page: Page) -> dict[str, Any] | None:
    found = await page.evaluate(PLAYER_JS)
    return dict(found) if found else None


async def _live_view_over_webrtc(hass: RealHass, page: Page) -> None:
    live = await entity(hass, "camera", "Live view", CAMERA)
    # When the owner opens the camera's more-info dialog (the link HA's frontend shares)
    await page.goto(f"{hass.url}/?more-info-entity-id={live}")
    seen: list[dict[str, Any] | None] = [None]

    async def playing() -> bool:
        seen[0] = await _player(page)
        return bool(seen[0] and seen[0]["shown"] and seen[0]["track"] == "live"
                    and seen[0]["width"] > 0 and not seen[0]["paused"])

    # Then the WebRTC player is the one shown, playing a live WebRTC track with a picture
    await until(f"the more-info dialog plays over WebRTC: {seen}", playing, 45, hass)
    start = float(seen[0]["time"]) if seen[0] else 0.0

    async def advancing() -> bool:
        seen[0] = await _player(page)
        return bool(seen[0] and seen[0]["time"] >= start + 2.0)

    # And the video keeps playing (its clock advances with the stream)
    await until(f"the WebRTC video advancing past {start:.1f} s: {seen}", advancing, 20, hass)
    await shoot(page, "ha-webrtc-live")


async def _blueprint_in_the_editor(hass: RealHass, page: Page) -> None:
    alert = await entity(hass, "event", "Alert", CAMERA)
    # Given the blueprint saved as HA's "Import blueprint" saves what it fetched
    await hass.ws({"type": "blueprint/save", "domain": "automation", "path": BLUEPRINT_PATH,
                   "yaml": BLUEPRINT.read_text(encoding="utf-8"),
                   "source_url": "https://github.com/homesec/homesec/blob/main/"
                                 "blueprints/automation/homesec/notify.yaml"})
    listed = await hass.ws({"type": "blueprint/list", "domain": "automation"})
    assert "error" not in listed[BLUEPRINT_PATH], listed[BLUEPRINT_PATH]
    # And an automation made from it for the camera, as the editor saves one
    await hass.rest("POST", f"/api/config/automation/config/{AUTOMATION_ID}", {
        "alias": "Plaza on my phone", "description": "",
        "use_blueprint": {"path": BLUEPRINT_PATH,
                          "input": {"cameras": [alert], "notify_action": NOTIFY,
                                    "classes": ["person"], "cooldown": 120}}})
    automation = await entity(hass, "automation", "Plaza on my phone")
    assert (await hass.state(automation))["state"] == "on"
    # When the owner opens it in the automation editor
    await page.goto(f"{hass.url}/config/automation/edit/{AUTOMATION_ID}")
    # Then the editor shows the blueprint in use, each of its inputs with its description,
    # the values chosen for this automation and the blueprint's defaults for the others
    await expect(page.get_by_role("heading", name="Blueprint")).to_be_visible(timeout=30000)
    await expect(page.locator("body")).to_match_aria_snapshot(EDITOR)
    await shoot(page, "ha-blueprint")


async def _sidebar_panel(hass: RealHass, page: Page, engine: RunningEngine) -> None:
    sent: list[str] = []

    def record(request: Request) -> None:
        sent.append(f"{request.url} {request.headers}")

    page.on("request", record)
    # When the owner clicks HomeSec in HA's sidebar
    await page.goto(f"{hass.url}/config/dashboard")
    await page.locator("ha-sidebar").get_by_text("HomeSec", exact=True).click()
    await expect(page).to_have_url(f"{hass.url}/homesec")
    # Then the engine's panel lists the camera, with its live picture, loaded through HA
    frame = page.frame_locator("iframe[title=HomeSec]")
    tile = frame.locator(f"#cameras [data-camera={CAMERA}]")
    await expect(tile.locator("figcaption")).to_contain_text(CAMERA, timeout=30000)
    await expect(tile).to_have_attribute("data-live", "yes", timeout=30000)
    await expect(tile.locator(".badge")).to_have_text("online", timeout=30000)
    panel = next(f for f in page.frames if "/api/homesec/panel/" in f.url)
    assert engine.url not in panel.url, panel.url
    # And the engine's key is in nothing the browser sent or was given
    assert sent and not [s for s in sent if API_KEY in s]
    for shown in page.frames:
        assert API_KEY not in await shown.content(), shown.url
    await shoot(page, "ha-sidebar-panel")


async def test_a_user_sees_webrtc_live_view_the_blueprint_and_the_sidebar_panel_in_ha(
    tmp_path: Path, engine: RunningEngine, real_network: None,  # noqa: F811 - fixture
) -> None:
    # Given a real Home Assistant (with automations and blueprints) and HomeSec added through
    # its config flow as a standalone install (sidebar panel on), the engine recording the
    # plaza's camera over RTSP
    async with running_hass(tmp_path, AUTOMATIONS, {"automations.yaml": "[]\n"}) as hass:
        await add_homesec(hass, engine, sidebar_panel=True)
        async with chromium() as browser:
            page = await open_page(browser, [])
            await page.context.add_init_script(hass.browser_tokens())
            await _live_view_over_webrtc(hass, page)
            await _blueprint_in_the_editor(hass, page)
            await _sidebar_panel(hass, page, engine)
