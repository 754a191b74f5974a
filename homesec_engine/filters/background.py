"""Judging finished clips at a lower CPU priority than live detection.

Judging a clip decodes the whole recording (H.264 frames depend on each other, so sampling two
a second still decodes every one) and runs the model on its sampled frames: on a busy camera
several times the CPU of its live detection (README, "Many cameras at once"). Run beside live
detection at the same priority, that work took the cores from the person appearing on
another camera. Each judgement runs in a thread of its own that asks the kernel for a lower
priority (nice +CLIP_NICENESS; Linux sets it per thread), so live detection and the cameras'
own decoding get the CPU first and finished clips are judged with what is left; when nothing
else wants the CPU they run at full speed. A thread per clip (not a pool) because a thread's
priority cannot be raised back without privileges, and no thread outlives its clip.
"""

from __future__ import annotations

import asyncio
import logging
import os
import sys
import threading
from collections.abc import Callable
from typing import Any, TypeVar

_LOGGER = logging.getLogger(__name__)

CLIP_NICENESS = 10  # CFS weight 110 against 1024 at 0: about a tenth of a contended core
T = TypeVar("T")


def _lower_priority() -> None:
    if sys.platform != "linux":  # elsewhere PRIO_PROCESS would name the whole process
        return
    try:
        tid = threading.get_native_id()
        os.setpriority(os.PRIO_PROCESS, tid, os.getpriority(os.PRIO_PROCESS, tid)
                       + CLIP_NICENESS)
    except OSError as err:  # e.g. a sandbox refusing it: clips are judged all the same
        _LOGGER.warning("clip judging runs at normal priority: %s", err)


async def run_below_live(func: Callable[..., T], *args: Any) -> T:
    """`func(*args)` in a thread of its own at the clip judging priority."""
    loop = asyncio.get_running_loop()
    future: asyncio.Future[T] = loop.create_future()

    def settle(outcome: Callable[[], None]) -> None:
        if not future.done():  # the caller may have been cancelled meanwhile
            outcome()

    def work() -> None:
        _lower_priority()
        try:
            result = func(*args)
        except BaseException as err:  # handed to the awaiting task, as to_thread does
            error = err
            done: Callable[[], None] = lambda: future.set_exception(error)  # noqa: E731
        else:
            done = lambda: future.set_result(result)  # noqa: E731
        try:
            loop.call_soon_threadsafe(settle, done)
        except RuntimeError:  # the loop closed while the clip was judged
            pass

    thread = threading.Thread(target=work, name="homesec-clip", daemon=True)
    thread.start()
    try:
        await future
    except asyncio.CancelledError:
        raise  # the clip's judgement finishes on its own; nobody waits for it
    except BaseException:  # noqa: S110  (raised below, once the thread is gone)
        pass
    while thread.is_alive():  # it has handed over: only its last instructions are left
        await asyncio.sleep(0.001)
    return future.result()
