"""Constants of the HomeSec integration."""

from __future__ import annotations

import logging
from typing import Final

from homeassistant.const import Platform

from .generated.schema_data import (
    ALERT_EVENT_TYPE,
    DEFAULT_MOTION_RESET_S,
    DEFAULT_PORT,
    DEFAULT_SCAN_INTERVAL_S,
)

DOMAIN: Final = "homesec"
LOGGER: Final = logging.getLogger(__package__)

PLATFORMS: Final = [
    Platform.BINARY_SENSOR,
    Platform.CAMERA,
    Platform.EVENT,
    Platform.IMAGE,
    Platform.SENSOR,
    Platform.SWITCH,
]

CONF_API_KEY: Final = "api_key"
CONF_SSL: Final = "ssl"
CONF_VERIFY_SSL: Final = "verify_ssl"
CONF_SCAN_INTERVAL: Final = "scan_interval"
CONF_MOTION_RESET: Final = "motion_reset_s"

# The bus event the engine's home_assistant notifier posts (SPEC §7): for automations; the
# integration itself takes alerts from the WebSocket only.
EVENT_ALERT: Final = ALERT_EVENT_TYPE

# Dispatched once per new alert (deduped by clip_id) with (camera, alert_payload).
SIGNAL_ALERT: Final = "homesec_alert_{entry_id}"
# Dispatched when a camera's health changes live, with (camera,).
SIGNAL_CAMERA_HEALTH: Final = "homesec_camera_health_{entry_id}"
# Live events (started/updated/ended/interrupted) of one entry: (camera, LiveEvent data).
SIGNAL_LIVE_EVENT: Final = "homesec_live_event_{entry_id}"
# A push binary sensor turned on by an event's start goes off at its end; this long after the
# start it goes off anyway (the end never arrived: engine gone, message lost).
EVENT_SAFETY_NET_S: Final = 300.0

MANUFACTURER: Final = "HomeSec"

__all__ = [
    "CONF_API_KEY",
    "CONF_MOTION_RESET",
    "CONF_SCAN_INTERVAL",
    "CONF_SSL",
    "CONF_VERIFY_SSL",
    "DEFAULT_MOTION_RESET_S",
    "DEFAULT_PORT",
    "DEFAULT_SCAN_INTERVAL_S",
    "DOMAIN",
    "EVENT_ALERT",
    "LOGGER",
    "MANUFACTURER",
    "PLATFORMS",
    "SIGNAL_ALERT",
    "SIGNAL_CAMERA_HEALTH",
    "SIGNAL_LIVE_EVENT",
    "EVENT_SAFETY_NET_S",
]
