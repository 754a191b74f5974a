"""Domain records passed between the engine's parts.

Plain dataclasses: the state layer persists them, the pipeline produces them, the API
serialises them through the schema package. Every timestamp is timezone-aware UTC.
"""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

# Declared once, in the schema package (the API, the config and the integration use them too).
from .alerts.summary import alert_summary
from .timefmt import iso_z
from .schema.api import ClipStatus
from .schema.config import DETECTION_CLASSES, RISK_LEVELS

__all__ = ["DETECTION_CLASSES", "RISK_LEVELS", "ClipStatus"]


def utcnow() -> datetime:
    return datetime.now(UTC)


def new_clip_id() -> str:
    """Sortable-enough unique id: time prefix keeps ids of one camera roughly ordered."""
    return f"{utcnow():%Y%m%dT%H%M%S}-{uuid.uuid4().hex[:12]}"


def stable_clip_id(camera: str, path: Path) -> str:
    """The clip id of a recording, the same every time it is seen (blocking: stats the file).

    A restarted engine finds an unfinished recording again and must carry on under the id it
    had: the file name (unique per recording) and its modification time make the id, so its
    row is updated and its stored object overwritten instead of duplicated.
    """
    mtime = path.stat().st_mtime
    digest = hashlib.sha256(f"{camera}/{path.name}/{mtime!r}".encode()).hexdigest()
    return f"{datetime.fromtimestamp(mtime, UTC):%Y%m%dT%H%M%S}-{digest[:12]}"


def risk_rank(level: str | None) -> int:
    """Order of risk levels; unknown/None ranks below `low`."""
    return RISK_LEVELS.index(level) if level in RISK_LEVELS else -1


@dataclass(slots=True)
class ClipRecord:
    id: str
    camera: str
    status: str = ClipStatus.QUEUED_LOCAL
    created_at: datetime = field(default_factory=utcnow)
    activity_type: str | None = None
    risk_level: str | None = None
    summary: str | None = None
    detected_objects: list[str] = field(default_factory=list)
    storage_uri: str | None = None
    alerted: bool = False
    duration_s: float | None = None
    # The recording's live event (schema LiveEvent) and its state: active, ended or
    # interrupted (schema version 5; None when no trigger class was confirmed live).
    event: dict[str, Any] | None = None
    event_state: str | None = None
    # The clip's life cycle (retention, offsite copies): its stored size, whether its offsite
    # copy is "pending", "done" or "skipped" (None: no copy asked for), the copy's address,
    # and why it was deleted ("age", "disk_budget", "user").
    size_bytes: int | None = None
    offsite_state: str | None = None
    offsite_uri: str | None = None
    deleted_reason: str | None = None
    # Per-object results (schema ClipObject: class, count, confidence, boxes) and the zones
    # the alerting detections were in; stored since schema version 4.
    objects: list[dict[str, Any]] = field(default_factory=list)
    zones: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(slots=True)
class ClipEventRecord:
    clip_id: str
    type: str
    created_at: datetime = field(default_factory=utcnow)
    data: dict[str, Any] = field(default_factory=dict)
    id: int | None = None


@dataclass(slots=True)
class ClipQuery:
    camera: str | None = None
    status: str | None = None
    alerted: bool | None = None
    risk_level: str | None = None
    activity_type: str | None = None
    since: datetime | None = None
    until: datetime | None = None
    offset: int = 0
    limit: int = 50


@dataclass(slots=True)
class ClipFile:
    """A finished recording handed from a source to the pipeline."""

    camera: str
    path: Path
    started_at: datetime
    ended_at: datetime
    # Chosen by the source when it opened the clip (its live event is keyed by it); else the
    # pipeline makes one.
    clip_id: str | None = None

    @property
    def duration_s(self) -> float:
        return (self.ended_at - self.started_at).total_seconds()


@dataclass(slots=True)
class Detection:
    label: str  # one of DETECTION_CLASSES
    confidence: float
    frame_index: int = 0
    box: tuple[float, float, float, float] | None = None  # x, y, w, h as fractions


@dataclass(slots=True)
class FilterResult:
    detections: list[Detection] = field(default_factory=list)
    frames_sampled: int = 0

    @property
    def classes(self) -> list[str]:
        return sorted({d.label for d in self.detections})


@dataclass(slots=True)
class Analysis:
    activity_type: str
    risk_level: str  # one of RISK_LEVELS
    summary: str


@dataclass(slots=True)
class AlertDecision:
    alert: bool
    reason: str
    risk_level: str | None = None
    activity_type: str | None = None
    # "alert" (notified), "detection" (triggered, recorded, not notified) or None (neither).
    tier: str | None = None


@dataclass(slots=True)
class AlertEvent:
    """The payload of `homesec_alert` (SPEC §7); keys match schema/events.py."""

    camera: str
    clip_id: str
    activity_type: str | None
    risk_level: str | None
    summary: str | None
    view_url: str | None
    storage_uri: str | None
    timestamp: datetime
    detected_objects: list[str]
    objects: list[dict[str, Any]] = field(default_factory=list)
    zones: list[str] = field(default_factory=list)
    tier: str = "alert"  # an alert is always of the `alert` tier (a detection is not sent)
    snapshot_url: str | None = None  # the engine's link to the event's snapshot
    # The camera's last-alert summary this alert makes (alerts/summary.py), for the integration.
    last_alert: dict[str, Any] = field(init=False)

    def __post_init__(self) -> None:
        self.last_alert = alert_summary(
            clip_id=self.clip_id, activity_type=self.activity_type,
            risk_level=self.risk_level, summary=self.summary,
            detected_objects=self.detected_objects, timestamp=self.timestamp,
            objects=self.objects, zones=self.zones)

    def payload(self) -> dict[str, Any]:
        data = asdict(self)
        data["timestamp"] = iso_z(self.timestamp)
        return data
