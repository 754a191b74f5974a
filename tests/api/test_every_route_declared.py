"""Every route answers only what the OpenAPI document declares (keys and status codes)."""

from __future__ import annotations

from typing import Any

from homesec_engine.api.shapes import undeclared
from homesec_engine.records import ClipRecord
from homesec_engine.schema import API_BASE, ROUTES
from homesec_engine.schema.openapi import render_openapi

from .conftest import Api, ClipFactory

# Bodies that make each writing route succeed against the engine's fixture config.
BODIES: dict[str, Any] = {
    "create_camera": {"name": "porch", "source_backend": "demo", "source_config": {}},
    "update_camera": {"enabled": False},
    "set_alert_policy": {"alert_policy": {"min_risk_level": "high"}},
    "offer_camera_webrtc": {"type": "offer", "sdp": (
        "v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\nm=video 9 UDP/TLS/RTP/SAVPF 96\r\n"
        "a=rtpmap:96 H264/90000\r\na=recvonly\r\n")},
}
SKIP = {"events", "restart"}  # a WebSocket upgrade; a restart ends the engine under test
# The fixture's cameras are configured but not running: these answer 503 with the reason.
NOT_RUNNING = {"get_camera_snapshot", "get_camera_stream", "offer_camera_webrtc"}


def _path(route: dict[str, Any], clip: ClipRecord) -> str:
    name = "porch" if route["operation_id"] in {"update_camera", "delete_camera"} else "front_door"
    return route["path"].replace("{name}", name).replace("{clip_id}", clip.id)


async def test_every_route_answers_only_declared_keys(api: Api, make_clip: ClipFactory) -> None:
    # Given an engine with a clip (video and snapshot stored) and a camera to change
    clip = await make_clip(summary="A person at the door", activity_type="person",
                           risk_level="high", detected_objects=["person"], alerted=True,
                           duration_s=4.0)
    doc = render_openapi("test")
    order = sorted(ROUTES, key=lambda r: (r["method"] == "DELETE", r["method"] != "POST"))
    called = set()
    for route in order:
        if route["operation_id"] in SKIP:
            continue
        # When the route is called with real data
        status, body, resp = await api.call(route["method"], _path(route, clip),
                                            json_body=BODIES.get(route["operation_id"]))
        called.add(route["operation_id"])
        # Then it succeeds with a status code its route lists
        operation = doc["paths"][API_BASE + route["path"]][route["method"].lower()]
        assert str(status) in operation["responses"], (route["operation_id"], status, body)
        expected = 503 if route["operation_id"] in NOT_RUNNING else 299
        assert status <= expected, (route["operation_id"], status, body)
        # And a JSON body has no key the document does not declare
        schema = operation["responses"][str(status)].get("content", {}).get(
            "application/json", {}).get("schema")
        if schema is not None and resp.content_type == "application/json":
            assert undeclared(doc, schema, body) == [], route["operation_id"]
    assert called == {r["operation_id"] for r in ROUTES} - SKIP


def test_the_check_finds_an_undeclared_key() -> None:
    # Given a clip body with a key the Clip model does not declare
    doc = render_openapi("test")
    body = {"id": "c1", "camera": "front", "status": "done", "alerted": False,
            "detected_objects": [], "created_at": "2026-01-01T00:00:00Z", "new_thing": 1}
    # When it is checked against the Clip schema, Then the key is named
    assert undeclared(doc, {"$ref": "#/components/schemas/Clip"}, body) == ["new_thing"]
