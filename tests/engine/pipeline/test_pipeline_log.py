"""What a user reads in the log: one INFO line per clip and one per alert, never a secret."""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from .conftest import FakeVlm, Scene
from .test_pipeline import ANSWER, PERSON, clip_in, vlm_analyzer

LOGGER = "homesec_engine.pipeline"
ALERT_LOGGER = "homesec_engine.alerts.owner"  # the camera events' owner sends the alert


def _info(caplog: pytest.LogCaptureFixture, prefix: str, logger: str = LOGGER) -> list[str]:
    return [r.getMessage() for r in caplog.records
            if r.name == logger and r.levelno == logging.INFO and r.getMessage().startswith(prefix)]


async def test_an_alerted_clip_logs_one_clip_line_and_one_alert_line(
    pipeline_rig: Callable[..., Any], make_video: Callable[..., Path], fake_vlm: FakeVlm,
    caplog: pytest.LogCaptureFixture,
) -> None:
    # Given a pipeline whose VLM judges a person at the gate as high risk
    fake_vlm.script = [("json", ANSWER)]
    rig = await pipeline_rig(analyzer=vlm_analyzer(fake_vlm))
    caplog.set_level(logging.INFO, logger=LOGGER)
    caplog.set_level(logging.INFO, logger=ALERT_LOGGER)
    # When a 4 s clip with a person arrives
    out = await rig.pipeline.process(clip_in(rig, make_video(PERSON)))
    # Then exactly one INFO line tells the clip's camera, id, duration, detections, decision
    (clip_line,) = _info(caplog, "clip:")
    assert f"camera=gate clip={out.clip_id} duration=4.0s" in clip_line
    assert "detections=" in clip_line and "(person)" in clip_line
    assert "decision=alert (loitering at risk high)" in clip_line
    # And exactly one INFO line tells the alert
    (alert_line,) = _info(caplog, "alert:", ALERT_LOGGER)
    assert f"camera=gate clip={out.clip_id} risk=high activity=loitering" in alert_line
    # And neither carries the VLM's address, the summary text or any URL
    for line in (clip_line, alert_line):
        assert "://" not in line and fake_vlm.url not in line
        assert ANSWER["summary"] not in line


async def test_a_quiet_clip_logs_its_line_and_no_alert(
    pipeline_rig: Callable[..., Any], make_video: Callable[..., Path],
    caplog: pytest.LogCaptureFixture,
) -> None:
    # Given a pipeline and a clip where nothing moves
    rig = await pipeline_rig()
    caplog.set_level(logging.INFO, logger=LOGGER)
    caplog.set_level(logging.INFO, logger=ALERT_LOGGER)
    # When it is processed
    out = await rig.pipeline.process(clip_in(rig, make_video(Scene(subject=None)), "yard"))
    # Then one clip line says why there was no alert, and there is no alert line
    (clip_line,) = _info(caplog, "clip:")
    assert f"camera=yard clip={out.clip_id}" in clip_line
    assert "detections=0" in clip_line
    assert "decision=no alert (no trigger class detected)" in clip_line
    assert _info(caplog, "alert:", ALERT_LOGGER) == []
