"""Cameras that answer RTSP correctly and then send what no decoder can use.

    with BrokenCamera(video, "random") as camera:   # camera.url: rtsp://127.0.0.1:<port>/cam
        ...                                         # camera.plays: sessions so far

The session (OPTIONS, DESCRIBE with the real SPS/PPS of `video`, SETUP, PLAY) is the engine's
own RTSP server (homesec_engine/demo/rtsp_server.py); only what is streamed after PLAY
differs, as RTP over the interleaved TCP connection, 25 packets a second:

- ``random``: RTP packets with valid headers and random payloads (a scrambled or foreign feed);
- ``fragment``: one H.264 FU-A fragmented NAL unit whose end never comes (a camera stuck
  mid-frame: data keeps flowing, no picture ever completes).
"""

from __future__ import annotations

import random
import struct
from pathlib import Path

from homesec_engine.demo.rtsp_server import RtspServer, _Connection

RATE = 25  # packets a second


class _Garbage(_Connection):
    mode = "random"
    camera: BrokenCamera | None = None

    def stream(self) -> None:
        if self.camera is not None:
            self.camera.plays += 1
        rng = random.Random(26)
        seq, ts, ssrc = rng.getrandbits(16), rng.getrandbits(31), rng.getrandbits(32)
        first = True
        while not self.closed.wait(1 / RATE):
            if self.mode == "random":
                payload, marker = rng.randbytes(rng.randrange(60, 1400)), 0x80
            else:  # FU-A (type 28) of an IDR slice (type 5): start bit once, never the end bit
                header = 0x85 if first else 0x05
                payload, marker = bytes([0x7C, header]) + rng.randbytes(1200), 0
            first = False
            packet = struct.pack(">BBHII", 0x80, marker | 96, seq & 0xFFFF,
                                 ts & 0xFFFFFFFF, ssrc) + payload
            seq += 1
            ts += 90000 // RATE if self.mode == "random" else 0  # one frame, never finished
            try:
                self.send(b"$\x00" + struct.pack(">H", len(packet)) + packet)
            except OSError:
                self.closed.set()
                return


class _Fragment(_Garbage):
    mode = "fragment"


class BrokenCamera(RtspServer):
    def __init__(self, video: Path, mode: str) -> None:
        super().__init__(video)
        self.plays = 0  # sessions that asked for the stream (each reconnect is one more)
        base = {"random": _Garbage, "fragment": _Fragment}[mode]
        self.connection = type(f"_{mode.title()}Of{self.port}", (base,), {"camera": self})

    def __enter__(self) -> BrokenCamera:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()
