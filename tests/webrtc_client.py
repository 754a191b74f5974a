"""A real WebRTC viewer (aiortc), as a browser is one: for the live-view tests and bench/webrtc.py.

It offers to receive one video track, hands its offer to ``exchange`` (the engine's route or
HA's camera WebSocket API) and decodes what arrives with aiortc's own H.264 decoder.

HA's pytest plugin replaces ``ifaddr.get_adapters`` for the whole session (one fake 10.10.10.10
interface); ICE needs the machine's real ones, so ``real_network`` puts them back for a test.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any

import ifaddr
import pytest
from aiortc import RTCPeerConnection, RTCSessionDescription
from aiortc.mediastreams import MediaStreamError

_REAL_ADAPTERS = ifaddr.get_adapters  # taken at collection, before any session fixture


@pytest.fixture
def real_network(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(ifaddr, "get_adapters", _REAL_ADAPTERS)


class Viewer:
    def __init__(self, pc: RTCPeerConnection) -> None:
        self.pc = pc
        self.frames: asyncio.Queue[tuple[float, Any]] = asyncio.Queue()
        self.ended = asyncio.Event()
        self._reader: asyncio.Task[None] | None = None

    def _read(self, track: Any) -> None:
        async def read() -> None:
            try:
                while True:
                    frame = await track.recv()
                    self.frames.put_nowait((time.monotonic(), frame))
            except MediaStreamError:
                self.ended.set()

        self._reader = asyncio.create_task(read())

    async def next_frame(self, timeout: float = 20.0) -> tuple[float, Any]:
        """(arrival time, decoded av.VideoFrame) of the next frame shown."""
        async with asyncio.timeout(timeout):
            return await self.frames.get()


async def offer_sdp(pc: RTCPeerConnection) -> str:
    pc.addTransceiver("video", direction="recvonly")
    await pc.setLocalDescription(await pc.createOffer())
    return str(pc.localDescription.sdp)


@asynccontextmanager
async def webrtc_viewer(exchange: Callable[[str], Awaitable[str]]) -> AsyncIterator[Viewer]:
    """A connected viewer: its offer answered by ``exchange(offer) -> answer``."""
    pc = RTCPeerConnection()
    viewer = Viewer(pc)
    pc.on("track", viewer._read)
    try:
        answer = await exchange(await offer_sdp(pc))
        await pc.setRemoteDescription(RTCSessionDescription(answer, "answer"))
        yield viewer
    finally:
        await pc.close()
        if viewer._reader is not None:
            viewer._reader.cancel()
            await asyncio.gather(viewer._reader, return_exceptions=True)
