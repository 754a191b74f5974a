"""Home Assistant's newest surfaces as a user sees them in HA's own frontend (issue 23).

A real `hass` process (tests/e2e/real_hass.py) with HomeSec added through its config flow,
against the engine recording a looping RTSP camera of real footage (tests/e2e/real_hass_rig.py).
In headless Chromium, logged in as the owner:

- the camera's more-info dialog plays the live view over WebRTC, browser <-> engine;
- the notification blueprint, saved as HA's blueprint import saves it, drives an automation
  whose editor shows the blueprint's inputs;
- HomeSec in HA's sidebar (standalone install, option on) shows the engine's camera list
  through HA's login, with the engine's key in nothing the browser sent or got;
- Assist, with HA's `ollama` integration as its agent, answers "what happened at the plaza?"
  through HomeSec's tool, and `ai_task.generate_data` gets a HomeSec snapshot attached. No
  model runs here: tests/e2e/ollama_server.py plays a cloud LLM behind Ollama's real protocol,
  asking for the tool and answering from its result only.

Each view is shot into test-artifacts/ (`shoot`); docs/integration/images/ holds the ones the
integration docs show, copied from there by hand after looking at them.
"""

from __future__ import annotations

import base64
import io
import json
import re
from pathlib import Path
from typing import Any

import aiohttp
from PIL import Image
from playwright.async_api import Page, Request, expect

from tests.api.panel_rig import chromium, open_page, shoot
from tests.e2e.real_hass import REPO, RealHass, running_hass, until
from tests.e2e.real_hass_rig import (  # noqa: F401 - fixtures
    API_KEY, CAMERA, add_homesec, camera, engine, entity, frontend_installed, loopback, plaza)
from tests.e2e.ollama_server import MODEL, RECENT_EVENTS, OllamaServer, ollama_server
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


# What Assist and ai_task need beyond the base configuration (assist_pipeline brings stt, tts
# and wake_word; conversation brings llm, which collects HomeSec's tools).
AI_CONFIG = "conversation:\nassist_pipeline:\nai_task:\n"
QUESTION = "what happened at the plaza?"


async def _add_ollama(hass: RealHass, ollama: OllamaServer) -> tuple[str, str]:
    """Ollama's config flow against the server, then its conversation agent (with the Assist
    API, which carries HomeSec's tools) and its AI task: the two entity ids."""
    form = await hass.rest("POST", "/api/config/config_entries/flow", {"handler": "ollama"})
    done = await hass.rest("POST", f"/api/config/config_entries/flow/{form['flow_id']}",
                           {"url": ollama.url})
    assert done["type"] == "create_entry", done
    entry_id = done["result"]["entry_id"]

    async def loaded() -> bool:
        entries = await hass.rest("GET", "/api/config/config_entries/entry?domain=ollama")
        return bool(entries[0]["state"] == "loaded")

    for kind, name, extra in (("conversation", "Plaza assistant", {"llm_hass_api": ["assist"]}),
                              ("ai_task_data", "Plaza AI task", {})):
        # (a new agent reloads the entry; the next is added once it is loaded again)
        await until("Ollama's entry loaded", loaded, 30, hass)
        form = await hass.rest("POST", "/api/config/config_entries/subentries/flow",
                               {"handler": [entry_id, kind]})
        assert form["type"] == "form", form
        made = await hass.rest(
            "POST", f"/api/config/config_entries/subentries/flow/{form['flow_id']}",
            {"name": name, "model": MODEL, **extra})
        assert made["type"] == "create_entry", made
    return (await entity(hass, "conversation", "Plaza assistant"),
            await entity(hass, "ai_task", "Plaza AI task"))


async def _assist_with(hass: RealHass, agent: str) -> None:
    """An Assist pipeline (text only) with `agent`, made the preferred one."""
    pipeline = await hass.ws({
        "type": "assist_pipeline/pipeline/create", "name": "HomeSec", "language": "en",
        "conversation_engine": agent, "conversation_language": "en", "stt_engine": None,
        "stt_language": None, "tts_engine": None, "tts_language": None, "tts_voice": None,
        "wake_word_entity": None, "wake_word_id": None})
    await hass.ws({"type": "assist_pipeline/pipeline/set_preferred",
                   "pipeline_id": pipeline["id"]})


async def _assist_answers(hass: RealHass, page: Page, ollama: OllamaServer,
                          engine: RunningEngine) -> None:
    # When the owner opens Assist from the dashboard and asks about the plaza
    await page.goto(f"{hass.url}/lovelace/0")
    await page.get_by_role("button", name=re.compile(r"^Assist\b")).click()
    field = page.get_by_role("textbox", name=re.compile("Enter a request"))
    await field.fill(QUESTION)
    await field.press("Enter")

    # Then the model was asked with HomeSec's tool offered, asked for it, and got its result
    async def answered() -> bool:
        return any(m["role"] == "tool" for r in ollama.requests for m in r["messages"])

    await until("the model got HomeSec's tool result", answered, 30, hass)
    first = ollama.requests[0]
    assert RECENT_EVENTS in {t["function"]["name"] for t in first["tools"]}
    assert first["messages"][-1]["content"] == QUESTION
    result = json.loads(next(m for r in ollama.requests for m in r["messages"]
                             if m["role"] == "tool")["content"])
    newest = next(e for e in result["data"]["events"] if e.get("summary"))
    # And that result is the engine's own record of its newest judged clip at the plaza
    async with aiohttp.ClientSession() as http:
        async with http.get(f"{engine.api}/clips/{newest['clip_id']}",
                            headers=engine.headers) as resp:
            clip = await resp.json()
    assert (clip["camera"], clip["summary"]) == (CAMERA, newest["summary"])
    # And Assist shows the answer made from it: the event's time and summary
    answer = page.locator("ha-voice-command-dialog p").filter(
        has_text=f"The latest judged one at {newest['time']}")
    await expect(answer).to_contain_text(newest["summary"], timeout=30000)
    await shoot(page, "ha-assist")
    # And its details name the tool Assist called
    await page.locator("ha-voice-command-dialog").get_by_text("Show details").click()
    await expect(page.locator("ha-voice-command-dialog").get_by_text(RECENT_EVENTS).first
                 ).to_be_visible()


async def _ai_task_with_a_snapshot(hass: RealHass, page: Page, ollama: OllamaServer,
                                   engine: RunningEngine, task_entity: str) -> None:
    async with aiohttp.ClientSession() as http:
        async with http.get(f"{engine.api}/clips?camera={CAMERA}&page_size=20",
                            headers=engine.headers) as resp:
            clips = (await resp.json())["clips"]
        clip = next(c for c in clips if c["alerted"] and c["status"] == "done")
        async with http.get(f"{engine.api}/clips/{clip['id']}/snapshot",
                            headers=engine.headers) as resp:
            assert resp.status == 200
            jpeg = await resp.read()
    with Image.open(io.BytesIO(jpeg)) as snapshot:
        size = f"{snapshot.width}x{snapshot.height}"
    action = (
        "action: ai_task.generate_data\n"
        "data:\n"
        "  task_name: plaza snapshot\n"
        "  instructions: Who is in this picture?\n"
        f"  entity_id: {task_entity}\n"
        "  attachments:\n"
        f"    - media_content_id: media-source://homesec/snapshot/{clip['id']}\n"
        "      media_content_type: image/jpeg\n")
    # When the owner runs ai_task.generate_data with the clip's snapshot attached, in
    # Developer tools -> Actions (YAML mode)
    await page.goto(f"{hass.url}/developer-tools/action")
    await page.get_by_role("button", name=re.compile("YAML mode", re.I)).click()
    editor = page.locator("ha-code-editor .cm-content").first
    await editor.click()
    await page.keyboard.press("Control+a")
    await page.keyboard.insert_text(action)
    await page.get_by_role("button", name="Perform action").click()
    # Then the model got the snapshot's bytes, and the response shows its answer about them
    answer = f"I received 1 attachment(s): a {size} JPEG picture."
    await expect(page.get_by_text(answer)).to_be_visible(timeout=30000)
    sent = [base64.b64decode(i) for r in ollama.requests for m in r["messages"]
            for i in m.get("images") or []]
    assert sent == [jpeg], "the model did not get the engine's snapshot as it is"
    await shoot(page, "ha-ai-task")


async def test_assist_and_ai_task_answer_from_homesec_with_has_ollama_integration(
    tmp_path: Path, engine: RunningEngine,
) -> None:
    # Given a real Home Assistant with Assist and AI tasks, HomeSec added through its config
    # flow, the engine recording the plaza until it alerted, and HA's Ollama integration set
    # up through its config flow against a server speaking Ollama's protocol
    async with ollama_server() as ollama, running_hass(tmp_path, AI_CONFIG) as hass:
        await add_homesec(hass, engine)
        snapshot = await entity(hass, "image", "Last alert snapshot", CAMERA)

        async def alerted() -> bool:
            return (await hass.state(snapshot))["state"] not in ("unknown", "unavailable")

        await until("a last alert in HA", alerted, 120, hass)
        agent, task_entity = await _add_ollama(hass, ollama)
        await _assist_with(hass, agent)
        async with chromium() as browser:
            page = await open_page(browser, [])
            await page.context.add_init_script(hass.browser_tokens())
            await _assist_answers(hass, page, ollama, engine)
            await _ai_task_with_a_snapshot(hass, page, ollama, engine, task_entity)
