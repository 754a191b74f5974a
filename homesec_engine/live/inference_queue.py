"""One inference queue per detector, shared by every camera's live watch, fair and first-sight first.

Each camera's watch keeps its own small queue (only its newest frame waits, clip ends in order)
and tells the shared queue it has work. WORKERS threads run the detector for all of them, each
taking the most urgent head across cameras; a camera being served is skipped by the others, so
its frames and clip end stay in order and its tracker has one feeder. Two inferences in flight
instead of one use the cores between an inference's parallel parts: on 2 cores the shipped
model ran 1.14x as many inferences a second (54.2 -> 47.6 ms each, bench/scale.py's machine;
README), while a lone inference still gets every core. A batch of frames in one run was
slower per frame than one at a time with this model (README), so frames are not batched.
What runs next, most urgent first:

1. a clip end (no inference; keeps each camera's events in order);
2. a first-sight frame (a clip whose event has not started): the camera waiting longest first,
   except that a camera whose subject was seen once and needs one more look to be confirmed
   (`min_hits`) is served as if it had waited CONFIRM_HEAD_START_S longer. When many cameras
   see people at once, finishing the cameras that are one look from an event before starting
   the others gets most of them their event sooner (everyone advancing in step made every
   camera wait for all the others' first looks); the head start is bounded, so a camera that
   has seen nothing yet still waits at most that much longer;
3. a follow-up frame (the event started; looked at to follow it and catch a new class), the
   camera waiting longest first. A follow-up still waiting after its deadline is dropped,
   counted, and the camera reports it: at saturation follow-ups degrade, first sight does not.

A camera never has more than one frame waiting, so a burst on one camera cannot starve another:
each pick takes the most urgent head across cameras, and a camera whose frame ran goes behind
the others that wait.

The clip filter's inferences (judging each finished clip, in the pipeline's threads) use the
same model: each takes its turn here (`clip_turn`), after the first sights and clip ends that
are due (waiting at most CLIP_YIELD_S, so clips are still judged while first sights keep
coming), as one of the WORKERS inferences in flight, never all of them: live detection always
keeps one. Judging finished clips is the larger
share of the detector's work on busy cameras; without the turn it split the cores with the
live worker and a person appearing on another camera waited behind it.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Protocol

_LOGGER = logging.getLogger(__name__)

END, FIRST_SIGHT, FOLLOW_UP = 0, 1, 2  # urgency classes, most urgent first
FOLLOW_UP_DEADLINE_S = 2.0  # a follow-up waiting longer than this is stale: dropped
CONFIRM_HEAD_START_S = 1.0  # a first sight one look from confirmation counts as this much older
CLIP_YIELD_S = 1.0  # a clip's frame waits at most this long for live first sights
WORKERS = min(2, os.cpu_count() or 1)  # inferences in flight at once (see the module doc)


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
    def __init__(self, name: str = "detector", workers: int = WORKERS) -> None:
        self.name = name
        self.workers = max(1, workers)
        self._members: list[Queued] = []
        self._serving: set[int] = set()  # ids of members a worker is running now
        self._cond = threading.Condition(threading.RLock())
        self._threads: list[threading.Thread] = []
        self._stopping = False
        # At most `workers` inferences at once, live workers and clip turns together; clip
        # turns hold at most workers - 1 of them, so live detection always has one (a clip's
        # thread runs at a lower CPU priority: holding every slot, it kept live detection
        # waiting on it while it ran slowly).
        self._model = threading.BoundedSemaphore(self.workers)
        self._clip_slots = threading.BoundedSemaphore(max(1, self.workers - 1))
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
            self._threads = [t for t in self._threads if t.is_alive()]
            if len(self._threads) < self.workers:
                self._stopping = False
                for _ in range(self.workers - len(self._threads)):
                    thread = threading.Thread(
                        target=self._loop, daemon=True,
                        name=f"homesec-inference-{self.name}-{len(self._threads)}")
                    self._threads.append(thread)
                    thread.start()
            self._cond.notify()

    def stop(self, timeout: float = 10.0) -> None:
        with self._cond:
            self._stopping = True
            self._cond.notify_all()
            threads = list(self._threads)
        deadline = time.monotonic() + timeout
        for thread in threads:
            if thread is not threading.current_thread():
                thread.join(timeout=max(0.0, deadline - time.monotonic()))

    @contextmanager
    def paused(self) -> Iterator[None]:
        """Hold the workers while a burst is handed in at once (they then pick by urgency);
        the condition is reentrant, so members may hand in from this thread meanwhile."""
        with self._cond:
            yield

    def pick(self) -> tuple[Queued, float, int] | None:
        """The most urgent member now, not being served: (member, when its head was queued,
        its class)."""
        best: tuple[int, float, Queued] | None = None
        for member in self._members:
            if id(member) in self._serving:
                continue
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
                self._serving.add(id(member))
                self.picks += 1
            now = time.monotonic()
            stale = urgency == FOLLOW_UP and now - queued_at > FOLLOW_UP_DEADLINE_S
            try:
                with self._model:
                    member.run_head(now, stale)
            except Exception:  # one camera's failure never stops the others' detection
                _LOGGER.exception("camera %s: live detection step failed", member.camera)
            finally:
                with self._cond:  # its next item may be picked; a waiting clip turn looks again
                    self._serving.discard(id(member))
                    self._cond.notify_all()

    def _live_due(self) -> bool:
        """A first sight or a clip end is waiting (called with the condition held)."""
        chosen = self.pick()
        return chosen is not None and chosen[2] != FOLLOW_UP

    @contextmanager
    def clip_turn(self) -> Iterator[None]:
        """One inference of the clip filter: after the live work that is due (see the module
        doc), as one of the inferences in flight."""
        with self._cond:
            self.clip_turns += 1
            deadline = time.monotonic() + CLIP_YIELD_S
            if self._live_due():
                self.clip_turns_yielded += 1
            while self._live_due() and (remaining := deadline - time.monotonic()) > 0:
                self._cond.wait(remaining)
        with self._clip_slots, self._model:
            yield
