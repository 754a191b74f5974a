"""The HomeSec data coordinator: one /status request per poll, plus live pushes.

Live updates come one way: the engine's `/api/v1/events` WebSocket (`alert`, `event`,
`camera_health`), applied at once with `_async_apply_push`. A push never moves the poll:
HA's `async_set_updated_data` would reschedule it, so with activity more often than the scan
interval the counters, disk figures and repairs the poll carries would freeze. A poll's answer
keeps an alert that was pushed while the poll was in flight. When the event stream
connects again (the engine restarted, or the network came back) a poll runs at once, so
repairs and counters are re-evaluated without waiting a scan interval. The `homesec_alert` bus event
the engine's home_assistant notifier fires is for automations; it is not read back. An alert
seen by a push and by a poll is applied once: clip ids are remembered in a bounded,
insertion-ordered set. The figures (alerts_today, cameras_online) are the engine's own, carried
in each pushed message's `stats`; nothing is recomputed here.

A 503 DB_UNAVAILABLE is not a failure of the integration: the engine is up, only its
database is down. The last data is kept with health marked degraded, so entities keep their
values and `system_health` shows the problem instead of every entity going unavailable.
"""

from __future__ import annotations

import asyncio
import copy
from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any, Final, cast

from homeassistant.config_entries import ConfigEntry
from homeassistant.core import HomeAssistant, callback
from homeassistant.exceptions import ConfigEntryAuthFailed
from homeassistant.helpers import device_registry as dr
from homeassistant.helpers.dispatcher import async_dispatcher_send
from homeassistant.helpers.update_coordinator import DataUpdateCoordinator, UpdateFailed

from .compat import vol
from .api import (
    HomeSecAuthenticationError,
    HomeSecClient,
    HomeSecConnectionError,
    HomeSecError,
    HomeSecUnavailableError,
)
from .const import (
    CONF_SCAN_INTERVAL,
    DEFAULT_SCAN_INTERVAL_S,
    DOMAIN,
    LOGGER,
    SIGNAL_ALERT,
    SIGNAL_CAMERA_HEALTH,
    SIGNAL_LIVE_EVENT,
)
from .generated.api_models import (
    AlertSummary,
    CameraStatus,
    ClusterEngine,
    Health,
    Status,
    WsMessage,
)
from .generated.schema_data import MODELS
from .generated.vol_render import model_validator
from .repairs import (
    async_update_restart_issue,
    async_update_storage_issues,
    async_update_url_issue,
)
from .silence import CameraSilences

MAX_SEEN_CLIPS: Final = 1000
WS_BACKOFF_MAX: Final = 60.0

_ALERT_EVENT = model_validator(MODELS, "AlertEvent")
_CAMERA_HEALTH = model_validator(MODELS, "CameraHealthEvent")
_LIVE_EVENT = model_validator(MODELS, "LiveEvent")
_PUSHED_STATS = model_validator(MODELS, "PushedStats")


@dataclass(slots=True)
class HomeSecData:
    """entry.runtime_data."""

    client: HomeSecClient
    coordinator: HomeSecCoordinator
    silences: CameraSilences = field(default_factory=CameraSilences)
    extra: dict[str, Any] = field(default_factory=dict)  # room for other modules' state


type HomeSecConfigEntry = ConfigEntry[HomeSecData]


def camera_device_identifier(entry_id: str, camera: str) -> tuple[str, str]:
    """The device-registry identifier of a camera."""
    return (DOMAIN, f"{entry_id}_{camera}")


def engine_device_identifier(entry_id: str, engine_id: str) -> tuple[str, str]:
    """The device-registry identifier of one engine of a cluster ('-' keeps it apart from
    every camera's: camera names are slugs without one)."""
    return (DOMAIN, f"{entry_id}-engine-{engine_id}")


class HomeSecCoordinator(DataUpdateCoordinator[Status]):
    """Polls /status and applies live alerts and camera-health messages."""

    config_entry: HomeSecConfigEntry
    ws_backoff_initial: float = 1.0

    def __init__(
        self, hass: HomeAssistant, entry: HomeSecConfigEntry, client: HomeSecClient
    ) -> None:
        interval = int(entry.options.get(CONF_SCAN_INTERVAL, DEFAULT_SCAN_INTERVAL_S))
        super().__init__(
            hass,
            LOGGER,
            config_entry=entry,
            name=DOMAIN,
            update_interval=timedelta(seconds=interval),
        )
        self.client = client
        self.signal_alert = SIGNAL_ALERT.format(entry_id=entry.entry_id)
        # The engine hub's device registry id, set once the hub device exists (camera
        # devices hang off it).
        self.hub_device_id: str | None = None
        self.signal_camera_health = SIGNAL_CAMERA_HEALTH.format(entry_id=entry.entry_id)
        self.signal_live_event = SIGNAL_LIVE_EVENT.format(entry_id=entry.entry_id)
        self._seen: OrderedDict[str, None] = OrderedDict()
        self._polled_once = False
        self._pending_alerts: list[tuple[str, dict[str, Any]]] = []
        self._db_down_logged = False
        self._ws_task: asyncio.Task[None] | None = None
        self._ws_ever_connected = False
        # Alerts pushed while a poll is in flight: its (older) answer must not undo them.
        self._pushed_while_polling: dict[str, AlertSummary] = {}
        self.ws_connected = False
        self._ws_down_logged = False
        self.alerts_applied = 0  # new alerts applied (after dedupe), for diagnostics
        # False while the engine answers 503 DB_UNAVAILABLE (data is the last known, degraded).
        self.database_available = True
        # False when the database was down at start-up and only /health is known: counters
        # are unknown and the (empty) camera list is not authoritative.
        self.complete = True

    @property
    def current(self) -> Status | None:
        """The data, or None before the first successful refresh (HA types it non-optional)."""
        return cast("Status | None", self.data)

    def camera(self, name: str) -> CameraStatus | None:
        """One camera of the current data."""
        if (data := self.current) is None:
            return None
        return next((c for c in data["cameras"] if c["name"] == name), None)

    def engine(self, engine_id: str) -> ClusterEngine | None:
        """One engine of the cluster as the current data lists it (cluster mode)."""
        return next((e for e in self._engines() if e["engine_id"] == engine_id), None)

    @property
    def engine_ids(self) -> list[str]:
        """The engines of the cluster (empty outside cluster mode)."""
        return [e["engine_id"] for e in self._engines()]

    def _engines(self) -> list[ClusterEngine]:
        cluster = self.current["health"].get("cluster") if self.current else None
        return list(cluster.get("engines", [])) if cluster else []

    @property
    def camera_names(self) -> list[str]:
        data = self.current
        return [] if data is None else [c["name"] for c in data["cameras"]]

    # -- polling ----------------------------------------------------------------------------

    async def _async_update_data(self) -> Status:
        self._pushed_while_polling.clear()
        try:
            status = await self.client.get_status(attempts=1)
        except HomeSecAuthenticationError as err:
            raise ConfigEntryAuthFailed(
                translation_domain=DOMAIN, translation_key="invalid_auth"
            ) from err
        except HomeSecUnavailableError:
            return await self._degraded()
        except HomeSecConnectionError as err:
            raise UpdateFailed(
                translation_domain=DOMAIN,
                translation_key="cannot_connect",
                translation_placeholders={"error": str(err)},
            ) from err
        except HomeSecError as err:
            raise UpdateFailed(
                translation_domain=DOMAIN,
                translation_key="unexpected_error",
                translation_placeholders={"error": str(err)},
            ) from err
        if self._db_down_logged:
            LOGGER.info("The HomeSec engine's database is back")
            self._db_down_logged = False
        self.database_available = True
        self.complete = True
        self.client.learn_peers(status["health"])  # a cluster: the engines to fail over to
        for camera in status["cameras"]:
            if (pushed := self._pushed_while_polling.get(camera["name"])) is not None:
                camera["last_alert"] = pushed
        self._absorb_polled_alerts(status)
        self._remove_stale_devices(status)
        async_update_restart_issue(self.hass, self.config_entry, status["restart_required"])
        async_update_url_issue(self.hass)
        storage = status.get("storage")
        async_update_storage_issues(self.hass, self.config_entry,
                                    dict(storage) if storage else None)
        return status

    async def _degraded(self) -> Status:
        """Keep the last data, marked degraded; at start-up, build it from /health."""
        if not self._db_down_logged:
            LOGGER.warning("The HomeSec engine's database is unavailable; keeping last data")
            self._db_down_logged = True
        self.database_available = False
        if (last := self.current) is not None:
            status = copy.deepcopy(last)
            status["health"]["status"] = "degraded"
            status["health"]["database"] = "down"
            return status
        try:
            health = await self.client.get_health()
        except HomeSecError as err:
            raise UpdateFailed(
                translation_domain=DOMAIN,
                translation_key="cannot_connect",
                translation_placeholders={"error": str(err)},
            ) from err
        self.complete = False
        return _status_from_health(health)

    def _absorb_polled_alerts(self, status: Status) -> None:
        """Alerts a poll shows first (no push path delivered them) count as new alerts."""
        for camera in status["cameras"]:
            name = camera["name"]
            alert = camera.get("last_alert")
            if not alert or not self._remember(alert["clip_id"]):
                continue
            if self._polled_once:
                self._pending_alerts.append((name, {"camera": name, **alert}))
        self._polled_once = True

    @callback
    def _dispatch_pending(self) -> None:
        pending, self._pending_alerts = self._pending_alerts, []
        for camera, alert in pending:
            self.alerts_applied += 1
            async_dispatcher_send(self.hass, self.signal_alert, camera, alert)

    def _remove_stale_devices(self, status: Status) -> None:
        """Cameras gone from the installation, and engines that left it (cluster mode),
        take their device (and its entities) with them.

        An engine that stopped renewing without leaving (killed, cut off) keeps its device,
        shown unavailable: it may come back (the user may remove it by hand)."""
        registry = dr.async_get(self.hass)
        entry_id = self.config_entry.entry_id
        wanted = {camera_device_identifier(entry_id, c["name"]) for c in status["cameras"]}
        kept_engines = self._kept_engines(status)
        hub = (DOMAIN, entry_id)
        engine_prefix = engine_device_identifier(entry_id, "")[1]
        for device in dr.async_entries_for_config_entry(registry, entry_id):
            ours = {i for i in device.identifiers if i[0] == DOMAIN}
            if any(i[1].startswith(engine_prefix) for i in ours):
                engines = {i[1].removeprefix(engine_prefix) for i in ours}
                if kept_engines is not None and not engines & kept_engines:
                    LOGGER.debug("Removing the device of an engine that left: %s", ours)
                    registry.async_remove_device(device.id)
                continue
            if ours and hub not in ours and not ours & wanted:
                LOGGER.debug("Removing the device of a camera gone from the engine: %s", ours)
                registry.async_remove_device(device.id)

    @staticmethod
    def _kept_engines(status: Status) -> set[str] | None:
        """The engines whose devices stay: live ones and those that may come back; None
        when the engine cannot tell (one from before `engines_down`): all stay."""
        cluster = status["health"].get("cluster")
        if cluster is None:
            return set()  # cluster mode is off: no engine devices
        if "engines_down" not in cluster:
            return None
        return {e["engine_id"] for e in cluster.get("engines", [])} | set(
            cluster["engines_down"])

    def _remember(self, clip_id: str) -> bool:
        """True when the clip id is new (and now remembered)."""
        if clip_id in self._seen:
            return False
        self._seen[clip_id] = None
        while len(self._seen) > MAX_SEEN_CLIPS:
            self._seen.popitem(last=False)
        return True

    @callback
    def _async_apply_push(self, status: Status) -> None:
        """Show pushed data now; unlike async_set_updated_data the next poll keeps its time."""
        self.data = status
        self.async_update_listeners()

    @callback
    def async_update_listeners(self) -> None:
        """Update entities, then announce alerts a poll discovered (they read the new data)."""
        super().async_update_listeners()
        self._dispatch_pending()

    # -- live updates ---------------------------------------------------------------------------

    @callback
    def async_start_live_updates(self) -> None:
        """Run the WebSocket until the entry unloads."""
        entry = self.config_entry
        self._ws_task = entry.async_create_background_task(
            self.hass, self._run_event_stream(), f"{DOMAIN} event stream"
        )
        entry.async_on_unload(self._stop_event_stream)

    @callback
    def _stop_event_stream(self) -> None:
        if self._ws_task is not None:
            self._ws_task.cancel()
            self._ws_task = None
        self.ws_connected = False

    @callback
    def async_handle_alert(
        self, payload: Mapping[str, Any], stats: Mapping[str, Any] | None = None
    ) -> bool:
        """Apply one live alert; False when it was invalid or already applied."""
        try:
            _ALERT_EVENT(dict(payload))
        except vol.Invalid:
            LOGGER.debug("Ignoring a malformed alert: %s", payload)
            return False
        data = self.current
        if not self._remember(str(payload["clip_id"])) or data is None:
            return False
        camera = str(payload["camera"])
        alert = dict(payload)
        known = self.camera(camera) is not None
        status = copy.deepcopy(data)
        _apply_stats(status, stats)
        # The camera's last-alert summary as the engine built it (never rebuilt here).
        self._set_last_alert(status, camera, cast(AlertSummary, dict(alert["last_alert"])))
        self._async_apply_push(status)
        self.alerts_applied += 1
        async_dispatcher_send(self.hass, self.signal_alert, camera, alert)
        if not known:
            # A camera this integration has not polled yet: fetch it now.
            self.hass.async_create_task(self.async_request_refresh(), eager_start=False)
        return True

    def _set_last_alert(self, status: Status, camera: str, summary: AlertSummary) -> None:
        for cam in status["cameras"]:
            if cam["name"] == camera:
                cam["last_alert"] = summary
        self._pushed_while_polling[camera] = summary

    @callback
    def async_handle_live_event(
        self, payload: Mapping[str, Any], stats: Mapping[str, Any] | None = None
    ) -> None:
        """Apply a live event message (started/updated/ended/interrupted): entities follow it."""
        try:
            _LIVE_EVENT(dict(payload))
        except vol.Invalid:
            LOGGER.debug("Ignoring a malformed live event: %s", payload)
            return
        summary = payload.get("last_alert")
        if (data := self.current) is not None and (stats or summary):
            status = copy.deepcopy(data)
            _apply_stats(status, stats)
            if isinstance(summary, Mapping):  # an alerted event ended: the clip's judgement
                self._set_last_alert(status, str(payload["camera"]),
                                     cast(AlertSummary, dict(summary)))
            self._async_apply_push(status)
        async_dispatcher_send(self.hass, self.signal_live_event, str(payload["camera"]),
                              dict(payload))

    @callback
    def async_handle_camera_health(
        self, payload: Mapping[str, Any], stats: Mapping[str, Any] | None = None
    ) -> None:
        """Apply a live camera_health message."""
        try:
            _CAMERA_HEALTH(dict(payload))
        except vol.Invalid:
            return
        if (data := self.current) is None or self.camera(payload["camera"]) is None:
            return
        status = copy.deepcopy(data)
        for cam in status["cameras"]:
            if cam["name"] == payload["camera"]:
                cam["healthy"] = bool(payload["healthy"])
                cam["last_heartbeat"] = payload.get("last_heartbeat")
        _apply_stats(status, stats)
        self._async_apply_push(status)
        async_dispatcher_send(self.hass, self.signal_camera_health, payload["camera"])

    @callback
    def async_apply_camera_change(self, camera: str, enabled: bool, config_version: int) -> None:
        """Show a change the engine accepted now, so a second change carries the new version."""
        if (data := self.current) is None:
            return
        status = copy.deepcopy(data)
        status["config_version"] = config_version
        for cam in status["cameras"]:
            if cam["name"] == camera:
                cam["enabled"] = enabled
        self._async_apply_push(status)

    @callback
    def async_handle_message(self, message: WsMessage) -> None:
        """Apply one pushed WebSocket message."""
        stats = message.get("stats")
        if message["type"] == "alert":
            self.async_handle_alert(message["data"], stats)
        elif message["type"] == "event":
            self.async_handle_live_event(message["data"], stats)
        elif message["type"] == "camera_health":
            self.async_handle_camera_health(message["data"], stats)

    @callback
    def _ws_connected(self) -> None:
        self.ws_connected = True
        if self._ws_ever_connected:
            # A reconnect: the engine may have restarted (a pending restart done, cameras
            # changed); poll now rather than a scan interval later.
            self.hass.async_create_task(self.async_request_refresh(), eager_start=False)
        self._ws_ever_connected = True
        if self._ws_down_logged:
            LOGGER.info("The HomeSec event stream is connected again")
            self._ws_down_logged = False

    async def _run_event_stream(self) -> None:
        """Read the WebSocket; reconnect with exponential backoff until cancelled."""
        delay = self.ws_backoff_initial
        while True:
            try:
                async for message in self.client.events(on_connect=self._ws_connected):
                    delay = self.ws_backoff_initial
                    self.async_handle_message(message)
            except HomeSecAuthenticationError:
                self.ws_connected = False
                LOGGER.warning("The HomeSec engine refused the API key on the event stream")
                self.config_entry.async_start_reauth(self.hass)
                return
            except HomeSecConnectionError as err:
                if not self._ws_down_logged:
                    LOGGER.info("The HomeSec event stream is unavailable: %s", err)
                    self._ws_down_logged = True
            except Exception:  # noqa: BLE001 - the stream must outlive one bad message
                LOGGER.exception("Unexpected error in the HomeSec event stream")
            self.ws_connected = False
            await asyncio.sleep(delay)
            delay = min(delay * 2, WS_BACKOFF_MAX)


def _apply_stats(status: Status, stats: Mapping[str, Any] | None) -> None:
    """The engine's figures from a pushed message (an engine without them: the poll's stay)."""
    if not stats:
        return
    try:
        _PUSHED_STATS(dict(stats))
    except vol.Invalid:
        return
    for key in ("alerts_today", "cameras_online"):
        if key in stats:
            status["stats"][key] = int(stats[key])


def _status_from_health(health: Health) -> Status:
    return cast(
        Status,
        {
            "health": dict(health),
            "cameras": [],
            "stats": {
                "clips_today": 0,
                "alerts_today": 0,
                "cameras_total": 0,
                "cameras_online": health.get("cameras_online", 0),
                "uptime_seconds": 0.0,
            },
            "config_version": 0,
            "restart_required": False,
        },
    )
