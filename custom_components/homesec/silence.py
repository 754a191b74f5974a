"""Until when notifications about a camera are silenced (homesec.silence_camera).

It gates notifications only: the engine keeps recording, detecting and alerting, and the
entities keep updating. The notification blueprint asks before it notifies and silences a
camera for its cooldown after each notification and for 30 minutes from a phone's action
button. Silences are kept in memory: a restart ends them, which errs on the side of notifying.
A scope (e.g. one automation's entity id) silences one household member's notifications; the
empty scope silences everyone's.
"""

from __future__ import annotations

from datetime import datetime, timedelta


class CameraSilences:
    """Silenced-until times by (scope, camera)."""

    def __init__(self) -> None:
        self._until: dict[tuple[str, str], datetime] = {}

    def silence(self, camera: str, scope: str, seconds: int, now: datetime) -> None:
        """Silence for `seconds` from now (0 ends it); never shortens a longer silence."""
        key = (scope, camera)
        if seconds <= 0:
            self._until.pop(key, None)
            return
        until = now + timedelta(seconds=seconds)
        current = self._until.get(key)
        self._until[key] = until if current is None or current < until else current

    def until(self, camera: str, scope: str, now: datetime) -> datetime | None:
        """The end of the silence that applies to `scope` (its own or everyone's); None."""
        self._forget_expired(now)
        ends = [self._until[key] for key in {(scope, camera), ("", camera)}
                if key in self._until]
        return max(ends, default=None)

    def _forget_expired(self, now: datetime) -> None:
        for key in [key for key, until in self._until.items() if until <= now]:
            del self._until[key]
