"""A camera's last-alert summary (schema AlertSummary), built here and nowhere else.

The pipeline keeps it in `last_alerts` when an alert goes out (and carries it in the alert as
`last_alert`, so the integration applies it as is), the runtime rebuilds it from the newest
alerted clip at start, and /status serves what `last_alerts` holds.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

from ..timefmt import iso_z


def alert_summary(*, clip_id: str, activity_type: str | None, risk_level: str | None,
                  summary: str | None, detected_objects: Iterable[str],
                  timestamp: datetime | str, objects: Iterable[Mapping[str, Any]] = (),
                  zones: Iterable[str] = ()) -> dict[str, Any]:
    """The AlertSummary of one alert (the clip it belongs to, what it found, when)."""
    return {
        "clip_id": clip_id, "activity_type": activity_type, "risk_level": risk_level,
        "summary": summary, "detected_objects": list(detected_objects),
        "timestamp": timestamp if isinstance(timestamp, str) else iso_z(timestamp), "objects": [dict(o) for o in objects],
        "zones": list(zones),
    }


def served(summary: Mapping[str, Any]) -> dict[str, Any]:
    """What /status shows of a kept summary: exactly the AlertSummary fields."""
    return alert_summary(
        clip_id=summary["clip_id"], activity_type=summary.get("activity_type"),
        risk_level=summary.get("risk_level"), summary=summary.get("summary"),
        detected_objects=summary.get("detected_objects") or [],
        timestamp=summary["timestamp"], objects=summary.get("objects") or [],
        zones=summary.get("zones") or [])
