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

The file is also a script: ``python tests/videotools.py serve FILE PORT`` runs the server in the
foreground (that is how :class:`RtspTestServer` runs it, as a child process that a test can kill).
"""

from __future__ import annotations

import argparse
import base64
import os
import random
import socket
import struct
import subprocess
import sys
import threading
import time
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import av
import numpy as np

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
# RTSP server (RTP/H.264 over interleaved TCP), run as a child process
# --------------------------------------------------------------------------------------------


# When set, the server appends the wall time (time.time()) at which each client's stream time
# 0 was sent to the file it names: a benchmark maps stream times to wall times with it.
PLAY_LOG_ENV = "HOMESEC_RTSP_PLAY_LOG"


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
        args = [sys.executable, str(Path(__file__).resolve()), "serve", str(self.path)]
        args += [str(self.port), "--speed", str(self.speed)] + (["--loop"] if self.loop else [])
        env = dict(os.environ)
        if self.auth:  # in the environment, not argv: passwords may hold any character
            env["RTSP_TEST_AUTH"] = base64.b64encode(":".join(self.auth).encode()).decode()
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


_RTP_MTU = 1400


@dataclass(slots=True)
class _AccessUnit:
    t: float  # presentation time, seconds from the file start
    nals: list[bytes]
    keyframe: bool


def _read_access_units(path: Path) -> tuple[list[_AccessUnit], bytes, bytes]:
    """Split an H.264 file into access units of raw NAL units plus its SPS and PPS."""
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        extra = bytes(stream.codec_context.extradata or b"")
        if not extra or extra[0] != 1:
            raise ValueError("expected an MP4/MKV H.264 file with avcC extradata")
        nal_len = (extra[4] & 3) + 1
        pos, n_sps = 6, extra[5] & 0x1F
        sps = pps = b""
        for _ in range(n_sps):
            (size,) = struct.unpack(">H", extra[pos : pos + 2])
            sps, pos = extra[pos + 2 : pos + 2 + size], pos + 2 + size
        n_pps, pos = extra[pos], pos + 1
        for _ in range(n_pps):
            (size,) = struct.unpack(">H", extra[pos : pos + 2])
            pps, pos = extra[pos + 2 : pos + 2 + size], pos + 2 + size
        units: list[_AccessUnit] = []
        first_pts: int | None = None
        for packet in container.demux(stream):
            if packet.pts is None:
                continue
            first_pts = packet.pts if first_pts is None else first_pts
            data, nals, i = bytes(packet), [], 0
            while i + nal_len <= len(data):
                size = int.from_bytes(data[i : i + nal_len], "big")
                nals.append(data[i + nal_len : i + nal_len + size])
                i += nal_len + size
            t = float((packet.pts - first_pts) * stream.time_base)
            units.append(_AccessUnit(t, nals, bool(packet.is_keyframe)))
    units.sort(key=lambda u: u.t)
    return units, sps, pps


def _rtp_packets(nals: list[bytes], seq: int, ts: int, ssrc: int) -> tuple[list[bytes], int]:
    """Packetise one access unit (RFC 6184: single NAL unit packets and FU-A fragments)."""
    payloads: list[bytes] = []
    for nal in nals:
        if len(nal) <= _RTP_MTU:
            payloads.append(nal)
            continue
        indicator = (nal[0] & 0xE0) | 28
        body, first = nal[1:], True
        while body:
            chunk, body = body[:_RTP_MTU], body[_RTP_MTU:]
            header = (0x80 if first else 0) | (0x40 if not body else 0) | (nal[0] & 0x1F)
            payloads.append(bytes([indicator, header]) + chunk)
            first = False
    packets = []
    for i, payload in enumerate(payloads):
        marker = 0x80 if i == len(payloads) - 1 else 0
        header = struct.pack(">BBHII", 0x80, marker | 96, seq & 0xFFFF, ts & 0xFFFFFFFF, ssrc)
        packets.append(header + payload)
        seq += 1
    return packets, seq


class _Connection:
    def __init__(self, sock: socket.socket, media: tuple[list[_AccessUnit], bytes, bytes],
                 port: int, speed: float, loop: bool, auth: str | None = None) -> None:
        self.sock, self.port, self.speed, self.loop = sock, port, speed, loop
        self.auth = auth  # base64 of "user:password" that Basic auth must carry
        self.units, self.sps, self.pps = media
        self.lock = threading.Lock()
        self.closed = threading.Event()
        self.session = f"{random.randrange(1 << 30):08d}"
        self.playing = False

    def send(self, data: bytes) -> None:
        with self.lock:
            self.sock.sendall(data)

    def sdp(self) -> bytes:
        sprop = ",".join(base64.b64encode(x).decode() for x in (self.sps, self.pps))
        profile = self.sps[1:4].hex() if len(self.sps) >= 4 else "42e01e"
        lines = [
            "v=0", "o=- 0 0 IN IP4 127.0.0.1", "s=HomeSec test stream", "c=IN IP4 127.0.0.1",
            "t=0 0", "a=control:*", "m=video 0 RTP/AVP 96", "a=rtpmap:96 H264/90000",
            f"a=fmtp:96 packetization-mode=1;profile-level-id={profile};sprop-parameter-sets={sprop}",
            "a=control:trackID=0",
        ]
        return ("\r\n".join(lines) + "\r\n").encode()

    def reply(self, cseq: str, status: str = "200 OK", headers: dict[str, str] | None = None,
              body: bytes = b"") -> None:
        head = [f"RTSP/1.0 {status}", f"CSeq: {cseq}"]
        head += [f"{k}: {v}" for k, v in (headers or {}).items()]
        if body:
            head.append(f"Content-Length: {len(body)}")
        self.send(("\r\n".join(head) + "\r\n\r\n").encode() + body)

    def stream(self) -> None:
        ssrc, seq, base_ts = random.getrandbits(32), random.getrandbits(16), random.getrandbits(31)
        start, offset = time.monotonic(), 0.0
        if log := os.environ.get(PLAY_LOG_ENV):  # when stream time 0 went out (latency bench)
            with open(log, "a", encoding="utf-8") as handle:
                handle.write(f"{time.time()!r}\n")
        span = (self.units[-1].t + (self.units[-1].t / max(1, len(self.units) - 1))) if self.units else 0
        while not self.closed.is_set():
            for unit in self.units:
                delay = start + (unit.t + offset) / self.speed - time.monotonic()
                if delay > 0 and self.closed.wait(delay):
                    return
                nals = ([self.sps, self.pps] if unit.keyframe else []) + unit.nals
                packets, seq = _rtp_packets(nals, seq, base_ts + int((unit.t + offset) * 90000), ssrc)
                try:
                    for pkt in packets:
                        self.send(b"$\x00" + struct.pack(">H", len(pkt)) + pkt)
                except OSError:
                    self.closed.set()
                    return
            if not self.loop:
                return  # stay connected and silent, like a frozen camera
            offset += span

    def serve(self) -> None:
        buf = b""
        try:
            while not self.closed.is_set():
                while buf.startswith(b"$"):  # interleaved RTCP from the client: skip it
                    if len(buf) < 4:
                        break
                    size = struct.unpack(">H", buf[2:4])[0]
                    if len(buf) < 4 + size:
                        break
                    buf = buf[4 + size :]
                if b"\r\n\r\n" not in buf or buf.startswith(b"$"):
                    data = self.sock.recv(65536)
                    if not data:
                        return
                    buf += data
                    continue
                head, buf = buf.split(b"\r\n\r\n", 1)
                lines = head.decode(errors="replace").split("\r\n")
                method, url = lines[0].split(" ")[:2]
                headers = {}
                for line in lines[1:]:
                    if ":" in line:
                        k, v = line.split(":", 1)
                        headers[k.strip().lower()] = v.strip()
                length = int(headers.get("content-length", "0"))
                while len(buf) < length:
                    buf += self.sock.recv(65536)
                buf = buf[length:]
                self.handle(method, url, headers)
        except OSError:
            return
        finally:
            self.closed.set()
            self.sock.close()

    def handle(self, method: str, url: str, headers: dict[str, str]) -> None:
        cseq = headers.get("cseq", "0")
        base = f"rtsp://127.0.0.1:{self.port}/cam"
        if self.auth and method != "OPTIONS" and \
                headers.get("authorization", "") != f"Basic {self.auth}":
            self.reply(cseq, "401 Unauthorized",
                       headers={"WWW-Authenticate": 'Basic realm="HomeSec test camera"'})
            return
        if method == "OPTIONS":
            self.reply(cseq, headers={"Public": "OPTIONS, DESCRIBE, SETUP, PLAY, TEARDOWN, GET_PARAMETER"})
        elif method == "DESCRIBE":
            self.reply(cseq, headers={"Content-Type": "application/sdp", "Content-Base": base + "/"},
                       body=self.sdp())
        elif method == "SETUP":
            if "TCP" not in headers.get("transport", "").upper():
                self.reply(cseq, "461 Unsupported Transport")
                return
            self.reply(cseq, headers={"Transport": "RTP/AVP/TCP;unicast;interleaved=0-1",
                                      "Session": f"{self.session};timeout=60"})
        elif method == "PLAY":
            self.reply(cseq, headers={"Session": self.session, "Range": "npt=0.000-"})
            if not self.playing:
                self.playing = True
                threading.Thread(target=self.stream, daemon=True).start()
        elif method == "TEARDOWN":
            self.reply(cseq, headers={"Session": self.session})
            self.closed.set()
        else:  # GET_PARAMETER keep-alives and anything else
            self.reply(cseq, headers={"Session": self.session})


def serve_rtsp(path: Path, port: int, speed: float = 1.0, loop: bool = False) -> None:
    """Serve forever (until the process is killed)."""
    media = _read_access_units(path)
    listener = socket.socket()
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("127.0.0.1", port))
    listener.listen(8)
    while True:
        sock, _ = listener.accept()
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        conn = _Connection(sock, media, port, speed, loop, os.environ.get("RTSP_TEST_AUTH"))
        threading.Thread(target=conn.serve, daemon=True).start()


def _main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="cmd", required=True)
    serve = sub.add_parser("serve", help="serve an H.264 file over RTSP on 127.0.0.1")
    serve.add_argument("file", type=Path)
    serve.add_argument("port", type=int)
    serve.add_argument("--speed", type=float, default=1.0)
    serve.add_argument("--loop", action="store_true")
    args = parser.parse_args(argv)
    if args.cmd == "serve":
        serve_rtsp(args.file, args.port, args.speed, args.loop)


if __name__ == "__main__":
    # Quiet shutdown when the parent kills us.
    try:
        _main(sys.argv[1:])
    except KeyboardInterrupt:
        os._exit(0)
