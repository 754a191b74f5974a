"""Handing work from a worker thread to the event loop (a leaf module)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any


def post(loop: asyncio.AbstractEventLoop | None, callback: Callable[..., Any], *args: Any) -> None:
    """Run `callback(*args)` on `loop` soon; nothing once the loop is gone (the engine is
    stopping: what a worker still reports then has no one to hear it)."""
    if loop is None or loop.is_closed():
        return
    try:
        loop.call_soon_threadsafe(callback, *args)
    except RuntimeError:  # the loop closed in between
        pass
