"""Pre-roll packet buffer and clip writer: clips are the camera's original packets, remuxed.

No re-encoding: the ring keeps compressed packets back to a keyframe, and a clip starts at a
keyframe so it plays from its first frame. Used from the rtsp source's worker thread only.
"""

from __future__ import annotations

import os
import uuid
from collections import deque
from dataclasses import dataclass
from datetime import datetime, timedelta
from fractions import Fraction
from pathlib import Path
from typing import Any

import av


@dataclass(slots=True)
class BufferedPacket:
    packet: Any  # av.Packet (original, compressed)
    pts: int
    dts: int
    time_base: Fraction
    t: float  # presentation time in seconds (stream clock)
    keyframe: bool


class PacketRing:
    """Packets grouped by GOP, trimmed so the oldest GOP still starts before ``keep_s`` ago."""

    def __init__(self, keep_s: float, max_packets: int = 5000) -> None:
        self.keep_s = keep_s
        self.max_packets = max_packets  # guards memory when a stream never sends keyframes
        self._gops: deque[list[BufferedPacket]] = deque()
        self._count = 0

    def clear(self) -> None:
        self._gops.clear()
        self._count = 0

    def append(self, item: BufferedPacket) -> None:
        if item.keyframe:
            self._gops.append([item])
        elif self._gops:
            self._gops[-1].append(item)
        else:
            return  # nothing decodable before the first keyframe
        self._count += 1
        horizon = item.t - self.keep_s
        while len(self._gops) >= 2 and self._gops[1][0].t <= horizon:
            self._count -= len(self._gops.popleft())
        while self._count > self.max_packets and self._gops:
            self._count -= len(self._gops.popleft())

    def since(self, t: float) -> list[BufferedPacket]:
        """Packets from the latest keyframe at or before ``t`` (or the oldest one) onwards."""
        gops = list(self._gops)
        start = 0
        for i, gop in enumerate(gops):
            if gop[0].t <= t:
                start = i
        return [p for gop in gops[start:] for p in gop]

    def latest_gop(self) -> list[BufferedPacket]:
        return list(self._gops[-1]) if self._gops else []


class ClipWriter:
    """Remuxes packets of one video stream into ``<work_dir>/<name>.mp4``.

    Written under a ``.part`` name and renamed when closed, so a consumer never sees a
    half-written clip.
    """

    def __init__(self, work_dir: Path, prefix: str, template_stream: Any, wall_start: datetime):
        self.final_path = work_dir / f"{prefix}-{wall_start:%Y%m%dT%H%M%S}-{uuid.uuid4().hex[:8]}.mp4"
        self._part = self.final_path.with_name(self.final_path.name + ".part")
        self._out = av.open(
            str(self._part), "w", format="mp4", options={"movflags": "+faststart"}
        )
        self._stream = self._out.add_stream_from_template(template_stream)
        self._base: int | None = None
        self._base_tb: Fraction | None = None
        self.first_t: float | None = None
        self.last_t: float | None = None
        self._frame_s = 0.0

    def write(self, item: BufferedPacket) -> None:
        if self._base is None:
            self._base, self._base_tb = item.dts, item.time_base
            self.first_t = item.t
        base = self._base
        if self._base_tb is not None and item.time_base != self._base_tb:  # cannot happen within one stream; be safe
            base = round(self._base * self._base_tb / item.time_base)
        pkt = item.packet
        # Restore the original timestamps: a packet may be muxed into two overlapping clips
        # and muxing rescales them in place.
        pkt.time_base = item.time_base
        pkt.pts, pkt.dts = item.pts - base, item.dts - base
        pkt.stream = self._stream
        self._out.mux(pkt)
        if self.last_t is not None and item.t > self.last_t:
            self._frame_s = item.t - self.last_t
        self.last_t = item.t if self.last_t is None else max(self.last_t, item.t)

    @property
    def duration_s(self) -> float:
        if self.first_t is None or self.last_t is None:
            return 0.0
        return self.last_t - self.first_t + self._frame_s

    def close(self) -> Path | None:
        """Finish the file; returns its path, or None when nothing was written."""
        wrote = self._base is not None
        try:
            self._out.close()
        except Exception:
            self._part.unlink(missing_ok=True)
            raise
        if not wrote:
            self._part.unlink(missing_ok=True)
            return None
        os.replace(self._part, self.final_path)
        return self.final_path

    def abort(self) -> None:
        try:
            self._out.close()
        except Exception:  # already broken; the part file goes anyway
            pass
        self._part.unlink(missing_ok=True)


def wall_time(anchor_wall: datetime, anchor_t: float, t: float) -> datetime:
    """Map a stream time to wall-clock time through an anchor taken when the stream started."""
    return anchor_wall + timedelta(seconds=t - anchor_t)
