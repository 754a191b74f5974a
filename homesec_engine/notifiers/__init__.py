"""Notifiers: where alerts and camera health changes are pushed (fan-out, best effort)."""

from .base import Notifier, NotifierConfigError, NotifierError, PermanentNotifierError
from .fanout import NotifierFanout
from .home_assistant import HomeAssistantNotifier
from .mqtt import MqttNotifier

NOTIFIER_BACKENDS: dict[str, type[Notifier]] = {
    "home_assistant": HomeAssistantNotifier,
    "mqtt": MqttNotifier,
}

__all__ = [
    "NOTIFIER_BACKENDS", "HomeAssistantNotifier", "MqttNotifier", "Notifier",
    "NotifierConfigError", "NotifierError", "NotifierFanout", "PermanentNotifierError",
]
