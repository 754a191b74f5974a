"""A looping RTSP camera on loopback: an H.264 file served as a live stream.

Speaks real RTSP/RTP (RFC 2326, RFC 6184: single NAL unit packets and FU-A fragments,
interleaved over TCP), so the engine's `rtsp` source reads it exactly like a camera. Every
client that sends PLAY gets the file from its start, paced in real time times `speed`; after
the end it loops, or the connection stays open and silent like a frozen camera.

Two users: the embedded default's demo camera (`RtspServer`, in the engine's process, looping
the demo footage: homesec_engine/demo/footage.py) and the tests' RtspTestServer, which runs
`python -m homesec_engine.demo.rtsp_server serve FILE PORT` as a child process it can kill.
"""

from __future__ import annotations

import argparse
import base64
import os
import random
import socket
import struct
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import av

# The env var carrying base64("user:password") that a client must send with Basic auth.
AUTH_ENV = "RTSP_TEST_AUTH"

# When set, the server appends the wall time (time.time()) at which each client's stream time
# 0 was sent to the file it names: a benchmark maps stream times to wall times with it.
PLAY_LOG_ENV = "HOMESEC_RTSP_PLAY_LOG"


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
            fu_header = (0x80 if first else 0) | (0x40 if not body else 0) | (nal[0] & 0x1F)
            payloads.append(bytes([indicator, fu_header]) + chunk)
            first = False
    packets: list[bytes] = []
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

    def close(self) -> None:
        """End the session now (the server stops): the client sees the connection drop."""
        self.closed.set()
        try:
            self.sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass

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


class RtspServer:
    """Serve `path` at ``rtsp://127.0.0.1:<port>/cam`` from threads of this process.

    A subclass may serve its clients through another `connection` (a `_Connection` whose
    `stream` sends something else: the fault tests' broken cameras)."""

    connection = _Connection

    def __init__(self, path: Path, port: int = 0, *, speed: float = 1.0, loop: bool = True) -> None:
        self._media = _read_access_units(Path(path))
        self._listener = socket.socket()
        self._listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._listener.bind(("127.0.0.1", port))
        self.port = int(self._listener.getsockname()[1])
        self.speed, self.loop = speed, loop
        self._connections: list[_Connection] = []
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        return f"rtsp://127.0.0.1:{self.port}/cam"

    def start(self) -> None:
        self._listener.listen(8)
        self._thread = threading.Thread(target=self._accept, name="homesec-demo-rtsp",
                                        daemon=True)
        self._thread.start()

    def _accept(self) -> None:
        while True:
            try:
                sock, _ = self._listener.accept()
            except OSError:
                return  # closed by stop()
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            conn = self.connection(sock, self._media, self.port, self.speed, self.loop)
            self._connections = [c for c in self._connections if not c.closed.is_set()] + [conn]
            threading.Thread(target=conn.serve, name="homesec-demo-rtsp-client",
                             daemon=True).start()

    def stop(self) -> None:
        # shutdown() wakes the accept() blocked in the thread; close() alone may not.
        try:
            self._listener.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self._listener.close()
        for conn in self._connections:
            conn.close()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None


def serve_rtsp(path: Path, port: int, speed: float = 1.0, loop: bool = False) -> None:
    """Serve forever in the foreground (until the process is killed)."""
    media = _read_access_units(path)
    listener = socket.socket()
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("127.0.0.1", port))
    listener.listen(8)
    while True:
        sock, _ = listener.accept()
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        conn = _Connection(sock, media, port, speed, loop, os.environ.get(AUTH_ENV))
        threading.Thread(target=conn.serve, daemon=True).start()


def _main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(description="Serve an H.264 file over RTSP on 127.0.0.1")
    sub = parser.add_subparsers(dest="cmd", required=True)
    serve = sub.add_parser("serve", help="serve an H.264 file over RTSP on 127.0.0.1")
    serve.add_argument("file", type=Path)
    serve.add_argument("port", type=int)
    serve.add_argument("--speed", type=float, default=1.0)
    serve.add_argument("--loop", action="store_true")
    args = parser.parse_args(argv)
    serve_rtsp(args.file, args.port, args.speed, args.loop)


if __name__ == "__main__":
    # Quiet shutdown when the parent kills us.
    try:
        _main(sys.argv[1:])
    except KeyboardInterrupt:
        os._exit(0)
