"""The clip pipeline over real parts: SQLite state, local storage, real video, a local VLM."""

from __future__ import annotations

import asyncio
import shutil
import socket
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from homesec_engine.analyzers import HomeAssistantAnalyzer, OpenAICompatibleAnalyzer
from homesec_engine.records import ClipFile, ClipQuery

from .conftest import FakeVlm, PipelineRig, Scene

PERSON = Scene(subject=(36, 90))
ANSWER = {"activity_type": "loitering", "risk_level": "high",
          "summary": "A person lingers by the gate."}


def clip_in(rig: PipelineRig, video: Path, camera: str = "gate") -> ClipFile:
    path = rig.work_dir / f"{camera}-{video.name}"
    shutil.copy(video, path)
    ended = datetime.now(UTC)
    return ClipFile(camera, path, ended - timedelta(seconds=4), ended)


def vlm_analyzer(vlm: FakeVlm, retries: int = 0) -> OpenAICompatibleAnalyzer:
    return OpenAICompatibleAnalyzer({"enabled": True, "base_url": vlm.url, "model": "m",
                                     "timeout_s": 5.0, "max_retries": retries, "frames": 2},
                                    backoff_s=0.01)


async def test_a_clip_with_a_person_is_stored_analysed_and_alerted(
    pipeline_rig: Callable[..., Any], make_video: Callable[..., Path], fake_vlm: FakeVlm
) -> None:
    # Given a pipeline with a VLM analyzer
    fake_vlm.script = [("json", ANSWER)]
    rig = await pipeline_rig(analyzer=vlm_analyzer(fake_vlm))
    clip = clip_in(rig, make_video(PERSON))
    with rig.events.subscribe() as sub:
        # When a clip with a person arrives
        out = await rig.pipeline.process(clip)
        message = await sub.get()
    # Then the clip is stored, with a snapshot beside it, and the local copy is gone
    assert out.storage_uri == f"local://{out.clip_id}.mp4"
    assert rig.storage.resolve(out.storage_uri).stat().st_size > 0
    snapshot = rig.storage.resolve(f"local://{out.clip_id}.jpg").read_bytes()
    assert snapshot[:2] == b"\xff\xd8"
    assert not clip.path.exists()
    # And the VLM's analysis made the alert
    assert message["type"] == "alert"
    data = message["data"]
    assert (data["activity_type"], data["risk_level"], data["summary"]) == (
        "loitering", "high", ANSWER["summary"])
    assert data["detected_objects"] == ["person"]
    assert data["view_url"] == f"/api/v1/clips/{out.clip_id}/media"
    assert data["storage_uri"] == out.storage_uri
    assert rig.last_alerts["gate"]["clip_id"] == out.clip_id
    # And the repository holds the final state and every stage's event
    record = await rig.repository.get_clip(out.clip_id)
    assert record.status == "done" and record.alerted
    assert (record.activity_type, record.risk_level) == ("loitering", "high")
    assert record.detected_objects == ["person"]
    events = await rig.events_of(out.clip_id)
    assert events[0] == "clip_recorded"
    assert {"uploaded", "filtered", "snapshot", "analyzed", "alert_decided"} <= set(events)
    assert events.index("filtered") < events.index("analyzed") < events.index("alert_decided")


async def test_a_failing_analyzer_still_gives_the_alert_decision(
    pipeline_rig: Callable[..., Any], make_video: Callable[..., Path], fake_vlm: FakeVlm
) -> None:
    # Given a VLM that only ever answers HTTP 500
    fake_vlm.script = [("status", 500)]
    rig = await pipeline_rig(analyzer=vlm_analyzer(fake_vlm, retries=1))
    # When a clip with a person arrives
    out = await rig.pipeline.process(clip_in(rig, make_video(PERSON)))
    # Then the alert is decided as without an analyzer (person -> medium) and sent
    assert out.alert is not None
    assert (out.alert.activity_type, out.alert.risk_level) == ("person", "medium")
    events = await rig.events_of(out.clip_id)
    assert "analyze_failed" in events and "analyzed" not in events
    record = await rig.repository.get_clip(out.clip_id)
    assert record.status == "done" and record.alerted


async def test_home_assistant_analyzer_unreachable_still_gives_the_alert_decision(
    pipeline_rig: Callable[..., Any], make_video: Callable[..., Path],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Given the home_assistant analyzer pointed at a Home Assistant that is not running
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed_port = probe.getsockname()[1]
    monkeypatch.delenv("SUPERVISOR_TOKEN", raising=False)
    monkeypatch.setenv("HOMESEC_TEST_HA_URL", f"http://127.0.0.1:{closed_port}")
    monkeypatch.setenv("HOMESEC_TEST_HA_TOKEN", "t")
    analyzer = HomeAssistantAnalyzer({"url_env": "HOMESEC_TEST_HA_URL",
                                      "token_env": "HOMESEC_TEST_HA_TOKEN", "timeout_s": 2.0,
                                      "max_retries": 1}, backoff_s=0.01)
    rig = await pipeline_rig(analyzer=analyzer)
    # When a clip with a person arrives
    out = await rig.pipeline.process(clip_in(rig, make_video(PERSON)))
    # Then it waited for the clip and its snapshot to be stored, asked, failed, and the alert
    # was decided on the detections as without an analyzer (person -> medium) and sent
    assert out.alert is not None
    assert (out.alert.activity_type, out.alert.risk_level) == ("person", "medium")
    events = await rig.events_of(out.clip_id)
    assert "analyze_failed" in events and "analyzed" not in events
    assert events.index("snapshot") < events.index("analyze_failed")
    assert "cannot reach Home Assistant" in analyzer.status()["error"]


async def test_the_analyzer_runs_only_when_a_trigger_class_is_seen(
    pipeline_rig: Callable[..., Any], make_video: Callable[..., Path], fake_vlm: FakeVlm
) -> None:
    # Given a pipeline with an analyzer
    fake_vlm.script = [("json", ANSWER)]
    rig = await pipeline_rig(analyzer=vlm_analyzer(fake_vlm))
    # When a clip where nothing moves arrives
    out = await rig.pipeline.process(clip_in(rig, make_video(Scene(subject=None))))
    # Then the VLM is not asked, no alert goes out, and the clip is still stored and done
    assert fake_vlm.requests == []
    assert out.alert is None and not out.decision.alert
    record = await rig.repository.get_clip(out.clip_id)
    assert record.status == "done" and not record.alerted and record.storage_uri


async def test_a_filter_failure_stops_the_analyzer_and_marks_the_clip(
    pipeline_rig: Callable[..., Any], fake_vlm: FakeVlm
) -> None:
    # Given a "clip" that is no video
    fake_vlm.script = [("json", ANSWER)]
    rig = await pipeline_rig(analyzer=vlm_analyzer(fake_vlm))
    path = rig.work_dir / "broken.mp4"
    path.write_bytes(b"\x00" * 1000)
    now = datetime.now(UTC)
    # When it goes through the pipeline
    out = await rig.pipeline.process(ClipFile("gate", path, now, now))
    # Then the filter error is recorded, the VLM is never asked, and no alert goes out
    assert out.status == "error" and out.alert is None
    assert fake_vlm.requests == []
    record = await rig.repository.get_clip(out.clip_id)
    assert record.status == "error"
    events = await rig.events_of(out.clip_id)
    assert "filter_failed" in events and "alert_decided" not in events
    # (the file itself was still kept in storage)
    assert record.storage_uri is not None


async def test_an_upload_failure_never_blocks_the_alert(
    pipeline_rig: Callable[..., Any], make_video: Callable[..., Path], tmp_path: Path
) -> None:
    # Given storage whose root cannot be a directory (a file is in the way)
    blocked = tmp_path / "not-a-dir"
    blocked.write_text("in the way")
    rig = await pipeline_rig(storage_path=blocked, upload_attempts=2)
    clip = clip_in(rig, make_video(PERSON))
    with rig.events.subscribe() as sub:
        # When a clip with a person arrives
        out = await rig.pipeline.process(clip)
        message = await sub.get()
    # Then the alert still goes out (without a storage URI)
    assert message["type"] == "alert" and message["data"]["storage_uri"] is None
    # And the clip is marked as an error with the upload failure recorded; the local file kept
    record = await rig.repository.get_clip(out.clip_id)
    assert record.status == "error" and record.alerted
    assert "upload_failed" in await rig.events_of(out.clip_id)
    assert clip.path.exists()


async def test_a_policy_change_applies_to_the_next_clip(
    pipeline_rig: Callable[..., Any], make_video: Callable[..., Path]
) -> None:
    # Given a pipeline whose policy is read at each decision
    rig = await pipeline_rig()
    video = make_video(PERSON)
    first = await rig.pipeline.process(clip_in(rig, video, "gate"))
    # When the policy is replaced by one that needs high risk
    from homesec_engine.policy import AlertPolicyEngine

    strict = AlertPolicyEngine({"min_risk_level": "high"})
    rig.pipeline.policy = lambda: strict
    second = await rig.pipeline.process(clip_in(rig, video, "gate"))
    # Then the first clip alerted (person -> medium) and the second did not
    assert first.decision.alert and not second.decision.alert
    assert "below the minimum high" in second.decision.reason


@pytest.mark.parametrize("public_url", ["https://cams.example.org/", None])
async def test_view_url_uses_the_public_url_when_set(
    pipeline_rig: Callable[..., Any], make_video: Callable[..., Path], public_url: str | None
) -> None:
    # Given server.public_url set (or not)
    rig = await pipeline_rig(public_url=public_url)
    # When a clip alerts
    out = await rig.pipeline.process(clip_in(rig, make_video(PERSON)))
    # Then the alert's view_url points at the clip's media route under it
    path = f"/api/v1/clips/{out.clip_id}/media"
    assert out.alert.view_url == (f"https://cams.example.org{path}" if public_url else path)


async def test_a_clip_cut_off_by_a_stop_is_not_left_half_way(
    pipeline_rig: Callable[..., Any], make_video: Callable[..., Path], fake_vlm: FakeVlm
) -> None:
    # Given a clip stored and waiting on a slow VLM
    fake_vlm.script = [("sleep", 2.0)]
    rig = await pipeline_rig(analyzer=vlm_analyzer(fake_vlm))
    task = rig.pipeline.submit(clip_in(rig, make_video(PERSON)))
    async with asyncio.timeout(30):
        while not fake_vlm.requests:
            await asyncio.sleep(0.02)
    # When the engine stops and the drain time runs out before the VLM answers
    finished = await rig.pipeline.drain(0.05)
    # Then the clip was cut off, but its record does not stay "in progress" for ever:
    # it ends in `error` with an `interrupted` event saying why
    assert finished is False and task.cancelled()
    clips, total = await rig.repository.list_clips(ClipQuery(camera="gate"))
    assert total == 1
    assert clips[0].status == "error"
    assert clips[0].storage_uri is not None  # the video itself was kept
    events = await rig.events_of(clips[0].id)
    assert events[-1] == "interrupted"


async def test_a_clip_handed_in_after_the_stop_is_kept_not_processed(
    pipeline_rig: Callable[..., Any], make_video: Callable[..., Path]
) -> None:
    # Given a pipeline that has been drained for a stop
    rig = await pipeline_rig()
    assert await rig.pipeline.drain(1.0)
    # When a camera whose stop timed out still hands in a clip
    clip = clip_in(rig, make_video(PERSON))
    task = rig.pipeline.submit(clip)
    # Then nothing runs against the closing engine: no task, no record, the file stays
    # where it is for the next start
    assert task is None and rig.pipeline.in_flight == 0
    assert clip.path.exists()
    _, total = await rig.repository.list_clips(ClipQuery())
    assert total == 0
