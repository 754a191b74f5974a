"""A camera the engine cannot keep up with shows its lag, the share of analysis frames it
drops, and `degraded` health in Home Assistant (issue 16, item 12)."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

from pytest_homeassistant_custom_component.common import MockConfigEntry

from homeassistant.core import HomeAssistant
from tests.engine_harness import RunningEngine
from tests.faults.test_camera_lag import FPS, SlowRtspSource
from tests.videotools import RtspTestServer, Segment, make_motion_video


async def test_a_lagging_camera_shows_lag_dropped_share_and_degraded_health(
    hass: HomeAssistant, engine: RunningEngine, config_entry: MockConfigEntry, tmp_path: Path
) -> None:
    # Given the engine's front door camera streams from a real RTSP camera on a machine far
    # too slow to analyse every frame
    video = make_motion_video(tmp_path / "scene.mp4", [Segment(2, 8)], duration_s=30,
                              fps=FPS, gop=FPS)
    with RtspTestServer(video) as server:
        source = SlowRtspSource("front_door", {"url": server.url, "analysis_fps": FPS},
                                tmp_path / "work")
        runtime = engine.runtime
        assert runtime.pipeline is not None
        await source.start(runtime.pipeline.on_clip, runtime._on_health)
        runtime.sources["front_door"] = source
        try:
            deadline = time.monotonic() + 30
            while source.degraded_reason() is None and time.monotonic() < deadline:
                await asyncio.sleep(0.2)
            # When Home Assistant polls the engine
            config_entry.add_to_hass(hass)
            assert await hass.config_entries.async_setup(config_entry.entry_id)
            await hass.async_block_till_done()
            # Then the camera's health is degraded, with its lag and dropped share
            assert hass.states.get("sensor.front_door_health").state == "degraded"
            lag = hass.states.get("sensor.front_door_processing_lag")
            assert lag.attributes["unit_of_measurement"] == "s"
            assert 0 <= float(lag.state) < 3.0
            dropped = hass.states.get("sensor.front_door_analysis_frames_dropped")
            assert dropped.attributes["unit_of_measurement"] == "%"
            assert float(dropped.state) > 50
            await hass.config_entries.async_unload(config_entry.entry_id)
        finally:
            runtime.sources.pop("front_door", None)
            await source.stop()
