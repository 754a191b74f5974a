"""RTSP camera source: PyAV decode at low cost, motion detection, clips remuxed with pre/post-roll.

One worker thread per camera connects, demuxes, keeps a packet ring for pre-roll, decodes every
video packet with the cheap analysis decoder, runs frame-difference motion detection and remuxes
the original packets into a clip from ``pre_roll_s`` before motion to ``post_roll_s`` after it.
Connection loss marks the camera unhealthy and reconnects with exponential backoff. Nothing
blocking touches the event loop; ``stop()`` joins the thread.
"""

from __future__ import annotations

import asyncio
import logging
import os
import threading
from collections.abc import Mapping
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import av

from ..records import ClipFile, utcnow
from .analysis import analysis_gray, configure_analysis_decoder
from .base import ClipSource, safe_name
from .motion import MotionDetector, MotionUpdate
from .recording import BufferedPacket, ClipWriter, PacketRing, wall_time

_LOGGER = logging.getLogger(__name__)


def redact_url(url: str) -> str:
    """The URL without user/password, for logs."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return "<invalid url>"
    host = parts.hostname or ""
    if parts.port:
        host = f"{host}:{parts.port}"
    return urlunsplit((parts.scheme, host, parts.path, "", ""))


class RtspSource(ClipSource):
    """``rtsp`` backend.

    Config: ``url`` or ``url_env`` (name of an env var holding a URL with credentials),
    ``analysis_width`` (320), ``sensitivity`` 0..1 (0.5), ``min_motion_s`` (0.5),
    ``pre_roll_s`` (2), ``post_roll_s`` (3), ``max_clip_s`` (60), ``reconnect_max_backoff_s``
    (30), ``rtsp_transport`` tcp|udp (tcp); advanced: ``open_timeout_s`` (10),
    ``read_timeout_s`` (5), ``decoder_threads`` (1).
    """

    def __init__(self, camera: str, config: Mapping[str, Any], work_dir: Path) -> None:
        super().__init__(camera, config, work_dir)
        c = self.config
        self.analysis_width = int(c.get("analysis_width", 320))
        self.sensitivity = float(c.get("sensitivity", 0.5))
        self.min_motion_s = float(c.get("min_motion_s", 0.5))
        self.pre_roll_s = float(c.get("pre_roll_s", 2.0))
        self.post_roll_s = float(c.get("post_roll_s", 3.0))
        self.max_clip_s = float(c.get("max_clip_s", 60))
        self.max_backoff_s = float(c.get("reconnect_max_backoff_s", 30))
        self.transport = str(c.get("rtsp_transport", "tcp"))
        self.open_timeout_s = float(c.get("open_timeout_s", 10.0))
        # How long a silent connection is tolerated; also bounds stop() on a frozen stream.
        self.read_timeout_s = float(c.get("read_timeout_s", 5.0))
        self.decoder_threads = int(c.get("decoder_threads", 1))
        self._thread: threading.Thread | None = None
        self._stopping = threading.Event()
        self._url = ""
        # Worker-thread state (touched only by the worker).
        self._detector = MotionDetector(self.sensitivity, self.min_motion_s)
        gap = self._detector.gap_tolerance_s
        self._ring = PacketRing(keep_s=self.pre_roll_s + self.min_motion_s + gap + 1.0)
        self._writer: ClipWriter | None = None
        self._template: Any = None
        self._decoder: Any = None
        self._anchor: tuple[Any, float] | None = None
        self._last_motion = 0.0
        self._clip_run: float | None = None

    # --- lifecycle -------------------------------------------------------------------------
    def _resolve_url(self) -> str:
        if self.config.get("url"):
            return str(self.config["url"])
        env = self.config.get("url_env")
        if env:
            value = os.environ.get(str(env))
            if not value:
                raise ValueError(f"camera {self.camera}: environment variable {env} is not set")
            return value
        raise ValueError(f"camera {self.camera}: rtsp source needs `url` or `url_env`")

    async def _start(self) -> None:
        self._url = self._resolve_url()
        self._stopping.clear()
        self._thread = threading.Thread(
            target=self._run, name=f"homesec-rtsp-{self.camera}", daemon=True
        )
        self._thread.start()

    async def _stop(self) -> None:
        self._stopping.set()
        if self._thread is not None:
            await asyncio.to_thread(self._thread.join)
            self._thread = None

    # --- worker thread -----------------------------------------------------------------------
    def _run(self) -> None:
        backoff = 1.0
        while not self._stopping.is_set():
            got_packets = False
            try:
                got_packets = self._session()
                if not self._stopping.is_set():
                    _LOGGER.warning("camera %s: stream ended", self.camera)
            except Exception as err:  # network, demux, decoder: all mean "reconnect"
                message = str(err).replace(self._url, redact_url(self._url))
                _LOGGER.warning("camera %s: stream error: %s", self.camera, message)
            finally:
                self._finish_clip()
            self._set_health(False)
            if got_packets:
                backoff = 1.0
            if self._stopping.wait(backoff):
                break
            backoff = min(backoff * 2, self.max_backoff_s)

    def _session(self) -> bool:
        """One connection: demux until end/stop. Returns whether any packet arrived."""
        options = {
            "rtsp_transport": self.transport,
            "analyzeduration": "1000000",  # SDP carries the parameters; connect fast
            "max_delay": "500000",
        }
        got = False
        with av.open(
            self._url, options=options, timeout=(self.open_timeout_s, self.read_timeout_s)
        ) as container:
            if not container.streams.video:
                raise RuntimeError("no video stream")
            stream = container.streams.video[0]
            configure_analysis_decoder(stream.codec_context, self.decoder_threads)
            self._template = stream
            self._decoder = stream.codec_context
            self._detector.reset()
            self._ring.clear()
            self._anchor = None
            for packet in container.demux(stream):
                if self._stopping.is_set():
                    break
                if packet.size == 0 or (packet.pts is None and packet.dts is None):
                    continue
                got = True
                self._on_packet(packet, stream.time_base)
        return got

    def _on_packet(self, packet: Any, time_base: Any) -> None:
        pts = packet.pts if packet.pts is not None else packet.dts
        dts = packet.dts if packet.dts is not None else pts
        t = float(pts * time_base)
        if self._anchor is None:
            self._anchor = (utcnow(), t)
        self._beat()
        self._set_health(True)
        item = BufferedPacket(packet, pts, dts, time_base, t, bool(packet.is_keyframe))
        self._ring.append(item)
        writer = self._writer
        # Decode before muxing: muxing re-targets the packet at the output stream.
        try:
            frames = self._decoder.decode(packet)
        except av.error.InvalidDataError:
            frames = []  # a damaged packet: skip its picture, keep the stream
        for frame in frames:
            ft = float(frame.pts * time_base) if frame.pts is not None else t
            self._on_motion(self._detector.update(analysis_gray(frame, self.analysis_width), ft), ft)
        # A clip opened while handling this packet already took it from the ring.
        if writer is not None and self._writer is writer:
            writer.write(item)

    def _on_motion(self, update: MotionUpdate, t: float) -> None:
        if update.last_motion is not None:
            self._last_motion = update.last_motion
        if self._writer is None:
            if update.confirmed and update.run_start is not None and update.run_start != self._clip_run:
                self._clip_run = update.run_start
                self._open_clip(self._ring.since(update.run_start - self.pre_roll_s))
            return
        if t - self._last_motion >= self.post_roll_s:
            self._finish_clip()
        elif self._writer.duration_s >= self.max_clip_s:
            self._finish_clip()
            self._open_clip(self._ring.latest_gop())  # motion goes on: continue in a new clip

    def _open_clip(self, items: list[BufferedPacket]) -> None:
        if not items or self._anchor is None:
            return
        start = wall_time(self._anchor[0], self._anchor[1], items[0].t)
        self._writer = ClipWriter(self.work_dir, safe_name(self.camera), self._template, start)
        for item in items:
            self._writer.write(item)

    def _finish_clip(self) -> None:
        writer, self._writer = self._writer, None
        if writer is None:
            return
        try:
            path = writer.close()
        except Exception:
            _LOGGER.exception("camera %s: could not finish clip", self.camera)
            return
        if path is None or self._anchor is None or writer.first_t is None:
            return
        started = wall_time(self._anchor[0], self._anchor[1], writer.first_t)
        ended = wall_time(self._anchor[0], self._anchor[1], writer.first_t + writer.duration_s)
        _LOGGER.info("camera %s: clip %s (%.1f s)", self.camera, path.name, writer.duration_s)
        self._emit_clip(ClipFile(self.camera, path, started, ended))
