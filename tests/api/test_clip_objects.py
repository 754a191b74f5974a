"""Per-object results of a real clip, through the engine's pipeline, in the clip API and in
the alert the WebSocket carries."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from homesec_engine.records import ClipFile
from tests.engine.pipeline.conftest import Scene
from tests.engine_harness import RunningEngine
from tests.videotools import write_h264

from .conftest import Api, assert_valid


async def test_a_real_clip_lists_its_objects_in_the_api_and_the_alert(
    api: Api, engine: RunningEngine, tmp_path: Path
) -> None:
    # Given a recording of a person walking past the front door
    video = write_h264(tmp_path / "walk.mp4", Scene(subject=(36, 90)).frames(), fps=10)
    ended = datetime.now(UTC)
    clip = ClipFile("front_door", video, ended - timedelta(seconds=4), ended)
    pipeline = engine.runtime.pipeline
    assert pipeline is not None
    with engine.runtime.events.subscribe() as sub:
        # When the engine's pipeline processes it
        out = await pipeline.process(clip)
        message = await sub.get()
    # Then the alert names what was found: one person, with its best confidence and box
    assert message["type"] == "alert"
    alert = assert_valid("AlertEvent", message["data"])
    assert [(o["class"], o["count"]) for o in alert["objects"]] == [("person", 1)]
    assert len(alert["objects"][0]["boxes"]) == 1 and alert["zones"] == []
    # And the clip API shows the same per-object results, read back from the database
    status, body, _ = await api.call("GET", f"/clips/{out.clip_id}")
    assert status == 200, body
    assert_valid("Clip", body)
    assert body["objects"] == alert["objects"] and body["zones"] == []
    status, page, _ = await api.call("GET", "/clips")
    assert [c["objects"] for c in page["clips"] if c["id"] == out.clip_id] == [alert["objects"]]
    # And /status reports them with the camera's last alert
    _, status_body, _ = await api.call("GET", "/status")
    door = next(c for c in status_body["cameras"] if c["name"] == "front_door")
    assert door["last_alert"]["objects"] == alert["objects"]
