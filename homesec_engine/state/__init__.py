"""The engine's state: clips and clip events behind ClipRepository (SQLAlchemy 2 async)."""

from .errors import DatabaseUnavailable, StateError
from .repository import ClipRepository

__all__ = ["ClipRepository", "DatabaseUnavailable", "StateError"]
