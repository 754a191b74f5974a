"""The engine's REST API, event WebSocket and panel (aiohttp)."""

from .app import create_app

__all__ = ["create_app"]
