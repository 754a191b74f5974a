"""A clip's judgement from all its tracks: what was there, what moved, and what to show.

Every confirmed track of the clip counts (not the first class confirmed): per class, how many
moved (`count`: tracks that were active at some point: arrived, or moved) and how many only
stood there (`stationary`: a parked car). The activity is the most important class that moved
(`activity_priority`), and the snapshot is the best look of that class's best track.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from ..records import Detection
from .tracker import Track, by_priority


@dataclass(slots=True)
class ClipTracks:
    """The tracks of one clip, with every look each of them had."""

    tracks: list[Track] = field(default_factory=list)  # confirmed, in order of first look
    looks: dict[int, list[Detection]] = field(default_factory=dict)  # track id -> detections
    counted: set[int] = field(default_factory=set)  # ids with a look that counts (zones)

    def add_looks(self, seen: Iterable[Track], counts: Callable[[Detection], bool]) -> None:
        for track in seen:
            det = track.last_detection
            if det is None:
                continue
            self.looks.setdefault(track.id, []).append(det)
            if counts(det):
                self.counted.add(track.id)

    def counting(self) -> list[Track]:
        return [t for t in self.tracks if t.id in self.counted]

    def moved(self) -> list[Track]:
        """Counting tracks that were active in the clip (they arrived or moved)."""
        return [t for t in self.counting() if t.was_active]

    def stood(self) -> list[Track]:
        """Counting tracks that never were active (there all along, standing still)."""
        return [t for t in self.counting() if not t.was_active]

    def moving_classes(self, priority: Sequence[str]) -> list[str]:
        return by_priority((t.label for t in self.moved()), priority)

    def headline(self, priority: Sequence[str]) -> Track | None:
        """The track whose best look is the clip's picture: the best of the most important
        class that moved (or, when nothing moved, of the most important one that stood)."""
        for pool in (self.moved(), self.stood()):
            classes = by_priority((t.label for t in pool), priority)
            if classes:
                mine = [t for t in pool if t.label == classes[0]]
                return max(mine, key=lambda t: t.best_score)
        return None

    def detections(self, tracks: Iterable[Track] | None = None) -> list[Detection]:
        """Every look of `tracks` (default: all confirmed ones), in frame order."""
        chosen = self.tracks if tracks is None else tracks
        out = [d for t in chosen for d in self.looks.get(t.id, [])]
        out.sort(key=lambda d: d.frame_index)
        return out

    def objects(self, priority: Sequence[str]) -> list[dict[str, Any]]:
        """Per class (schema ClipObject): `count` that moved, `stationary` that stood,
        best confidence, and the boxes of the best looks (of those that moved, if any)."""
        out: list[dict[str, Any]] = []
        counting = self.counting()
        for label in by_priority((t.label for t in counting), priority):
            mine = [t for t in counting if t.label == label]
            moved = [t for t in mine if t.was_active]
            shown = moved or mine
            out.append({
                "class": label, "count": len(moved),
                "stationary": len(mine) - len(moved),
                "confidence": round(max(t.best.confidence for t in mine if t.best), 4),
                "boxes": [[round(float(v), 4) for v in t.best.box]
                          for t in sorted(shown, key=lambda t: -t.best_score)
                          if t.best is not None and t.best.box is not None],
            })
        return out
