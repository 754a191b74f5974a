"""Person appears -> Home Assistant's person sensor on: latency p50/p99, and the CPU it costs.

    .venvs/newest/bin/python bench/live_alert.py [--events 12]

A real RTSP stream on loopback (tests/videotools.py's server, looping the file) built from
real footage (tests/livestream.py: Debian opencv-doc's pedestrian video vtest.avi: the empty
plaza, then people walking in at a known time, then the empty plaza again), the real engine
(rtsp source, motion, live detection with the shipped model, SQLite) and a real Home
Assistant core with the HomeSec integration (bench/ha_latency.py's harness). Measures:

- latency: from the wall time the server sent the people's first frame (its play time, logged
  by the server, plus the frame's stream time) to the state change of binary_sensor.plaza_person
  to `on` in HA, per event;
- CPU of live detection: thread CPU time of the live watch (frame conversion + detector) per
  second of recording (= share of one core per active camera), and per detected frame.

Goal: p50 <= 1 s, p99 <= 2 s. Figures are printed, never asserted.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import tempfile
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "bench"))

import custom_components  # noqa: E402,F401  (ours before the HA test package's)
from homeassistant import loader  # noqa: E402
from homeassistant.const import EVENT_STATE_CHANGED, STATE_ON  # noqa: E402
from homeassistant.core import Event, HomeAssistant, callback  # noqa: E402
from homeassistant.helpers import frame  # noqa: E402
from pytest_homeassistant_custom_component.common import (  # noqa: E402
    MockConfigEntry,
    async_test_home_assistant,
)

from tests.engine_harness import running_engine  # noqa: E402
from tests.livestream import person_stream  # noqa: E402
from homesec_engine.demo.rtsp_server import PLAY_LOG_ENV  # noqa: E402
from tests.videotools import RtspTestServer  # noqa: E402


@asynccontextmanager
async def home_assistant(config_dir: Path) -> AsyncIterator[HomeAssistant]:
    """HA core as pytest-homeassistant-custom-component builds it (the integration reaches
    the engine over loopback; no HA HTTP server is needed: the push path is the WebSocket)."""
    config_dir.mkdir(parents=True, exist_ok=True)
    async with async_test_home_assistant(config_dir=str(config_dir)) as hass:
        hass.data.pop(loader.DATA_CUSTOM_COMPONENTS, None)  # allow custom integrations
        frame.async_setup(hass)
        try:
            yield hass
        finally:
            await hass.async_stop(force=True)


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


async def main(events: int, live_fps: float) -> None:
    with tempfile.TemporaryDirectory(prefix="homesec-live-bench-") as tmp_name:
        tmp = Path(tmp_name)
        stream = person_stream(tmp, empty_s=5.0, person_s=4.0, after_s=7.0)
        play_log = tmp / "play.log"
        os.environ[PLAY_LOG_ENV] = str(play_log)
        server = RtspTestServer(stream.path, loop=True)
        server.start()
        cameras = [{"name": "plaza", "enabled": True, "source_backend": "rtsp",
                    "source_config": {"url": server.url, "pre_roll_s": 1, "post_roll_s": 2,
                                      "min_motion_s": 0.3, "live_fps": live_fps}}]
        try:
            async with home_assistant(tmp / "ha") as hass, \
                    running_engine(tmp / "engine", cameras=cameras,
                                   run_sources=True) as engine:
                port = int(engine.url.rsplit(":", 1)[1])
                entry = MockConfigEntry(
                    domain="homesec", title="HomeSec", unique_id=f"127.0.0.1:{port}",
                    data={"host": "127.0.0.1", "port": port, "api_key": "", "ssl": False,
                          "verify_ssl": True},
                    options={"scan_interval": 3600})
                entry.add_to_hass(hass)
                assert await hass.config_entries.async_setup(entry.entry_id)
                await hass.async_block_till_done()
                on_times: list[float] = []

                @callback
                def on_change(event: Event[Any]) -> None:
                    new = event.data.get("new_state")
                    if event.data["entity_id"] == "binary_sensor.plaza_person" and \
                            new is not None and new.state == STATE_ON:
                        on_times.append(time.time())

                hass.bus.async_listen(EVENT_STATE_CHANGED, on_change)
                deadline = time.monotonic() + events * stream.period_s + 30
                while len(on_times) < events and time.monotonic() < deadline:
                    await asyncio.sleep(0.2)
                watch = engine.runtime.sources["plaza"].live
                clips = await engine.runtime.repository.list_live_events(limit=200)
                recorded_s = sum(c.duration_s or 0.0 for c in clips)
                await hass.config_entries.async_unload(entry.entry_id)
        finally:
            server.stop()
        play = float(play_log.read_text().split()[0])
    latencies = []
    for on in on_times:
        k = int((on - play - stream.person_at_s) // stream.period_s)
        latencies.append(on - (play + k * stream.period_s + stream.person_at_s))
    print(f"live_fps {live_fps:g}; events measured: {len(latencies)} (stream period {stream.period_s:.0f} s, "
          f"people from {stream.person_at_s:.0f} s for {stream.person_s:.0f} s)")
    if latencies:
        print(f"person first frame -> HA person sensor on: p50 {statistics.median(latencies):.2f} s"
              f", p99 {pct(latencies, 0.99):.2f} s, min {min(latencies):.2f} s, "
              f"max {max(latencies):.2f} s")
    if watch is not None and watch.frames_detected:
        per_frame = watch.detect_cpu_s / watch.frames_detected * 1000
        # Per second of recording (the clips' durations): the time live detection runs.
        print(f"live detection: {watch.frames_detected} frames, {per_frame:.0f} ms CPU/frame, "
              f"{watch.detect_cpu_s / max(recorded_s, 1e-9) * 100:.0f} % of one core per "
              "active camera")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--events", type=int, default=12)
    parser.add_argument("--live-fps", type=float, default=5.0)
    args = parser.parse_args()
    asyncio.run(main(args.events, args.live_fps))
