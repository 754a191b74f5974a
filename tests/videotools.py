"""Make real test video: scripted frames, H.264 files and a loopback RTSP server.

Shared by every test folder (and ``bench/``). Nothing here is mocked: files are encoded with
PyAV/libx264 and the RTSP server speaks real RTSP/RTP (RFC 2326 / RFC 6184, interleaved over
TCP), so the engine's PyAV client reads it exactly like a camera.

Typical use::

    from tests.videotools import Segment, scripted_frames, write_h264, RtspTestServer

    frames = scripted_frames(320, 240, fps=10, duration_s=12, segments=[Segment(2, 4)])
    write_h264(tmp_path / "cam.mp4", frames, fps=10, gop=10)
    with RtspTestServer(tmp_path / "cam.mp4") as server:
        ...  # point an rtsp source at server.url; server.stop() / server.start() simulate outages

The server is the engine's own (homesec_engine/demo/rtsp_server.py, which the demo camera
uses); :class:`RtspTestServer` runs it as a child process that a test can kill.
"""

from __future__ import annotations

import base64
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import av
import numpy as np

from homesec_engine.demo.rtsp_server import AUTH_ENV

# --------------------------------------------------------------------------------------------
# Synthetic frames
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Segment:
    """A time span [start_s, end_s) during which the scripted object is visible and moving."""

    start_s: float
    end_s: float


def background(width: int, height: int, seed: int = 7) -> np.ndarray:
    """A static, textured RGB background (smooth gradient plus fixed blotches), uint8 HxWx3."""
    rng = np.random.default_rng(seed)
    y = np.linspace(0, 1, height, dtype=np.float32)[:, None]
    x = np.linspace(0, 1, width, dtype=np.float32)[None, :]
    base = 60 + 50 * x + 30 * y
    img = np.repeat(base[:, :, None], 3, axis=2)
    img[:, :, 1] += 10
    for _ in range(12):  # static texture the encoder has to carry, like a real scene
        cx, cy = rng.integers(0, width), rng.integers(0, height)
        r = int(rng.integers(max(2, width // 40), max(3, width // 10)))
        img[max(0, cy - r) : cy + r, max(0, cx - r) : cx + r] += rng.integers(-25, 25, size=3)
    return np.clip(img, 0, 255).astype(np.uint8)


def object_box(
    t: float, segment: Segment, width: int, height: int
) -> tuple[int, int, int, int]:
    """Where the scripted object is at time t inside a segment: (x, y, w, h) in pixels.

    It crosses the frame from left to right at constant speed, fully inside the frame.
    """
    w, h = max(4, width // 8), max(8, height // 3)
    progress = (t - segment.start_s) / max(1e-6, segment.end_s - segment.start_s)
    x = int(progress * (width - w))
    y = (height - h) // 2
    return x, y, w, h


def scripted_frames(
    width: int,
    height: int,
    fps: int,
    duration_s: float,
    segments: Sequence[Segment] = (),
    noise: float = 0.0,
    color: tuple[int, int, int] = (230, 230, 40),
    seed: int = 7,
) -> Iterator[np.ndarray]:
    """Yield RGB frames: a static scene, with a moving object only during ``segments``.

    ``noise`` is the standard deviation of per-frame Gaussian sensor noise (0 = none); it makes
    the stream cost what a real camera's does without creating motion.
    """
    bg = background(width, height, seed)
    rng = np.random.default_rng(seed + 1)
    # Pre-draw a few noise fields and cycle them: realistic cost, cheap to generate.
    noise_fields = (
        [rng.normal(0, noise, size=bg.shape).astype(np.int16) for _ in range(8)] if noise else []
    )
    for i in range(round(duration_s * fps)):
        t = i / fps
        frame = bg.copy()
        for seg in segments:
            if seg.start_s <= t < seg.end_s:
                x, y, w, h = object_box(t, seg, width, height)
                frame[y : y + h, x : x + w] = color
        if noise_fields:
            noisy = frame.astype(np.int16) + noise_fields[i % len(noise_fields)]
            frame = np.clip(noisy, 0, 255).astype(np.uint8)
        yield frame


def write_h264(
    path: Path,
    frames: Iterable[np.ndarray],
    fps: int,
    gop: int | None = None,
    preset: str = "veryfast",
    crf: int = 23,
    bit_rate: int | None = None,
) -> Path:
    """Encode RGB frames to an H.264 file (container from the suffix: .mp4, .mkv, ...).

    Camera-like settings: no B-frames, fixed GOP of ``gop`` frames (default one second) and no
    scene-cut keyframes, so keyframe positions are predictable in tests. ``bit_rate`` (bit/s)
    replaces constant quality with an average bitrate, e.g. to mimic a camera's 4 Mbit/s.
    """
    gop = gop or fps
    path = Path(path)
    with av.open(str(path), "w") as out:
        stream = out.add_stream("libx264", rate=fps)
        stream.pix_fmt = "yuv420p"
        stream.codec_context.gop_size = gop
        stream.options = {
            "preset": preset,
            "bf": "0",
            "x264-params": f"scenecut=0:keyint={gop}:min-keyint={gop}",
        }
        if bit_rate:
            stream.bit_rate = bit_rate
        else:
            stream.options["crf"] = str(crf)
        first = True
        for frame in frames:
            if first:
                stream.height, stream.width = frame.shape[:2]
                first = False
            vf = av.VideoFrame.from_ndarray(frame, format="rgb24")
            out.mux(stream.encode(vf))
        out.mux(stream.encode(None))
    return path


def make_motion_video(
    path: Path,
    segments: Sequence[Segment],
    duration_s: float,
    width: int = 320,
    height: int = 240,
    fps: int = 10,
    gop: int | None = None,
) -> Path:
    """Shortcut: a scripted scene with moving-object ``segments`` written to an H.264 file."""
    frames = scripted_frames(width, height, fps, duration_s, segments)
    return write_h264(path, frames, fps=fps, gop=gop)


@dataclass(frozen=True, slots=True)
class VideoInfo:
    duration_s: float
    frames: int
    width: int
    height: int
    keyframes: int


def probe_video(path: Path) -> VideoInfo:
    """Read a file back with PyAV: duration from packet timestamps, decoded frame count, size.

    Decodes every frame, so a file that does not play raises.
    """
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        tb = stream.time_base
        pts: list[int] = []
        keyframes = frames = 0
        for packet in container.demux(stream):
            if packet.pts is not None:
                pts.append(packet.pts)
                keyframes += bool(packet.is_keyframe)
            frames += len(packet.decode())  # the final empty packet flushes the decoder
        if not pts:
            return VideoInfo(0.0, 0, stream.width, stream.height, 0)
        rate = stream.average_rate or stream.guessed_rate or Fraction(10)
        duration = float((max(pts) - min(pts)) * tb) + float(1 / rate)
        return VideoInfo(duration, frames, stream.width, stream.height, keyframes)


def free_port() -> int:
    """A TCP port on 127.0.0.1 that is free right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


# --------------------------------------------------------------------------------------------
# The engine's RTSP server (homesec_engine/demo/rtsp_server.py), run as a child process
# --------------------------------------------------------------------------------------------


class RtspTestServer:
    """Serve an H.264 file as a live RTSP stream at ``rtsp://127.0.0.1:<port>/cam``.

    Runs in a child process (the test kills it to simulate a camera outage). Every client that
    sends PLAY gets the file from its start, paced in real time times ``speed``; after the end the
    connection stays open and silent unless ``loop`` is set. ``stop()`` kills the process (the
    client sees the connection drop); ``start()`` again serves on the same port.
    """

    def __init__(
        self, path: Path, port: int | None = None, speed: float = 1.0, loop: bool = False,
        auth: tuple[str, str] | None = None,
    ) -> None:
        self.path = Path(path)
        self.port = port or free_port()
        self.speed = speed
        self.loop = loop
        self.auth = auth  # (user, password) required with Basic auth, as cameras do
        self._proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"rtsp://127.0.0.1:{self.port}/cam"

    def start(self, timeout: float = 10.0) -> None:
        args = [sys.executable, "-m", "homesec_engine.demo.rtsp_server", "serve", str(self.path)]
        args += [str(self.port), "--speed", str(self.speed)] + (["--loop"] if self.loop else [])
        env = dict(os.environ)
        if self.auth:  # in the environment, not argv: passwords may hold any character
            env[AUTH_ENV] = base64.b64encode(":".join(self.auth).encode()).decode()
        self._proc = subprocess.Popen(args, stdin=subprocess.DEVNULL, env=env)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._proc.poll() is not None:
                raise RuntimeError(f"RTSP test server exited with {self._proc.returncode}")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.2):
                    return
            except OSError:
                time.sleep(0.05)
        self.stop()
        raise TimeoutError("RTSP test server did not start listening")

    def stop(self) -> None:
        if self._proc is not None:
            self._proc.kill()
            self._proc.wait(timeout=10)
            self._proc = None

    def __enter__(self) -> RtspTestServer:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()
