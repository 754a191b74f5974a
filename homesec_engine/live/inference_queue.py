"""One inference queue per detector, shared by every camera's live watch, fair and first-sight first.

Each camera's watch keeps its own small queue (only its newest frame waits, clip ends in order)
and tells the shared queue it has work. One worker thread runs the detector for all of them:
running inferences one at a time lets the model use every core without N camera threads
fighting over them, and lets the queue choose what runs next:

1. a clip end (no inference; keeps each camera's events in order);
2. a first-sight frame (a clip whose event has not started): the camera waiting longest first;
3. a follow-up frame (the event started; looked at to follow it and catch a new class), the
   camera waiting longest first. A follow-up still waiting after its deadline is dropped,
   counted, and the camera reports it: at saturation follow-ups degrade, first sight does not.

A camera never has more than one frame waiting, so a burst on one camera cannot starve another:
each pick takes the most urgent head across cameras, and a camera whose frame ran goes behind
the others that wait.

The clip filter's inferences (judging each finished clip, in the pipeline's threads) use the
same model: each takes its turn here (`clip_turn`), after the first sights and clip ends that
are due (waiting at most CLIP_YIELD_S, so clips are still judged while first sights keep
coming) and never at the same time as another inference. Judging finished clips is the larger
share of the detector's work on busy cameras; without the turn it split the cores with the
live worker and a person appearing on another camera waited behind it.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Protocol

_LOGGER = logging.getLogger(__name__)

END, FIRST_SIGHT, FOLLOW_UP = 0, 1, 2  # urgency classes, most urgent first
FOLLOW_UP_DEADLINE_S = 2.0  # a follow-up waiting longer than this is stale: dropped
CLIP_YIELD_S = 1.0  # a clip's frame waits at most this long for live first sights


class Queued(Protocol):
    """A camera's side of the queue (LiveWatch)."""

    camera: str

    def head(self) -> tuple[int, float] | None:
        """(urgency class, monotonic time it was queued) of the next item, None when idle."""
        ...

    def run_head(self, now: float, drop_stale: bool) -> None:
        """Take the next item and handle it (detect, or drop it when `drop_stale`)."""
        ...


class InferenceQueue:
    def __init__(self, name: str = "detector") -> None:
        self.name = name
        self._members: list[Queued] = []
        self._cond = threading.Condition(threading.RLock())
        self._thread: threading.Thread | None = None
        self._stopping = False
        self._model = threading.Lock()  # one inference at a time: live worker and clip turns
        self.picks = 0
        self.clip_turns = 0
        self.clip_turns_yielded = 0  # clip frames that waited for live first sights

    def join(self, member: Queued) -> None:
        with self._cond:
            if member not in self._members:
                self._members.append(member)

    def leave(self, member: Queued) -> None:
        with self._cond:
            if member in self._members:
                self._members.remove(member)
            if not self._members:
                self._stopping = True
                self._cond.notify_all()

    def wake(self) -> None:
        """A member has new work (called with no member lock held)."""
        with self._cond:
            if self._thread is None or not self._thread.is_alive():
                self._stopping = False
                self._thread = threading.Thread(target=self._loop, daemon=True,
                                                name=f"homesec-inference-{self.name}")
                self._thread.start()
            self._cond.notify()

    def stop(self, timeout: float = 10.0) -> None:
        with self._cond:
            self._stopping = True
            self._cond.notify_all()
            thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout=timeout)

    @contextmanager
    def paused(self) -> Iterator[None]:
        """Hold the worker while a burst is handed in at once (it then picks by urgency);
        the condition is reentrant, so members may hand in from this thread meanwhile."""
        with self._cond:
            yield

    def pick(self) -> tuple[Queued, float, int] | None:
        """The most urgent member now: (member, when its head was queued, its class)."""
        best: tuple[int, float, Queued] | None = None
        for member in self._members:
            head = member.head()
            if head is not None and (best is None or head[:2] < best[:2]):
                best = (head[0], head[1], member)
        return None if best is None else (best[2], best[1], best[0])

    def _loop(self) -> None:
        while True:
            with self._cond:
                chosen = self.pick()
                while chosen is None and not self._stopping:
                    self._cond.wait(timeout=1.0)
                    chosen = self.pick()
                if chosen is None:
                    return
            member, queued_at, urgency = chosen
            now = time.monotonic()
            stale = urgency == FOLLOW_UP and now - queued_at > FOLLOW_UP_DEADLINE_S
            self.picks += 1
            try:
                with self._model:
                    member.run_head(now, stale)
            except Exception:  # one camera's failure never stops the others' detection
                _LOGGER.exception("camera %s: live detection step failed", member.camera)
            with self._cond:  # a clip turn waiting for first sights looks again
                self._cond.notify_all()

    def _live_due(self) -> bool:
        """A first sight or a clip end is waiting (called with the condition held)."""
        chosen = self.pick()
        return chosen is not None and chosen[2] != FOLLOW_UP

    @contextmanager
    def clip_turn(self) -> Iterator[None]:
        """One inference of the clip filter: after the live work that is due (see the module
        doc), holding the model so no other inference runs meanwhile."""
        self.clip_turns += 1
        deadline = time.monotonic() + CLIP_YIELD_S
        with self._cond:
            if self._live_due():
                self.clip_turns_yielded += 1
            while self._live_due() and (remaining := deadline - time.monotonic()) > 0:
                self._cond.wait(remaining)
        with self._model:
            yield
