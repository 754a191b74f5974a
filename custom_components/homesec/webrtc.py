"""WebRTC live view for HomeSec cameras: HA's camera WebRTC relayed to the engine.

HomeSec is registered as one of HA's camera WebRTC providers, for its own cameras only (their
stream source is this integration's signed stream view) and only where the engine says it can
(`live_webrtc`: an RTSP camera and the engine's webrtc extra). A camera with a provider keeps
HLS: HA's frontend is offered both and falls back to HLS when WebRTC does not connect. A
native `async_handle_async_webrtc_offer` on the entity would drop HLS from the frontend.

The browser's offer goes to the engine's WebRTC route, whose answer carries the engine's ICE
candidates; the engine's aiortc learns the browser's address from its connectivity checks
(peer-reflexive candidates), so the candidates the browser trickles afterwards are not needed
on a network where the browser reaches the engine. Media flows browser <-> engine directly.
"""

from __future__ import annotations

from homeassistant.components.camera import Camera
from homeassistant.components.camera.webrtc import (
    CameraWebRTCProvider,
    WebRTCAnswer,
    WebRTCError,
    WebRTCSendMessage,
    async_register_webrtc_provider,
)
from homeassistant.core import HomeAssistant, callback
from webrtc_models import RTCIceCandidateInit

from .api import HomeSecError
from .const import DOMAIN, LOGGER
from .coordinator import HomeSecConfigEntry, HomeSecCoordinator
from .views import stream_path


class HomeSecWebRTCProvider(CameraWebRTCProvider):
    """Answers WebRTC offers for this entry's cameras through the engine."""

    def __init__(self, coordinator: HomeSecCoordinator) -> None:
        self._coordinator = coordinator
        # The stream view's path up to the camera name (the source is signed and renewed).
        self._prefix = stream_path(coordinator.config_entry.entry_id, "")

    @property
    def domain(self) -> str:
        return DOMAIN

    def _camera_name(self, stream_source: str) -> str | None:
        _, found, rest = stream_source.partition(self._prefix)
        return rest.split("?", 1)[0] if found else None

    @callback
    def async_is_supported(self, stream_source: str) -> bool:
        name = self._camera_name(stream_source)
        camera = self._coordinator.camera(name) if name else None
        return bool(camera and camera.get("live_webrtc"))

    async def async_handle_async_webrtc_offer(
        self,
        camera: Camera,
        offer_sdp: str,
        session_id: str,
        send_message: WebRTCSendMessage,
    ) -> None:
        name = self._camera_name(await camera.stream_source() or "")
        if name is None:
            send_message(WebRTCError("webrtc_offer_failed", "not a HomeSec camera"))
            return
        try:
            answer = await self._coordinator.client.offer_camera_webrtc(name, offer_sdp)
        except HomeSecError as err:
            reasons = [f"{e['path']}: {e['message']}" for e in
                       getattr(err, "errors", [])]  # a refused offer says why
            message = "; ".join([str(err), *reasons])
            LOGGER.debug("No WebRTC answer for %s: %s", name, message)
            send_message(WebRTCError("webrtc_offer_failed", message))
            return
        send_message(WebRTCAnswer(answer))

    async def async_on_webrtc_candidate(
        self, session_id: str, candidate: RTCIceCandidateInit
    ) -> None:
        """The engine learns the browser's address from its checks (see the module doc)."""


@callback
def async_setup_webrtc(hass: HomeAssistant, entry: HomeSecConfigEntry) -> None:
    """Offer WebRTC for this entry's cameras while the entry is loaded."""
    provider = HomeSecWebRTCProvider(entry.runtime_data.coordinator)
    entry.async_on_unload(async_register_webrtc_provider(hass, provider))
