"""RTSP camera source: PyAV decode at low cost, motion detection, clips remuxed with pre/post-roll.

A worker thread per stream connects, demuxes and reconnects with exponential backoff. The main
stream's packets go into a ring for pre-roll and are remuxed (never re-encoded) into a clip from
``pre_roll_s`` before motion to ``post_roll_s`` after it. Motion detection runs on the cheap
analysis decode (analysis.py) of either the main stream itself or, when ``analysis_url`` /
``analysis_url_env`` is set, a low-resolution substream of the same camera, as NVRs do: then the
main stream is only demuxed, and a second thread decodes the substream and hands motion over
through a :class:`MotionLink`. The camera is healthy while every configured stream delivers
pictures (:class:`PictureWatch`): one that stays connected with none for
``undecodable_timeout_s`` (garbage, a frame that never completes) is logged, shown as the
camera's error and reconnected.
The newest frame of that analysis decode is the live picture (``live_frame()``), and the main
stream's packets also feed the restream (restream.py) while anyone watches: snapshots, viewers,
recording and analysis all share the one connection per stream.
Nothing blocking touches the event loop; ``stop()`` joins the threads.
"""

from __future__ import annotations

import asyncio
import logging
import os
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import av

from ..records import ClipFile, new_clip_id, utcnow
from .analysis import AnalysisDecoder, LagMeter, MotionLink, PictureWatch, analysis_gray
from .base import ClipSource, safe_name
from .credentials import Scrubber, parse_camera_url
from .live import LatestFrame, LiveFrame
from .motion import MotionDetector, MotionUpdate
from .recording import BufferedPacket, ClipWriter, PacketRing, wall_time
from .restream import RestreamHub

_LOGGER = logging.getLogger(__name__)

MAIN, ANALYSIS = "main", "analysis"  # the two stream roles
# Past these the camera is degraded: recordings lag live, or motion sees too few frames.
LAG_DEGRADED_S = 3.0
DROPPED_DEGRADED = 0.5


def redact_url(url: str) -> str:
    """The URL without user info and with password parameters masked, for logs."""
    return parse_camera_url(url).shown


class RtspSource(ClipSource):
    """``rtsp`` backend.

    Config: ``url`` or ``url_env`` (name of an env var holding a URL with credentials),
    optional ``analysis_url`` or ``analysis_url_env`` (substream used for motion only),
    ``analysis_width`` (320), ``analysis_fps`` (5), ``sensitivity`` 0..1 (0.5),
    ``min_motion_s`` (0.5), ``pre_roll_s`` (2), ``post_roll_s`` (3), ``max_clip_s`` (60),
    ``reconnect_max_backoff_s`` (30), ``rtsp_transport`` tcp|udp (tcp); advanced:
    ``open_timeout_s`` (10), ``read_timeout_s`` (5), ``undecodable_timeout_s`` (15),
    ``decoder_threads`` (1),
    ``restream_max_viewers`` (4), ``restream_max_lag_s`` (5).
    """

    live_picture = True
    live_stream = True

    def __init__(self, camera: str, config: Mapping[str, Any], work_dir: Path) -> None:
        super().__init__(camera, config, work_dir)
        c = self.config
        self.analysis_width = int(c.get("analysis_width", 320))
        self.analysis_fps = float(c.get("analysis_fps", 5.0))
        self.live_fps = float(c.get("live_fps", 5.0))
        self.live_follow_fps = float(c.get("live_follow_fps", 1.0))
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
        # Connected but no picture this long (garbage, a frame never completed): reconnect.
        self.undecodable_timeout_s = float(c.get("undecodable_timeout_s", 15.0))
        self._connected: dict[str, float] = {}  # role -> when its connection was opened
        self._threads: list[threading.Thread] = []
        self._stopping = threading.Event()
        self._urls: dict[str, str] = {}
        self._scrub = Scrubber()
        self._up: dict[str, bool] = {}
        self._health_lock = threading.Lock()
        self._link = MotionLink()
        self._lags = {MAIN: LagMeter(), ANALYSIS: LagMeter()}
        self._latest = LatestFrame()
        self._restream = RestreamHub(camera, int(c.get("restream_max_viewers", 4)),
                                     float(c.get("restream_max_lag_s", 5.0)))
        self.restream = self._restream
        # Analysis state (touched only by the thread that decodes for motion).
        self._detector = MotionDetector(self.sensitivity, self.min_motion_s)
        self._decoder: AnalysisDecoder | None = None
        # Recording state (touched only by the main stream's thread).
        gap = self._detector.gap_tolerance_s
        self._ring = PacketRing(keep_s=self.pre_roll_s + self.min_motion_s + gap + 1.0)
        self._writer: ClipWriter | None = None
        self._template: Any = None
        self._anchor: tuple[Any, float] | None = None
        self._last_motion = 0.0
        self._clip_run: float | None = None
        self._clip_id: str | None = None  # of the clip being written (its live event's key)
        # Live detection from motion onset: the id reserved for the current motion run's clip
        # (run start in analysis time, id, claimed by a clip), set by the analysis thread.
        self._pending: tuple[float, str, bool] | None = None
        self._pending_lock = threading.Lock()

    def set_motion_masks(self, masks: Sequence[Mapping[str, Any]]) -> None:
        super().set_motion_masks(masks)
        self._detector.masks = list(self.motion_masks)

    @property
    def uses_substream(self) -> bool:
        return ANALYSIS in self._urls

    def lag_s(self) -> float | None:
        """How far behind live the slowest stream is processed (None before streaming)."""
        if not self._healthy:
            return None
        return round(max(self._lags[role].lag_s for role in self._urls), 2)

    def analysis_dropped(self) -> float | None:
        """Share of recent analysis frames dropped to keep up (0..1; None before analysing)."""
        decoder = self._decoder
        return None if decoder is None or not self._healthy else round(decoder.dropped_share, 3)

    def degraded_reason(self) -> str | None:
        lag, dropped = self.lag_s(), self.analysis_dropped()
        if lag is not None and lag > LAG_DEGRADED_S:
            return f"falling behind live by {lag:.1f} s"
        if dropped is not None and dropped > DROPPED_DEGRADED:
            return f"too slow: motion analysis skips {dropped:.0%} of its frames"
        return None

    def live_frame(self) -> LiveFrame | None:
        """The newest analysis frame (the substream's, when one is configured)."""
        return self._latest.get()

    # --- lifecycle -------------------------------------------------------------------------
    def _resolve_url(self, key: str, env_key: str) -> str | None:
        if self.config.get(key):
            return str(self.config[key])
        env = self.config.get(env_key)
        if env:
            value = os.environ.get(str(env))
            if not value:
                raise ValueError(f"camera {self.camera}: environment variable {env} is not set")
            return value
        return None

    async def _start(self) -> None:
        main = self._resolve_url("url", "url_env")
        if main is None:
            raise ValueError(f"camera {self.camera}: rtsp source needs `url` or `url_env`")
        given = {MAIN: main}
        sub = self._resolve_url("analysis_url", "analysis_url_env")
        if sub is not None:
            given[ANALYSIS] = sub
        self._scrub = Scrubber(*given.values())
        # Credentials percent-encoded, whatever characters the password holds.
        self._urls = {role: parse_camera_url(url).for_ffmpeg for role, url in given.items()}
        self._up = dict.fromkeys(self._urls, False)
        self._stopping.clear()
        sessions: dict[str, Callable[[str], bool]] = {
            MAIN: self._main_session, ANALYSIS: self._analysis_session,
        }
        for role, url in self._urls.items():
            thread = threading.Thread(
                target=self._run, args=(role, url, sessions[role]),
                name=f"homesec-rtsp-{role}-{self.camera}", daemon=True,
            )
            self._threads.append(thread)
            thread.start()

    async def _stop(self) -> None:
        self._stopping.set()
        threads, self._threads = self._threads, []
        for thread in threads:
            await asyncio.to_thread(thread.join)
        if self.live is not None:
            await asyncio.to_thread(self.live.stop)

    def _stream_up(self, role: str, up: bool) -> None:
        """One stream's state changed or delivered; health covers every configured stream."""
        with self._health_lock:
            self._up[role] = up
            healthy = all(self._up.values())
            if healthy:
                self._beat()  # before the health callback, which may read the heartbeat
            self._set_health(healthy)

    # --- worker threads ----------------------------------------------------------------------
    def _run(self, role: str, url: str, session: Callable[[str], bool]) -> None:
        """Connect, run one session, reconnect with exponential backoff, until stopped."""
        label = "stream" if role == MAIN else "analysis stream"
        backoff = 1.0
        while not self._stopping.is_set():
            got_packets = False
            try:
                self._connected[role] = time.monotonic()
                got_packets = session(url)
                if not self._stopping.is_set():
                    _LOGGER.warning("camera %s: %s ended", self.camera, label)
            except Exception as err:  # network, demux, decoder: all mean "reconnect"
                message = self._scrub(error_text(err))
                _LOGGER.warning("camera %s: %s error: %s", self.camera, label, message)
                self._set_error(f"{label} error: {message}")
            finally:
                if role == MAIN:  # the stream is gone: a live event in progress is cut off
                    self._finish_clip(interrupted=not self._stopping.is_set())
                    self._restream.session_ended()
            self._stream_up(role, False)
            if got_packets:
                backoff = 1.0
            if self._stopping.wait(backoff):
                break
            backoff = min(backoff * 2, self.max_backoff_s)

    def _open(self, url: str) -> Any:
        options = {
            "rtsp_transport": self.transport,
            "analyzeduration": "1000000",  # SDP carries the parameters; connect fast
            "max_delay": "500000",
        }
        return av.open(url, options=options, timeout=(self.open_timeout_s, self.read_timeout_s))

    def _packets(self, container: Any, role: str, connected: float) -> Any:
        """The video stream and a generator of its usable packets (stops when stopping).

        The stream is up while it yields pictures (PictureWatch); one that stays connected
        without any for `undecodable_timeout_s` since `connected` raises StreamUnusable.
        """
        if not container.streams.video:
            raise RuntimeError("no video stream")
        stream = container.streams.video[0]
        lag = self._lags[role]
        lag.reset()
        decoded = role == ANALYSIS or not self.uses_substream
        watch = PictureWatch(self.undecodable_timeout_s,
                             (lambda: self._decoder) if decoded else None, connected)

        def gen() -> Any:
            for packet in container.demux(stream):
                if self._stopping.is_set():
                    break
                usable = packet.size > 0 and (packet.pts is not None or packet.dts is not None)
                if watch.packet(usable):
                    self._stream_up(role, True)
                if not usable:
                    continue
                lag.update(_packet_time(packet, stream.time_base))
                yield packet

        return stream, gen()

    def _start_analysis(self, stream: Any) -> None:
        self._latest.clear()  # a picture from before the reconnect is not live
        self._decoder = AnalysisDecoder(stream.codec_context, self.analysis_fps,
                                        self.decoder_threads, self._latest)
        self._detector.reset()
        self._track_run(None)  # the run before the reconnect is over

    def _track_run(self, run_start: float | None) -> str | None:
        """Keep the reserved id in step with the motion run; the id to detect on, if unclaimed.

        Called by the analysis thread. A run that ends before a clip claims its id is
        discarded (its live findings are never reported).
        """
        if self.live is None:
            return None
        with self._pending_lock:
            pending = self._pending
            if pending is not None and pending[0] == run_start:
                return None if pending[2] else pending[1]
            if pending is not None and not pending[2]:
                self.live.discard(pending[1])
            self._pending = None
            if run_start is None or self._clip_id is not None:
                return None  # no run, or a clip records it already
            clip_id = new_clip_id()
            self._pending = (run_start, clip_id, False)
        self.live.watch(clip_id)
        return clip_id

    def _claim_run(self, run_id: float | None) -> str:
        """The id for a clip opened by the motion run `run_id`: the one its watch started on."""
        with self._pending_lock:
            pending = self._pending
            if pending is not None and run_id is not None and pending[0] == run_id \
                    and not pending[2]:
                self._pending = (pending[0], pending[1], True)
                return pending[1]
        return new_clip_id()

    def _main_session(self, url: str) -> bool:
        """One connection to the main stream: demux (and, without substream, analyse)."""
        got = False
        with self._open(url) as container:
            stream, packets = self._packets(container, MAIN, self._connected[MAIN])
            if not self.uses_substream:
                self._start_analysis(stream)
            self._template = stream
            self._ring.clear()
            self._anchor = None
            self._clip_run = None  # motion still going on after a reconnect gets a new clip
            self._link.main_restarted()
            self._restream.session_started(stream, self._ring.latest_gop)
            for packet in packets:
                got = True
                self._on_packet(packet, stream.time_base)
        return got

    def _analysis_session(self, url: str) -> bool:
        """One connection to the analysis substream: decode for motion, hand it to the main."""
        got = False
        with self._open(url) as container:
            stream, packets = self._packets(container, ANALYSIS, self._connected[ANALYSIS])
            self._start_analysis(stream)
            self._link.analysis_restarted()
            for packet in packets:
                got = True
                t = _packet_time(packet, stream.time_base)
                self._link.analysis_packet(t)
                for ft, update in self._analyse(packet, t, stream.time_base, ANALYSIS):
                    self._link.publish(update)
        return got

    def _analyse(self, packet: Any, t: float, time_base: Any,
                 role: str = MAIN) -> list[tuple[float, MotionUpdate]]:
        """Decode one packet cheaply; motion updates for the frames due for analysis.

        While the stream is processed late, frames are dropped from analysis (never from the
        recording) until it has caught up.
        """
        assert self._decoder is not None
        behind = self._lags[role].behind
        out = []
        for ft, frame in self._decoder.decode(packet, t, time_base, behind):
            update = self._detector.update(analysis_gray(frame, self.analysis_width), ft)
            out.append((ft, update))
            onset_id = self._track_run(update.run_start)
            clip_id = self._clip_id or onset_id
            if self.live is not None and clip_id is not None:
                self.live.offer(clip_id, ft, frame)  # paced there; never blocks
        return out

    def _on_packet(self, packet: Any, time_base: Any) -> None:
        pts = packet.pts if packet.pts is not None else packet.dts
        dts = packet.dts if packet.dts is not None else pts
        t = float(pts * time_base)
        if self._anchor is None:
            self._anchor = (utcnow(), t)
        item = BufferedPacket(packet, pts, dts, time_base, t, bool(packet.is_keyframe))
        self._ring.append(item)
        writer = self._writer
        if self.uses_substream:
            self._link.main_packet(t)
            state = self._link.snapshot()
            if state is not None:
                self._on_motion(state[0], t, state[1])
        else:
            # Decode before muxing: muxing re-targets the packet at the output stream.
            for ft, update in self._analyse(packet, t, time_base):
                self._on_motion(update, ft, update.run_start)
        # A clip opened while handling this packet already took it from the ring.
        if writer is not None and self._writer is writer:
            writer.write(item)
        self._restream.feed(item)

    def _on_motion(self, update: MotionUpdate, t: float, run_id: float | None) -> None:
        """Apply motion state (in main-stream time) at main-stream time ``t``.

        ``run_id`` identifies the motion run, so one run opens one clip.
        """
        if update.last_motion is not None:
            self._last_motion = update.last_motion
        if self._writer is None:
            if update.confirmed and update.run_start is not None and run_id != self._clip_run:
                self._clip_run = run_id
                self._open_clip(self._ring.since(update.run_start - self.pre_roll_s),
                                self._claim_run(run_id))
            return
        if t - self._last_motion >= self.post_roll_s:
            self._finish_clip()
        elif self._writer.duration_s >= self.max_clip_s:
            self._finish_clip()
            self._open_clip(self._ring.latest_gop())  # motion goes on: continue in a new clip

    def _open_clip(self, items: list[BufferedPacket], clip_id: str | None = None) -> None:
        """Open a clip of `items`; `clip_id`: the id its live watch already detects under."""
        if not items or self._anchor is None:
            if self.live is not None and clip_id is not None:
                self.live.discard(clip_id)
            return
        start = wall_time(self._anchor[0], self._anchor[1], items[0].t)
        clip_id = clip_id or new_clip_id()
        self._writer = ClipWriter(self.work_dir, safe_name(self.camera), self._template, clip_id)
        for item in items:
            self._writer.write(item)
        self._clip_id = clip_id
        if self.live is not None:
            self.live.begin(self._clip_id, start)

    def _finish_clip(self, interrupted: bool = False) -> None:
        writer, self._writer = self._writer, None
        clip_id, self._clip_id = self._clip_id, None
        if writer is None:
            return
        if self.live is not None and clip_id is not None:
            self.live.end(clip_id, interrupted)
        try:
            path = writer.close()
        except Exception:
            _LOGGER.exception("camera %s: could not finish clip", self.camera)
            return
        if path is None or self._anchor is None or writer.first_t is None:
            return
        started = wall_time(self._anchor[0], self._anchor[1], writer.first_t)
        ended = wall_time(self._anchor[0], self._anchor[1], writer.first_t + writer.duration_s)
        # DEBUG: the pipeline logs the one INFO line per clip (with its id and decision).
        _LOGGER.debug("camera %s: clip %s (%.1f s)", self.camera, path.name, writer.duration_s)
        self._emit_clip(ClipFile(self.camera, path, started, ended, clip_id=clip_id))


def error_text(err: BaseException) -> str:
    """An FFmpeg or socket error in words: its message and what it failed on, without the
    errno number FFmpeg's codes make meaningless (``[Errno 825242872]``)."""
    reason = getattr(err, "strerror", None)
    if not reason:
        return str(err)
    filename = getattr(err, "filename", None)
    return f"{reason}: '{filename}'" if filename else str(reason)


def _packet_time(packet: Any, time_base: Any) -> float:
    pts = packet.pts if packet.pts is not None else packet.dts
    return float(pts * time_base)
