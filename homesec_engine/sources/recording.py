"""Pre-roll packet buffer and clip writer: clips are the camera's original packets, remuxed.

No re-encoding: the ring keeps compressed packets back to a keyframe, and a clip starts at a
keyframe so it plays from its first frame. Used from the rtsp source's worker thread only.

A recording is written as fragmented MP4 under a ``.part`` name (a fragment at least every
second), so what a killed engine leaves is readable up to its last fragment:
`salvage_recording` makes it a clip at the next start. A finished recording is remuxed into
an ordinary MP4 (index first, for streaming). The clip id is in the file name
(`clip_id_of`), so a recording found again after a restart keeps the id its live event has.
"""

from __future__ import annotations

import logging
import os
import re
from collections import deque
from dataclasses import dataclass
from datetime import datetime, timedelta
from fractions import Fraction
from pathlib import Path
from typing import Any

import av

_LOGGER = logging.getLogger(__name__)

# Fragmented while written: a kill loses at most the last fragment's second.
PART_OPTIONS = {"movflags": "frag_keyframe+empty_moov+default_base_moof",
                "frag_duration": "1000000"}
FINAL_OPTIONS = {"movflags": "+faststart"}
_CLIP_ID_IN_NAME = re.compile(r"--(\d{8}T\d{6}-[0-9a-f]{12})\.mp4$")


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
    """Remuxes packets of one video stream into ``<work_dir>/<prefix>--<clip_id>.mp4``.

    Written under a ``.part`` name (fragmented MP4) and made the final file when closed, so a
    consumer never sees a half-written clip.
    """

    def __init__(self, work_dir: Path, prefix: str, template_stream: Any, clip_id: str):
        self.final_path = work_dir / f"{prefix}--{clip_id}.mp4"
        self._part = part_path(self.final_path)
        self._out = av.open(str(self._part), "w", format="mp4", options=PART_OPTIONS)
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
            if wrote:
                wrote = finish_recording(self._part, self.final_path) > 0
        except Exception:
            self._part.unlink(missing_ok=True)
            raise
        self._part.unlink(missing_ok=True)
        return self.final_path if wrote else None

    def abort(self) -> None:
        try:
            self._out.close()
        except Exception:  # already broken; the part file goes anyway
            pass
        self._part.unlink(missing_ok=True)


def part_path(final: Path) -> Path:
    """Where the recording of `final` is written until it is finished."""
    return final.with_name(final.name + ".part")


def clip_id_of(path: Path) -> str | None:
    """The clip id a recording's file name carries (None for other files)."""
    match = _CLIP_ID_IN_NAME.search(path.name)
    return match.group(1) if match else None


def finish_recording(part: Path, final: Path) -> int:
    """Remux the fragmented recording `part` into `final` (an ordinary MP4, index first),
    through a hidden temp file; returns how many packets it holds (0: nothing was written).

    A recording cut off by a kill ends in a damaged fragment: what can be read before it is
    kept. Blocking.
    """
    tmp = final.with_name(f".{final.name}.tmp")
    packets = 0
    try:
        with av.open(str(part)) as src, \
                av.open(str(tmp), "w", format="mp4", options=FINAL_OPTIONS) as out:
            stream_in = src.streams.video[0]
            stream_out = out.add_stream_from_template(stream_in)
            try:
                for packet in src.demux(stream_in):
                    if packet.is_corrupt:  # cut short by the end of the file
                        break
                    if packet.dts is None or packet.size == 0:
                        continue
                    packet.stream = stream_out
                    out.mux(packet)
                    packets += 1
            except (av.error.FFmpegError, OSError) as err:  # the kill's cut-off fragment
                _LOGGER.info("%s: read up to a damaged end (%s)", part.name, err)
        if packets:
            os.replace(tmp, final)
    finally:
        tmp.unlink(missing_ok=True)
    return packets


def salvage_recording(part: Path) -> Path | None:
    """The clip a killed engine's cut-off recording `part` still holds (blocking).

    Returns the finished file (with the time of the last write the kill left), or None when
    nothing in it could be read; the `.part` file goes either way.
    """
    final = part.with_name(part.name.removesuffix(".part"))
    try:
        mtime = part.stat().st_mtime
        if not final.exists() and finish_recording(part, final) == 0:
            return None
        os.utime(final, (mtime, mtime))
        return final
    except Exception as err:  # unreadable: nothing to salvage
        _LOGGER.warning("%s left by a killed engine could not be read: %s", part.name, err)
        return None
    finally:
        part.unlink(missing_ok=True)


def wall_time(anchor_wall: datetime, anchor_t: float, t: float) -> datetime:
    """Map a stream time to wall-clock time through an anchor taken when the stream started."""
    return anchor_wall + timedelta(seconds=t - anchor_t)
