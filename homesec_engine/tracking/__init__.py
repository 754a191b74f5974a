"""Tracked objects: detections associated across frames (tracker.py), judged moving or
stationary per class (motion.py), with the settings from the config (settings.py)."""

from .settings import TrackerSettings
from .tracker import Track, Tracker, TrackUpdate

__all__ = ["Track", "TrackUpdate", "Tracker", "TrackerSettings"]
