"""WebRTC live view: the camera's own H.264 packets to a browser, sub-second, no transcoding.

A viewer sends an SDP offer (WHEP-style, one request); the answer comes back with every ICE
candidate already in it (aiortc gathers them before answering), so no trickle is needed. The
video track is a packet viewer of the camera's restream hub (restream.py): the packets the
source already reads from its one camera connection, handed to aiortc's H.264 packetizer
as they are. A viewer takes one of the camera's restream viewer slots; its peer connection
is closed when the camera's session ends, when the viewer lags (the hub drops it), when ICE
fails or its consent expires (the browser went away), or when it never connects.

aiortc is the optional ``webrtc`` extra: ``available()`` says whether it is installed.
"""

from __future__ import annotations

import asyncio
import functools
import importlib.util
import logging
from typing import Any

from .restream import RawPacket, RestreamHub, Viewer

_LOGGER = logging.getLogger(__name__)

# A peer connection that has not connected by then is closed (its viewer slot freed).
CONNECT_TIMEOUT_S = 30.0


class OfferError(ValueError):
    """The SDP offer cannot be answered (the message says why)."""


@functools.cache
def available() -> bool:
    """Whether aiortc (the ``webrtc`` extra) is installed."""
    return importlib.util.find_spec("aiortc") is not None


def check_offer(sdp: str) -> None:
    """Refuse an offer that cannot get this camera's video, before any viewer slot is taken."""
    if not sdp.lstrip().startswith("v=0"):
        raise OfferError("not an SDP offer (it must start with v=0)")
    lines = [line.strip() for line in sdp.splitlines()]
    if not any(line.startswith("m=video ") for line in lines):
        raise OfferError("the offer has no video section (m=video)")
    if not any(line.startswith("a=rtpmap:") and " h264/90000" in line.lower()
               for line in lines):
        raise OfferError("the offer has no H.264 video codec (the camera's video is H.264 "
                         "and is sent without transcoding)")


def _track_class() -> type:
    from aiortc import MediaStreamTrack
    from aiortc.mediastreams import MediaStreamError
    import av

    class PacketTrack(MediaStreamTrack):
        """A video track whose "frames" are the camera's packets (aiortc packs them as is)."""

        kind = "video"

        def __init__(self, viewer: Viewer[RawPacket]) -> None:
            super().__init__()
            self.viewer = viewer

        async def recv(self) -> Any:
            raw: RawPacket | None = await self.viewer.next_chunk()
            if raw is None:
                self.stop()
                raise MediaStreamError
            packet = av.Packet(raw.data)
            packet.pts = packet.dts = raw.pts
            packet.time_base = raw.time_base
            return packet

    return PacketTrack


class WebRtcSessions:
    """The live WebRTC peer connections of one engine."""

    def __init__(self) -> None:
        # Each live peer connection and its timer that closes it if it never connects.
        self._peers: dict[Any, asyncio.TimerHandle | None] = {}
        self._closing: set[asyncio.Task[None]] = set()

    @property
    def count(self) -> int:
        return len(self._peers)

    async def answer(self, hub: RestreamHub, offer_sdp: str) -> str:
        """The SDP answer (with its ICE candidates) that sends ``hub``'s video to the offerer.

        Raises ``OfferError`` for an offer aiortc refuses, and the hub's ``TooManyViewers`` /
        ``ConnectionError`` when the camera has no free slot or is not streaming.
        """
        from aiortc import RTCPeerConnection, RTCRtpSender, RTCSessionDescription

        check_offer(offer_sdp)
        if hub.codec != "h264":
            raise OfferError(f"camera {hub.camera} sends {hub.codec or 'no'} video; WebRTC "
                             "live view needs H.264 (use the HLS stream)")
        pc = RTCPeerConnection()
        viewer = hub.join_packets(on_drop=lambda: self._close_soon(pc))
        self._peers[pc] = None
        track = _track_class()(viewer)

        async def _state() -> None:
            if pc.connectionState in ("failed", "closed"):
                await self._close(pc, hub, viewer)

        pc.on("connectionstatechange", _state)
        track.on("ended", lambda: self._close_soon(pc))

        try:
            transceiver = pc.addTransceiver(track, direction="sendonly")
            transceiver.setCodecPreferences([
                codec for codec in RTCRtpSender.getCapabilities("video").codecs
                if codec.mimeType.lower() in ("video/h264", "video/rtx")])
            await pc.setRemoteDescription(RTCSessionDescription(offer_sdp, "offer"))
            await pc.setLocalDescription(await pc.createAnswer())
        except Exception as err:
            await self._close(pc, hub, viewer)
            if isinstance(err, (ValueError, LookupError)) or type(err).__module__.startswith(
                    ("aiortc", "aioice")):
                raise OfferError(f"the offer cannot be answered: {err}") from err
            raise
        if pc in self._peers:
            self._peers[pc] = asyncio.get_running_loop().call_later(
                CONNECT_TIMEOUT_S, self._close_unconnected, pc)
        return str(pc.localDescription.sdp)

    def _close_unconnected(self, pc: Any) -> None:
        if pc in self._peers and pc.connectionState != "connected":
            _LOGGER.info("WebRTC viewer never connected: closed")
            self._close_soon(pc)

    def _close_soon(self, pc: Any) -> None:
        task = asyncio.get_running_loop().create_task(pc.close())
        self._closing.add(task)
        task.add_done_callback(self._closing.discard)

    async def _close(self, pc: Any, hub: RestreamHub, viewer: Viewer[RawPacket]) -> None:
        hub.leave(viewer)
        if (timer := self._peers.pop(pc, None)) is not None:
            timer.cancel()
        await pc.close()

    async def close(self) -> None:
        """Close every peer connection (the engine stops)."""
        peers, self._peers = self._peers, {}
        for timer in peers.values():
            if timer is not None:
                timer.cancel()
        await asyncio.gather(*(pc.close() for pc in peers), return_exceptions=True)
        await asyncio.gather(*self._closing, return_exceptions=True)
