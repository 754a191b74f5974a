"""The engine's home_assistant analyzer against real HA core: its REST API on a real loopback
port, ai_task, and the HomeSec media source fetching the clip's snapshot back from the real
engine. The AI provider behind ai_task is the stand-in of ai_provider.py (no model runs here).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from homeassistant.core import HomeAssistant
from homeassistant.exceptions import HomeAssistantError
from homeassistant.setup import async_setup_component
from pytest_homeassistant_custom_component.common import MockConfigEntry
from pytest_homeassistant_custom_component.typing import ClientSessionGenerator

from homesec_engine.analyzers import AnalyzerError, HomeAssistantAnalyzer
from homesec_engine.filters.base import FilterOutput
from homesec_engine.records import Detection, FilterResult
from tests.engine_harness import RunningEngine
from tests.integration.ai_provider import ENTITY_ID, Provider, async_setup_provider
from tests.integration.test_views import SNAPSHOT, store_clip
from tests.videotools import Segment, make_motion_video

URL_ENV, TOKEN_ENV = "HOMESEC_TEST_HA_URL", "HOMESEC_TEST_HA_TOKEN"
ANSWER = {"activity_type": "delivery", "risk_level": "low",
          "summary": "A courier leaves a parcel on the step."}
PERSON = FilterOutput(result=FilterResult(detections=[Detection("person", 0.9)]))


@pytest.fixture
async def provider(
    hass: HomeAssistant, engine: RunningEngine, loaded_entry: MockConfigEntry, tmp_path: Path,
) -> Provider:
    """HomeSec loaded, the engine holding a real clip and snapshot, an AI provider in HA."""
    hass.config.config_dir = str(tmp_path / "config")
    video = await asyncio.to_thread(
        make_motion_video, tmp_path / "clip.mp4", [Segment(0.2, 0.8)], 1.0)
    await store_clip(engine, tmp_path, "clip-a", "front_door", video)
    assert await async_setup_component(hass, "api", {})
    return await async_setup_provider(hass)


@pytest.fixture
async def analyzer(
    hass: HomeAssistant, hass_client: ClientSessionGenerator, monkeypatch: pytest.MonkeyPatch,
    provider: Provider,
) -> AsyncIterator[HomeAssistantAnalyzer]:
    """The engine's analyzer, standalone mode: HA's URL and a long-lived token in env vars."""
    client = await hass_client()  # serves HA's HTTP on a loopback port
    monkeypatch.delenv("SUPERVISOR_TOKEN", raising=False)
    monkeypatch.setenv(URL_ENV, str(client.make_url("/")).rstrip("/"))
    monkeypatch.setenv(TOKEN_ENV, client.session.headers["Authorization"].split()[1])
    analyzer = HomeAssistantAnalyzer({"url_env": URL_ENV, "token_env": TOKEN_ENV,
                                      "ai_task_entity": ENTITY_ID, "timeout_s": 20.0,
                                      "max_retries": 1}, backoff_s=0.01)
    await analyzer.start()
    yield analyzer
    await analyzer.close()


async def test_ha_ai_answers_with_the_snapshot_attached(
    analyzer: HomeAssistantAnalyzer, provider: Provider, tmp_path: Path
) -> None:
    # Given the AI provider in Home Assistant will answer with a structured judgement
    provider.answers = [ANSWER]
    # When the engine analyses clip-a, on which the detector saw a person
    analysis = await analyzer.analyze(tmp_path / "clip.mp4", PERSON, "clip-a")
    # Then the answer is the analysis
    assert (analysis.activity_type, analysis.risk_level, analysis.summary) == (
        "delivery", "low", ANSWER["summary"])
    # And the provider was asked for activity, risk and summary, told what the detector saw,
    # with the clip's stored snapshot attached as a local JPEG, byte for byte
    [task] = provider.seen
    assert set(task.structure.schema) >= {"activity_type", "risk_level", "summary"}
    assert "person" in task.instructions
    [(media_id, mime, _path, data)] = task.attachments
    assert (media_id, mime, data) == ("media-source://homesec/snapshot/clip-a", "image/jpeg",
                                      SNAPSHOT)
    assert analyzer.status()["status"] == "ok"


async def test_failures_are_analyzer_errors_never_crashes(
    analyzer: HomeAssistantAnalyzer, provider: Provider, tmp_path: Path
) -> None:
    # Given a provider that fails once and then answers outside the asked shape twice
    provider.answers = [HomeAssistantError("quota exceeded"),
                        {"activity_type": "person", "risk_level": "extreme", "summary": "?"},
                        {"activity_type": "person", "risk_level": "extreme", "summary": "?"}]
    # When the engine analyses a clip (one retry allowed)
    with pytest.raises(AnalyzerError) as first:
        await analyzer.analyze(tmp_path / "clip.mp4", PERSON, "clip-a")
    with pytest.raises(AnalyzerError) as second:
        await analyzer.analyze(tmp_path / "clip.mp4", PERSON, "clip-a")
    # Then each comes back as an AnalyzerError saying what was wrong (the pipeline then
    # judges the clip on its detections), and the status shows the last error
    assert "after 2 attempts" in str(first.value)
    assert "risk_level" in str(second.value)
    assert analyzer.status()["status"] == "error"
    # When the clip does not exist in the engine
    with pytest.raises(AnalyzerError) as missing:
        await analyzer.analyze(tmp_path / "clip.mp4", PERSON, "no-such-clip")
    # Then Home Assistant's refusal is the error (not retried: it will not fix itself)
    assert "HTTP 4" in str(missing.value) or "HTTP 5" in str(missing.value)
