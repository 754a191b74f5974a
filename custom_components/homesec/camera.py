"""HomeSec camera entity: a camera's live picture and stream, both from the engine.

The picture is the engine's snapshot route (its newest decoded frame); the stream source is a
signed, expiring URL of HA's own stream view (views.py), which relays the engine's restream,
so HA's stream worker needs neither the engine's API key nor a second camera connection.
Where the engine can, the frontend also gets WebRTC (webrtc.py), with HLS as its fallback.
The URL is renewed halfway through its life: a stream worker that reconnects (after the
camera dropped) uses the newest one. On/off is the camera's `enabled` flag in the engine.
"""

from __future__ import annotations

from datetime import datetime

from homeassistant.components.camera import Camera
from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback
from homeassistant.helpers.event import async_track_time_interval

from .compat import CameraEntityFeature
from .api import HomeSecError
from .const import LOGGER
from .coordinator import HomeSecConfigEntry, HomeSecCoordinator
from .entity import HomeSecEntity, async_add_homesec_entities, async_set_camera_enabled
from .generated.entity_descriptions import (
    CAMERA_DESCRIPTIONS,
    HomeSecCameraEntityDescription,
)
from .views import STREAM_URL_TTL, async_signed_stream_url, stream_base
from .webrtc import async_setup_webrtc

PARALLEL_UPDATES = 0  # pictures are read-only and cheap for the engine


async def async_setup_entry(
    hass: HomeAssistant,
    entry: HomeSecConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Set up HomeSec camera entities (and their WebRTC live view, where the engine has it)."""
    async_setup_webrtc(hass, entry)
    async_add_homesec_entities(entry, async_add_entities, CAMERA_DESCRIPTIONS, HomeSecCamera)


class HomeSecCamera(HomeSecEntity, Camera):
    """One camera as the engine sees it live."""

    entity_description: HomeSecCameraEntityDescription

    def __init__(
        self,
        coordinator: HomeSecCoordinator,
        description: HomeSecCameraEntityDescription,
        camera: str | None,
    ) -> None:
        super().__init__(coordinator, description, camera)
        Camera.__init__(self)
        self.entity_description = description
        cam = self.camera_data
        # What the camera can show is fixed by its source backend.
        self._has_picture = bool(cam and cam.get("live_picture"))
        self._has_stream = bool(cam and cam.get("live_stream"))
        features = CameraEntityFeature.ON_OFF
        if self._has_stream:
            features |= CameraEntityFeature.STREAM
        self._attr_supported_features = features
        self._stream_url: str | None = None

    async def async_added_to_hass(self) -> None:
        await super().async_added_to_hass()
        if self._has_stream:
            self.async_on_remove(
                async_track_time_interval(
                    self.hass, self._async_renew_stream_url, STREAM_URL_TTL / 2
                )
            )

    @property
    def available(self) -> bool:
        """Engine reachable and the camera healthy, or switched off (so it can be switched on)."""
        cam = self.camera_data
        if not super().available or cam is None:
            return False
        return bool(cam["healthy"]) or not cam["enabled"]

    @property
    def is_on(self) -> bool:
        cam = self.camera_data
        return bool(cam and cam["enabled"])

    @property
    def is_streaming(self) -> bool:
        cam = self.camera_data
        return bool(self._has_stream and cam and cam["enabled"] and cam["healthy"])

    async def async_camera_image(
        self, width: int | None = None, height: int | None = None
    ) -> bytes | None:
        if not self._has_picture or not self.is_on:
            return None
        try:
            return await self.coordinator.client.get_camera_snapshot(
                self.camera_name or "", width, height
            )
        except HomeSecError as err:
            LOGGER.debug("No live picture of %s: %s", self.camera_name, err)
            return None

    async def stream_source(self) -> str | None:
        if not self._has_stream:
            return None
        url = self._stream_url
        if url is None or not url.startswith(stream_base(self.hass) + "/"):
            # First use, or HA's internal URL changed since it was signed.
            self._stream_url = url = self._sign_stream_url()
        return url

    @callback
    def _sign_stream_url(self) -> str:
        entry_id = self.coordinator.config_entry.entry_id
        return async_signed_stream_url(self.hass, entry_id, self.camera_name or "")

    @callback
    def _async_renew_stream_url(self, _now: datetime) -> None:
        """A fresh URL before the old one expires; a running stream reconnects with it."""
        self._stream_url = self._sign_stream_url()
        if self.stream is not None:
            # Not update_source(): that restarts a healthy stream; the worker reads
            # `source` again whenever it (re)connects.
            self.stream.source = self._stream_url

    async def async_turn_on(self) -> None:
        await async_set_camera_enabled(self.coordinator, self.camera_name or "", True)

    async def async_turn_off(self) -> None:
        await async_set_camera_enabled(self.coordinator, self.camera_name or "", False)
