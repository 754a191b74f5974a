"""One corrupt packet costs a frame, not the clip (issue 26, item 8).

A recording with one damaged packet in the middle (a camera's bit error, a lost RTP packet
remuxed as is) used to fail the clip's object filter at that packet: the clip was not
analysed at all. Real video, a real packet of random bytes, the real engine and filter.
"""

from __future__ import annotations

import asyncio
import os
from datetime import timedelta
from pathlib import Path

import av

from homesec_engine.records import ClipFile, utcnow
from tests.api.conftest import API_KEY
from tests.engine_harness import running_engine
from tests.videotools import Segment, make_motion_video


def _with_a_corrupt_packet(src: Path, dst: Path, bad: int) -> Path:
    """`src` remuxed into `dst` with packet number `bad` replaced by random bytes."""
    with av.open(str(src)) as inp, av.open(str(dst), "w", format="mp4") as out:
        stream_in = inp.streams.video[0]
        stream_out = out.add_stream_from_template(stream_in)
        for index, packet in enumerate(inp.demux(stream_in)):
            if packet.dts is None:
                continue
            if index == bad:
                junk = av.Packet(bytes(packet)[:4] + os.urandom(max(16, packet.size - 4)))
                junk.pts, junk.dts, junk.time_base = packet.pts, packet.dts, packet.time_base
                packet = junk
            packet.stream = stream_out
            out.mux(packet)
    return dst


async def test_a_clip_with_one_corrupt_packet_is_still_filtered_and_finished(
        tmp_path: Path) -> None:
    # Given a 4 s recording whose 16th packet (of 40) is garbage
    work = tmp_path / "work"
    work.mkdir()
    clean = make_motion_video(tmp_path / "clean.mp4", [Segment(0.5, 3.5)], duration_s=4,
                              fps=10, gop=10)
    video = _with_a_corrupt_packet(clean, work / "rec.mp4", 15)
    async with running_engine(tmp_path, api_key=API_KEY) as engine:
        pipeline = engine.runtime.pipeline
        ended = utcnow()
        # When the engine processes it
        task = pipeline.submit(ClipFile("front_door", video, ended - timedelta(seconds=4),
                                        ended, clip_id="damaged"))
        assert task is not None
        out = await asyncio.wait_for(task, 120)
        # Then the clip is filtered (the damaged packet skipped) and finished, not failed
        events, _ = await engine.runtime.started_repository().list_events("damaged")
        types = [e.type for e in events]
        assert "filter_failed" not in types, [e.data for e in events]
        filtered = next(e.data for e in events if e.type == "filtered")
        assert filtered["frames_sampled"] >= 6, filtered  # of 8 at its sampling rate
        assert out.status == "done" and out.decision is not None
