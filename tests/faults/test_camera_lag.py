"""A camera the engine cannot keep up with: analysis frames are dropped (never recorded
packets), lag stays bounded, and the camera says it is degraded (issue 16, item 12).

The slow machine is the one thing simulated: each analysed frame costs 0.25 s more (2.5 s of
work per second of a 10 fps stream analysed at 10 fps). Stream, server and recording are real.
"""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Any

import av

from homesec_engine.sources.rtsp import LAG_DEGRADED_S, RtspSource
from tests.engine.sources.conftest import Recorder
from tests.videotools import RtspTestServer, Segment, make_motion_video

FPS = 10
COST_S = 0.25


class SlowRtspSource(RtspSource):
    def _analyse(self, packet: Any, t: float, time_base: Any, role: str = "main") -> Any:
        updates = super()._analyse(packet, t, time_base, role)
        time.sleep(COST_S * len(updates))  # the work of a much slower CPU
        return updates


def _frame_times(path: Path) -> list[float]:
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        return sorted(float(p.pts * stream.time_base) for p in container.demux(stream)
                      if p.pts is not None)


async def test_a_camera_too_slow_to_analyse_keeps_up_by_dropping_analysis_frames(
    tmp_path: Path
) -> None:
    # Given a live 10 fps camera with an object crossing the scene during 4-12 s
    video = make_motion_video(tmp_path / "scene.mp4", [Segment(4, 12)], duration_s=18,
                              fps=FPS, gop=FPS)
    with RtspTestServer(video) as server:
        source = SlowRtspSource("yard", {"url": server.url, "analysis_fps": FPS,
                                         "post_roll_s": 2, "pre_roll_s": 1},
                                tmp_path / "work")
        recorder = Recorder()
        await source.start(recorder.on_clip, recorder.on_health)
        lags: list[float] = []
        reasons: set[str] = set()
        dropped: list[float] = []
        try:
            # When the engine analyses it for 16 s on a machine that is far too slow
            started = time.monotonic()
            while time.monotonic() - started < 16:
                await asyncio.sleep(0.5)
                if source.lag_s() is not None:
                    lags.append(source.lag_s() or 0.0)
                    dropped.append(source.analysis_dropped() or 0.0)
                    reasons.add(source.degraded_reason() or "")
            await recorder.wait_for(lambda: recorder.clips, timeout=30)
        finally:
            await source.stop()
    # Then it keeps up with live: the lag stays bounded instead of growing
    assert lags and max(lags[4:]) < LAG_DEGRADED_S, lags
    # And it shows the share of analysis frames dropped, and says it is degraded
    assert max(dropped) > 0.5, dropped
    assert any("skips" in reason for reason in reasons), reasons
    # And motion was still seen, and the recording has every packet (no gap in its frames)
    clip = recorder.clips[0]
    times = _frame_times(clip.path)
    gaps = [b - a for a, b in zip(times, times[1:])]
    assert len(times) >= 8 * FPS and max(gaps) < 1.5 / FPS, (len(times), max(gaps))
