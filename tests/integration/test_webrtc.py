"""WebRTC live view through Home Assistant: the camera's offer answered by the real engine.

HA core with the integration loaded against a real engine recording a real RTSP camera
(tests/integration/test_camera.py's rig). A real WebRTC viewer (aiortc) talks to HA's camera
WebSocket API the way HA's frontend does: `camera/webrtc/offer` without ICE candidates, then
its candidates trickled with `camera/webrtc/candidate`; the answer comes from the engine and the
video flows from the engine to the viewer.
"""

from __future__ import annotations

from typing import Any

from pytest_homeassistant_custom_component.common import MockConfigEntry
from pytest_homeassistant_custom_component.typing import WebSocketGenerator

from homeassistant.core import HomeAssistant
from tests.webrtc_client import real_network, webrtc_viewer  # noqa: F401 - fixture

from .test_camera import PORCH, YARD, engine, ha_base, loaded_entry, rtsp_camera  # noqa: F401

OFFER_TIMEOUT_S = 20


def split_candidates(sdp: str) -> tuple[str, list[str]]:
    """The offer without its ICE candidates (as a browser sends it) and the candidates."""
    lines = sdp.splitlines()
    candidates = [line[2:] for line in lines if line.startswith("a=candidate:")]
    kept = [line for line in lines
            if not line.startswith(("a=candidate:", "a=end-of-candidates"))]
    return "\r\n".join(kept) + "\r\n", candidates


async def test_ha_frontend_gets_webrtc_with_hls_kept(
        hass: HomeAssistant, ha_base: str, loaded_entry: MockConfigEntry,
        hass_ws_client: WebSocketGenerator) -> None:
    client = await hass_ws_client(hass)
    # When the frontend asks what the RTSP camera offers
    await client.send_json_auto_id({"type": "camera/capabilities", "entity_id": PORCH})
    reply = await client.receive_json()
    # Then it is WebRTC, and HLS as its fallback
    assert reply["success"], reply
    assert set(reply["result"]["frontend_stream_types"]) == {"web_rtc", "hls"}
    # And the demo camera, which has no stream, offers neither
    await client.send_json_auto_id({"type": "camera/capabilities", "entity_id": YARD})
    reply = await client.receive_json()
    assert reply["result"]["frontend_stream_types"] == []


async def test_webrtc_offer_through_ha_gets_the_engines_answer_and_video(
        hass: HomeAssistant, ha_base: str, loaded_entry: MockConfigEntry,
        hass_ws_client: WebSocketGenerator, real_network: None) -> None:
    client = await hass_ws_client(hass)
    trickled: list[str] = []

    async def exchange(offer: str) -> str:
        # When the viewer's offer goes to HA without candidates, as the frontend sends it
        bare, candidates = split_candidates(offer)
        await client.send_json_auto_id(
            {"type": "camera/webrtc/offer", "entity_id": PORCH, "offer": bare})
        offer_id = (result := await client.receive_json())["id"]
        assert result["success"], result
        events: list[dict[str, Any]] = []
        while not any(e["type"] in ("answer", "error") for e in events):
            events.append((await client.receive_json())["event"])
        # And its candidates follow, trickled
        session = next(e["session_id"] for e in events if e["type"] == "session")
        for candidate in candidates:
            await client.send_json_auto_id({
                "type": "camera/webrtc/candidate", "entity_id": PORCH,
                "session_id": session, "candidate": {"candidate": candidate, "sdpMid": "0"}})
            reply = await client.receive_json()
            assert reply["success"], reply
            trickled.append(candidate)
        # Then HA answers with the engine's SDP answer (its candidates included)
        answer = events[-1]
        assert answer["type"] == "answer", answer
        assert offer_id and "a=candidate" in answer["answer"]
        return str(answer["answer"])

    async with webrtc_viewer(exchange) as viewer:
        # And the camera's video reaches the viewer: frames of the camera's size
        for _ in range(10):
            _, frame = await viewer.next_frame(timeout=OFFER_TIMEOUT_S)
            assert (frame.width, frame.height) == (320, 240)
    assert trickled  # the browser-like path was taken


async def test_webrtc_offer_the_engine_refuses_comes_back_as_an_error(
        hass: HomeAssistant, ha_base: str, loaded_entry: MockConfigEntry,
        hass_ws_client: WebSocketGenerator) -> None:
    client = await hass_ws_client(hass)
    # When an offer without H.264 reaches the camera
    vp8_only = ("v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\n"
                "m=video 9 UDP/TLS/RTP/SAVPF 96\r\nc=IN IP4 0.0.0.0\r\n"
                "a=rtpmap:96 VP8/90000\r\na=recvonly\r\n")
    await client.send_json_auto_id(
        {"type": "camera/webrtc/offer", "entity_id": PORCH, "offer": vp8_only})
    assert (await client.receive_json())["success"]
    events = [(await client.receive_json())["event"] for _ in range(2)]
    # Then the frontend gets an error that says why (and falls back to HLS)
    assert events[0]["type"] == "session"
    assert events[1]["type"] == "error" and "H.264" in events[1]["message"]
