"""How every HomeSec payload writes a moment (a leaf module: anything may import it)."""

from __future__ import annotations

from datetime import UTC, datetime


def iso_z(when: datetime) -> str:
    """ISO 8601 in UTC with a `Z`."""
    if when.tzinfo is not UTC:  # what the state layer returns is UTC already (lists of clips)
        when = when.astimezone(UTC)
    text = when.isoformat()
    return text[:-6] + "Z" if text.endswith("+00:00") else text
