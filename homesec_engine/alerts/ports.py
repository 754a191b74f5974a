"""What the live event owner (live/events.py) needs of the clip pipeline, as protocols: the
pipeline provides them, and neither module imports the other."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING, Any, Protocol

from ..records import AlertDecision, AlertEvent, Analysis

if TYPE_CHECKING:
    from ..events import EventHub
    from ..policy import AlertPolicyEngine
    from ..state.repository import ClipRepository


class Judgement(Protocol):
    """The clip pipeline's verdict on one clip (its ClipOutcome)."""

    clip_id: str
    analysis: Analysis | None
    decision: AlertDecision | None


class EventPorts(Protocol):
    """The pipeline's doors the event owner goes through (state, snapshots, alerts)."""

    repository: ClipRepository
    events: EventHub
    policy: Callable[[], AlertPolicyEngine]

    async def write(self, method: Callable[..., Any], *args: Any, **kwargs: Any) -> None: ...
    def media_url(self, clip_id: str, what: str) -> str: ...
    async def store_snapshot(self, clip_id: str, jpeg: bytes) -> str: ...
    def announce(self, *, camera: str, clip_id: str, analysis: Analysis, classes: list[str],
                 objects: list[dict[str, Any]], zones: list[str], timestamp: datetime,
                 storage_uri: str | None) -> AlertEvent: ...
