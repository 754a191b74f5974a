"""The OpenAI-compatible analyzer against a local server speaking that protocol."""

from __future__ import annotations

import base64
import logging
from collections.abc import Callable
from pathlib import Path

import pytest

from homesec_engine.analyzers import AnalyzerError, OpenAICompatibleAnalyzer
from homesec_engine.filters import BuiltinDetector
from homesec_engine.filters.base import FilterOutput
from homesec_engine.schema.config import ACTIVITY_TYPES

from .conftest import FakeVlm, Scene

KEY_ENV = "HOMESEC_TEST_VLM_KEY"
SECRET = "sk-test-0123456789-secret"
ANSWER = {"activity_type": "delivery", "risk_level": "low",
          "summary": "A courier leaves a parcel at the door."}


def analyzer_for(vlm: FakeVlm, **overrides: object) -> OpenAICompatibleAnalyzer:
    config: dict[str, object] = {"enabled": True, "base_url": vlm.url, "model": "test-vlm",
                                 "api_key_env": KEY_ENV, "timeout_s": 5.0, "max_retries": 2,
                                 "frames": 3}
    config.update(overrides)
    return OpenAICompatibleAnalyzer(config, backoff_s=0.01)


@pytest.fixture
async def clip(make_video: Callable[..., Path]) -> tuple[Path, FilterOutput]:
    path = make_video(Scene(subject=(36, 90)))
    filtered = await BuiltinDetector({"sample_fps": 2.0, "min_confidence": 0.5,
                                      "trigger_classes": ["person"]}).run(path)
    return path, filtered


@pytest.fixture(autouse=True)
def api_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(KEY_ENV, SECRET)


async def test_structured_answer_becomes_the_analysis(
    fake_vlm: FakeVlm, clip: tuple[Path, FilterOutput]
) -> None:
    # Given a VLM server that answers with the structured JSON
    fake_vlm.script = [("json", ANSWER)]
    analyzer = analyzer_for(fake_vlm)
    try:
        # When a clip with a detected person is analysed
        analysis = await analyzer.analyze(*clip)
    finally:
        await analyzer.close()
    # Then the answer is the analysis
    assert (analysis.activity_type, analysis.risk_level, analysis.summary) == (
        "delivery", "low", ANSWER["summary"])
    # And the request asked for that structure, with the key from the env var
    body = fake_vlm.requests[0]
    assert body["model"] == "test-vlm"
    schema = body["response_format"]["json_schema"]["schema"]
    assert body["response_format"]["type"] == "json_schema"
    assert schema["properties"]["activity_type"]["enum"] == ACTIVITY_TYPES
    assert schema["properties"]["risk_level"]["enum"] == ["low", "medium", "high", "critical"]
    assert fake_vlm.headers[0]["Authorization"] == f"Bearer {SECRET}"
    # And it carried the configured number of frames as base64 JPEG images
    parts = body["messages"][-1]["content"]
    images = [p["image_url"]["url"] for p in parts if p["type"] == "image_url"]
    assert len(images) == 3
    for url in images:
        prefix = "data:image/jpeg;base64,"
        assert url.startswith(prefix)
        jpeg = base64.b64decode(url[len(prefix):])
        assert jpeg[:2] == b"\xff\xd8" and jpeg[-2:] == b"\xff\xd9"
    assert "person" in next(p["text"] for p in parts if p["type"] == "text")


async def test_a_server_error_is_retried_until_it_answers(
    fake_vlm: FakeVlm, clip: tuple[Path, FilterOutput]
) -> None:
    # Given a server that fails once with HTTP 500, then answers
    fake_vlm.script = [("status", 500), ("json", ANSWER)]
    analyzer = analyzer_for(fake_vlm)
    try:
        # When a clip is analysed
        analysis = await analyzer.analyze(*clip)
    finally:
        await analyzer.close()
    # Then the second attempt's answer is used
    assert analysis.activity_type == "delivery"
    assert len(fake_vlm.requests) == 2
    assert analyzer.status()["status"] == "ok"


async def test_a_malformed_answer_is_retried_then_reported(
    fake_vlm: FakeVlm, clip: tuple[Path, FilterOutput]
) -> None:
    # Given a server that always answers with prose instead of the asked-for JSON
    fake_vlm.script = [("text", "I think someone is at the door.")]
    analyzer = analyzer_for(fake_vlm, max_retries=2)
    try:
        # When a clip is analysed / Then an AnalyzerError says the answer was unusable
        with pytest.raises(AnalyzerError, match="not the asked-for JSON"):
            await analyzer.analyze(*clip)
    finally:
        await analyzer.close()
    # And it tried 1 + max_retries times
    assert len(fake_vlm.requests) == 3
    assert analyzer.status()["status"] == "error"


async def test_an_invalid_risk_level_is_malformed(
    fake_vlm: FakeVlm, clip: tuple[Path, FilterOutput]
) -> None:
    # Given answers whose risk level is not one of low/medium/high/critical
    fake_vlm.script = [("json", {**ANSWER, "risk_level": "apocalyptic"})]
    analyzer = analyzer_for(fake_vlm, max_retries=0)
    try:
        with pytest.raises(AnalyzerError, match="risk_level"):
            await analyzer.analyze(*clip)
    finally:
        await analyzer.close()


async def test_a_server_that_does_not_answer_in_time_times_out(
    fake_vlm: FakeVlm, clip: tuple[Path, FilterOutput]
) -> None:
    # Given a server that takes longer than the analyzer's timeout
    fake_vlm.script = [("sleep", 3.0)]
    analyzer = analyzer_for(fake_vlm, timeout_s=0.3, max_retries=1)
    try:
        # When a clip is analysed / Then it gives up with a timeout error after its retry
        with pytest.raises(AnalyzerError, match="did not answer within"):
            await analyzer.analyze(*clip)
    finally:
        await analyzer.close()
    assert len(fake_vlm.requests) == 2


async def test_a_refused_key_is_not_retried_and_never_logged(
    fake_vlm: FakeVlm, clip: tuple[Path, FilterOutput], caplog: pytest.LogCaptureFixture
) -> None:
    # Given a server that refuses the key
    fake_vlm.script = [("status", 401)]
    analyzer = analyzer_for(fake_vlm, max_retries=3)
    caplog.set_level(logging.DEBUG)
    try:
        # When a clip is analysed / Then the refusal is reported at once
        with pytest.raises(AnalyzerError, match="HTTP 401"):
            await analyzer.analyze(*clip)
    finally:
        await analyzer.close()
    assert len(fake_vlm.requests) == 1
    # And the key appears in no log line and no status
    assert SECRET not in caplog.text
    assert SECRET not in str(analyzer.status())


async def test_an_unset_key_variable_is_reported_by_name(
    fake_vlm: FakeVlm, clip: tuple[Path, FilterOutput], monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given the env var the config names is not set
    monkeypatch.delenv(KEY_ENV)
    analyzer = analyzer_for(fake_vlm)
    try:
        # When a clip is analysed / Then the error names the variable; nothing was sent
        with pytest.raises(AnalyzerError, match=KEY_ENV):
            await analyzer.analyze(*clip)
    finally:
        await analyzer.close()
    assert fake_vlm.requests == []
    assert KEY_ENV in analyzer.status()["error"]
