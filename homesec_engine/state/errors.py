"""Errors raised by the state layer."""

from __future__ import annotations


class StateError(Exception):
    """Base class of the state layer's errors."""


class DatabaseUnavailable(StateError):
    """The state database does not answer, so a read cannot be served.

    Writes never raise this: while the database is down they are kept in the outbox and
    replayed in order when it answers again. The API maps this error to 503 `DB_UNAVAILABLE`.
    """

    def __init__(self, reason: str | None = None) -> None:
        self.reason = reason
        message = "The state database is unavailable; reads fail until it answers again"
        message += " (writes are kept and replayed in order when it returns)"
        if reason:
            message += f": {reason}"
        super().__init__(message)
