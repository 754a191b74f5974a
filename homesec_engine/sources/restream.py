"""Restream: the camera's own packets, remuxed once into MPEG-TS and fanned out to viewers.

Many cameras allow only a few RTSP sessions, so viewers share the connection the source
already holds. The source's thread muxes each packet it read (no decode, no re-encode) into
one MPEG-TS byte stream while anyone is watching; every viewer gets the same bytes, so a
viewer costs one socket write per packet, not a muxer. A viewer starts at the latest keyframe,
without waiting for the next one: the first viewer's muxer starts with the source's current
GOP (from the pre-roll ring), and later viewers get the bytes of the current GOP kept here.
The TS muxer writes PAT/PMT before each keyframe and the camera sends its SPS/PPS with it, so
the bytes from a keyframe on are a stream a player can open.

Chunks reach the event loop by one ``call_soon_threadsafe`` per packet, whatever the number of
viewers; the source thread never waits for a viewer. A viewer whose queue lags more than
``max_lag_s`` behind the camera (it stopped reading) is dropped: its connection is aborted.
When the camera's session ends (drop, reconnect, stop) every viewer's stream ends: the next
session may have other codec parameters, and a player reconnects anyway.

A packet viewer (WebRTC, sources/webrtc.py) gets the same packets unmuxed: each H.264 access
unit as Annex B bytes with its timestamps, the camera's SPS/PPS put before each keyframe that
lacks them, from the next keyframe on. It takes one of the same ``max_viewers`` slots.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from fractions import Fraction
from typing import Any, Generic, TypeVar

import av

from ..loops import post
from .recording import BufferedPacket

_LOGGER = logging.getLogger(__name__)

CONTENT_TYPE = "video/mp2t"
# The current GOP's bytes are kept for joining viewers up to this size (a camera without
# keyframes for a long time must not grow memory); beyond it viewers wait for a keyframe.
MAX_GOP_BYTES = 16 * 1024 * 1024
# How often a waiting viewer checks that its client is still connected (a camera may send
# nothing for seconds: a low frame rate, a paused stream).
DISCONNECT_CHECK_S = 0.2


class TooManyViewers(Exception):
    """The camera already has its maximum number of restream viewers."""


@dataclass(frozen=True, slots=True)
class RawPacket:
    """One access unit of the camera's stream, as a packet viewer gets it (Annex B)."""

    data: bytes
    pts: int
    time_base: Fraction
    keyframe: bool


_START = b"\x00\x00\x00\x01"


def annexb_parameter_sets(extradata: bytes | None) -> bytes:
    """The SPS/PPS of H.264 extradata as Annex B bytes (from Annex B or avcC extradata)."""
    if not extradata:
        return b""
    if extradata[0] != 1:  # already Annex B (RTSP's sprop-parameter-sets)
        return bytes(extradata)
    # avcC: 5 header bytes, the SPS count (low 5 bits) and SPSs, the PPS count and PPSs, each
    # parameter set behind its 2-byte length.
    out, pos = bytearray(), 5
    for mask in (0x1F, 0xFF):
        if pos >= len(extradata):
            break
        count, pos = extradata[pos] & mask, pos + 1
        for _ in range(count):
            size = int.from_bytes(extradata[pos:pos + 2], "big")
            out += _START + extradata[pos + 2:pos + 2 + size]
            pos += 2 + size
    return bytes(out)


def _has_sps(data: bytes) -> bool:
    """Whether an Annex B access unit carries a sequence parameter set (NAL type 7)."""
    at = data.find(b"\x00\x00\x01")
    while at != -1 and at + 3 < len(data):
        if data[at + 3] & 0x1F == 7:
            return True
        at = data.find(b"\x00\x00\x01", at + 3)
    return False


class _Sink:
    """File-like target of the muxer: collects what one mux call wrote."""

    def __init__(self) -> None:
        self.data = bytearray()

    def write(self, chunk: bytes) -> int:
        self.data += chunk
        return len(chunk)

    def take(self) -> bytes:
        out = bytes(self.data)
        self.data.clear()
        return out


class _TsMuxer:
    """One MPEG-TS muxer over one camera session (source thread only)."""

    def __init__(self, template_stream: Any) -> None:
        self._sink = _Sink()
        # flush_packets: every mux call hands its bytes on now, so chunks follow packets.
        self._out = av.open(self._sink, "w", format="mpegts",
                            container_options={"flush_packets": "1"})
        self._stream = self._out.add_stream_from_template(template_stream)

    def mux(self, item: BufferedPacket) -> bytes:
        pkt = item.packet
        # Muxing rescales the packet in place; the clip writer relies on its own copy of the
        # timestamps, and so does this (BufferedPacket keeps the originals).
        pkt.time_base = item.time_base
        pkt.pts, pkt.dts = item.pts, item.dts
        pkt.stream = self._stream
        self._out.mux(pkt)
        return self._sink.take()

    def close(self) -> None:
        try:
            self._out.close()
        except Exception:  # noqa: BLE001 - nobody will read the trailer
            pass


T = TypeVar("T")


class Viewer(Generic[T]):
    """One client's queue of TS chunks or raw packets (event loop only)."""

    def __init__(self, max_lag_s: float, on_drop: Callable[[], None] | None = None) -> None:
        self.max_lag_s = max_lag_s
        self.on_drop = on_drop
        self.dropped = False
        self.ended = False
        self._started = False
        self._queue: deque[tuple[float, T]] = deque()
        self._ready = asyncio.Event()

    def offer(self, chunk: T, keyframe: bool, at: float) -> None:
        if self.ended:
            return
        if not self._started:
            if not keyframe:
                return  # a player can start only at a keyframe
            self._started = True
        self._queue.append((at, chunk))
        if at - self._queue[0][0] > self.max_lag_s:
            _LOGGER.info("restream viewer dropped: %.1f s behind the camera",
                         at - self._queue[0][0])
            self.dropped = True
            self.end()
            if self.on_drop is not None:
                self.on_drop()
            return
        self._ready.set()

    def end(self) -> None:
        self.ended = True
        self._ready.set()

    async def next_chunk(self, connected: Callable[[], bool] | None = None) -> T | None:
        """The next bytes to send; None once the stream has ended (or the viewer was dropped,
        or `connected` says its client went away: checked every DISCONNECT_CHECK_S while no
        bytes come, so a gone viewer's slot is freed before the camera's next packet)."""
        while not self._queue:
            if self.ended or (connected is not None and not connected()):
                return None
            self._ready.clear()
            try:
                await asyncio.wait_for(self._ready.wait(),
                                       DISCONNECT_CHECK_S if connected is not None else None)
            except TimeoutError:
                pass
        if self.dropped:
            return None
        return self._queue.popleft()[1]


class RestreamHub:
    """The viewers of one camera and the muxer that feeds them.

    ``join``/``leave`` run on the event loop; ``feed``/``session_ended`` on the source thread.
    """

    def __init__(self, camera: str, max_viewers: int = 4, max_lag_s: float = 5.0) -> None:
        self.camera = camera
        self.max_viewers = max_viewers
        self.max_lag_s = max_lag_s
        self.chunks_sent = 0  # chunks handed to the loop (for tests and the bench)
        self._lock = threading.Lock()
        self._viewers: set[Viewer[bytes]] = set()
        self._packet_viewers: set[Viewer[RawPacket]] = set()
        self._parameter_sets = b""
        self.codec: str | None = None  # the session's codec name (e.g. "h264")
        self._loop: asyncio.AbstractEventLoop | None = None
        self._muxer: _TsMuxer | None = None
        self._template: Any = None
        self._backlog: Callable[[], list[BufferedPacket]] | None = None
        self._live = False
        # Loop side: the current GOP's chunks since the muxer's latest keyframe.
        self._gop: list[bytes] | None = None
        self._gop_bytes = 0

    # --- event loop side -------------------------------------------------------------------
    @property
    def viewers(self) -> int:
        return len(self._viewers) + len(self._packet_viewers)

    def _add(self, viewers: set[Viewer[T]], on_drop: Callable[[], None] | None) -> Viewer[T]:
        if not self._live:
            raise ConnectionError("the camera is not streaming")
        with self._lock:
            if self.viewers >= self.max_viewers:
                raise TooManyViewers(
                    f"camera {self.camera} already has {self.max_viewers} live viewers")
            self._loop = asyncio.get_running_loop()
            viewer: Viewer[T] = Viewer(self.max_lag_s, on_drop)
            viewers.add(viewer)
        return viewer

    def join(self, on_drop: Callable[[], None] | None = None) -> Viewer[bytes]:
        """A viewer of the MPEG-TS restream, starting at the latest keyframe."""
        viewer = self._add(self._viewers, on_drop)
        now = time.monotonic()
        for i, chunk in enumerate(self._gop or []):  # start at the latest keyframe, now
            viewer.offer(chunk, i == 0, now)
        return viewer

    def join_packets(self, on_drop: Callable[[], None] | None = None) -> Viewer[RawPacket]:
        """A viewer of the raw packets (``RawPacket``), from the next keyframe on."""
        return self._add(self._packet_viewers, on_drop)

    def leave(self, viewer: Viewer[Any]) -> None:
        viewer.end()
        with self._lock:
            self._viewers.discard(viewer)
            self._packet_viewers.discard(viewer)

    def _deliver(self, chunk: bytes, keyframe: bool, at: float) -> None:
        if keyframe:
            self._gop, self._gop_bytes = [chunk], len(chunk)
        elif self._gop is not None:
            self._gop.append(chunk)
            self._gop_bytes += len(chunk)
            if self._gop_bytes > MAX_GOP_BYTES:
                self._gop = None
        for viewer in list(self._viewers):
            viewer.offer(chunk, keyframe, at)

    def _deliver_packet(self, packet: RawPacket, at: float) -> None:
        for viewer in list(self._packet_viewers):
            viewer.offer(packet, packet.keyframe, at)

    def _end_all(self) -> None:
        self._gop = None
        every: list[Viewer[Any]] = [*self._viewers, *self._packet_viewers]
        for viewer in every:
            viewer.end()

    # --- source thread side ----------------------------------------------------------------
    def session_started(self, template_stream: Any,
                        backlog: Callable[[], list[BufferedPacket]] | None = None) -> None:
        """A camera session delivers packets of ``template_stream`` from now on.

        ``backlog()`` gives the packets of the current GOP (the newest one fed included).
        """
        self._close_muxer()
        self._template = template_stream
        self._backlog = backlog
        context = template_stream.codec_context
        self.codec = context.name
        self._parameter_sets = (annexb_parameter_sets(context.extradata)
                                if self.codec == "h264" else b"")
        self._live = True

    def session_ended(self) -> None:
        """The camera session is over: every viewer's stream ends."""
        self._live = False
        self._close_muxer()
        self._template = None
        self._post(self._end_all)

    def feed(self, item: BufferedPacket) -> None:
        """Mux one packet for the viewers (nothing to do while nobody watches)."""
        if self._packet_viewers:
            self._post(self._deliver_packet, self._raw(item), time.monotonic())
        if not self._viewers:
            self._close_muxer()
            return
        items = [item]
        if self._muxer is None:
            if self._backlog is not None:
                items = self._backlog() or items  # the current GOP: no wait for a keyframe
            if not items[0].keyframe or self._template is None:
                return
            self._muxer = _TsMuxer(self._template)
        try:
            chunk = b"".join(self._muxer.mux(each) for each in items)
        except Exception as err:  # noqa: BLE001 - a broken restream must not stop recording
            _LOGGER.warning("camera %s: restream mux failed: %s", self.camera, err)
            self._close_muxer()
            self._post(self._end_all)
            return
        if chunk:
            self.chunks_sent += 1
            self._post(self._deliver, chunk, items[0].keyframe, time.monotonic())

    def _raw(self, item: BufferedPacket) -> RawPacket:
        data = bytes(item.packet)  # a copy: the packet goes on to the muxer and the clip
        if item.keyframe and self._parameter_sets and not _has_sps(data):
            data = self._parameter_sets + data
        return RawPacket(data, item.pts, item.time_base, item.keyframe)

    def _forget_gop(self) -> None:
        self._gop = None  # a new muxer: the old one's bytes do not continue into its stream

    def _close_muxer(self) -> None:
        muxer, self._muxer = self._muxer, None
        if muxer is not None:
            muxer.close()
            self._post(self._forget_gop)

    def _post(self, callback: Callable[..., None], *args: Any) -> None:
        post(self._loop, callback, *args)
