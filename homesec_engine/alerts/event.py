"""The camera event record: what happened on a camera, as one typed value.

One constructor per source (`from_live`: a live watch confirmed a trigger class while the clip
was recorded; `from_clip`: the clip pipeline judged a clip nobody watched live; `from_stored`:
an event kept on the clip's row) and one builder per outgoing shape (`alert`: the
homesec_alert payload, `message`: the live-event message, `last_alert`: the camera's
last-alert summary). The alert and the live event use the same field names (schema
AlertEvent and LiveEvent).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from ..records import AlertEvent, Analysis
from ..timefmt import iso_z
from .summary import alert_summary

if TYPE_CHECKING:
    from ..live.watch import Found

ACTIVE, ENDED, INTERRUPTED = "active", "ended", "interrupted"


def clip_tier(alerted: bool | None, event: Mapping[str, Any] | None,
              objects: Iterable[Mapping[str, Any]]) -> str | None:
    """A clip's tier: `alert` when it alerted (or its live event is one), `detection` when a
    trigger class moved in it (an event, or a counted object that moved) but it was not
    notified, else none."""
    if alerted:
        return "alert"
    if event:
        return "alert" if event.get("tier") == "alert" else "detection"
    return "detection" if any(int(o.get("count") or 0) > 0 for o in objects) else None


def _parse(when: str | None) -> datetime | None:
    return datetime.fromisoformat(when.replace("Z", "+00:00")) if when else None


@dataclass(slots=True)
class CameraEvent:
    clip_id: str
    camera: str
    started_at: datetime
    snapshot_url: str
    view_url: str
    detected_objects: list[str] = field(default_factory=list)
    active_classes: list[str] = field(default_factory=list)
    zones: list[str] = field(default_factory=list)
    objects: list[dict[str, Any]] = field(default_factory=list)
    activity_type: str | None = None
    risk_level: str | None = None
    summary: str | None = None
    tier: str | None = None
    alerted: bool = False
    state: str = ACTIVE
    ended_at: datetime | None = None
    duration_s: float | None = None
    end_reason: str | None = None
    storage_uri: str | None = None  # known once the clip is stored (alerts carry it)

    # -- constructors, one per source ------------------------------------------------------
    @classmethod
    def from_live(cls, camera: str, found: Found, *, at: datetime, snapshot_url: str,
                  view_url: str) -> CameraEvent:
        """A live watch confirmed a trigger class on a frame of the clip being recorded."""
        event = cls(clip_id=found.clip_id, camera=camera, started_at=at,
                    snapshot_url=snapshot_url, view_url=view_url, tier="detection")
        event.saw(found)
        return event

    @classmethod
    def from_clip(cls, camera: str, clip_id: str, *, started_at: datetime,
                  detected_objects: list[str], objects: list[dict[str, Any]],
                  zones: list[str], analysis: Analysis, storage_uri: str | None,
                  snapshot_url: str, view_url: str) -> CameraEvent:
        """The clip pipeline judged a clip (no live event was open for it)."""
        return cls(clip_id=clip_id, camera=camera, started_at=started_at,
                   snapshot_url=snapshot_url, view_url=view_url,
                   detected_objects=list(detected_objects), objects=list(objects),
                   zones=list(zones), activity_type=analysis.activity_type,
                   risk_level=analysis.risk_level, summary=analysis.summary,
                   storage_uri=storage_uri, state=ENDED, end_reason="clip_closed")

    @classmethod
    def from_stored(cls, data: dict[str, Any]) -> CameraEvent:
        """An event kept on the clip's row (schema LiveEvent)."""
        return cls(
            clip_id=data["clip_id"], camera=data["camera"],
            started_at=_parse(data["started_at"]) or datetime.now(UTC),
            snapshot_url=data.get("snapshot_url") or "", view_url=data.get("view_url") or "",
            detected_objects=list(data.get("detected_objects") or []),
            active_classes=list(data.get("active_classes") or []),
            zones=list(data.get("zones") or []), objects=list(data.get("objects") or []),
            activity_type=data.get("activity_type"), risk_level=data.get("risk_level"),
            summary=data.get("summary"), tier=data.get("tier"),
            alerted=bool(data.get("alerted")), state=data.get("state") or ACTIVE,
            ended_at=_parse(data.get("ended_at")), duration_s=data.get("duration_s"),
            end_reason=data.get("end_reason"))

    def saw(self, found: Found) -> None:
        """What the live watch's active tracks show now."""
        self.detected_objects = list(found.classes)
        self.active_classes = list(found.active)
        self.zones = list(found.zones)
        self.objects = list(found.objects)

    def end(self, state: str, reason: str, at: datetime) -> None:
        self.state, self.end_reason, self.ended_at = state, reason, at

    # -- builders, one per outgoing shape ---------------------------------------------------
    def stored(self) -> dict[str, Any]:
        """The event as the clip's row keeps it (schema LiveEvent)."""
        return {
            "clip_id": self.clip_id, "camera": self.camera, "state": self.state,
            "started_at": iso_z(self.started_at),
            "ended_at": iso_z(self.ended_at) if self.ended_at else None,
            "duration_s": self.duration_s, "detected_objects": list(self.detected_objects),
            "active_classes": list(self.active_classes), "zones": list(self.zones),
            "objects": [dict(o) for o in self.objects], "activity_type": self.activity_type,
            "tier": self.tier, "risk_level": self.risk_level, "summary": self.summary,
            "alerted": self.alerted, "snapshot_url": self.snapshot_url,
            "view_url": self.view_url, "end_reason": self.end_reason,
        }

    def message(self, phase: str, leaves_last_alert: bool = False) -> dict[str, Any]:
        """The live-event message (WebSocket `event`, homesec_event): LiveEvent + phase; an
        event that ends as its camera's last alert carries that summary."""
        message = {"phase": phase, **self.stored()}
        if leaves_last_alert and self.alerted and self.state != ACTIVE:
            message["last_alert"] = self.last_alert()
        return message

    def last_alert(self) -> dict[str, Any]:
        """The camera's last-alert summary this event makes (schema AlertSummary)."""
        return alert_summary(
            clip_id=self.clip_id, activity_type=self.activity_type,
            risk_level=self.risk_level, summary=self.summary,
            detected_objects=self.detected_objects, timestamp=self.started_at,
            objects=self.objects, zones=self.zones)

    def alert(self) -> AlertEvent:
        """The homesec_alert payload (notifiers, WebSocket `alert`)."""
        return AlertEvent(
            camera=self.camera, clip_id=self.clip_id, activity_type=self.activity_type,
            risk_level=self.risk_level, summary=self.summary, view_url=self.view_url,
            storage_uri=self.storage_uri, timestamp=self.started_at,
            detected_objects=list(self.detected_objects), objects=list(self.objects),
            zones=list(self.zones), tier=self.tier or "alert",
            snapshot_url=self.snapshot_url)
