"""Confirmation over consecutive sampled frames (`min_hits`): one-frame flickers never count.

A class is confirmed once it was detected in `min_hits` sampled frames in a row; from then on
its detections count as they come. A clip shorter than `min_hits` sampled frames confirms a
class seen in every one of them (a still picture, a very short clip).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ..records import Detection

Seen = tuple[Detection, np.ndarray]  # a detection and the RGB frame it was found in


@dataclass(slots=True)
class Confirmation:
    min_hits: int
    _streaks: dict[str, list[Seen]] = field(default_factory=dict)
    _confirmed: set[str] = field(default_factory=set)
    _frames: int = 0

    def add(self, found: list[Detection], rgb: np.ndarray) -> list[Seen]:
        """Feed one frame's detections; returns those that count (newly or already confirmed)."""
        self._frames += 1
        out: list[Seen] = []
        labels = {d.label for d in found}
        for label in list(self._streaks):
            if label not in labels:  # the streak broke: start over
                del self._streaks[label]
                self._confirmed.discard(label)
        for det in found:
            streak = self._streaks.setdefault(det.label, [])
            if det.label in self._confirmed:
                out.append((det, rgb))
                continue
            streak.append((det, rgb))
            if len({id(frame) for _, frame in streak}) >= self.min_hits:
                self._confirmed.add(det.label)
                out.extend(streak)
        return out

    def finish(self) -> list[Seen]:
        """At the clip's end: classes seen in every frame of a clip shorter than `min_hits`."""
        if self._frames >= self.min_hits:
            return []
        return [seen for label, streak in self._streaks.items() if label not in self._confirmed
                for seen in streak if len({id(f) for _, f in streak}) == self._frames]
