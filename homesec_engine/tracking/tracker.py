"""Detections in, tracks out: one object followed across the frames of one camera.

`Tracker.update(detections, timestamp)` is fed every frame the detector looked at (live or a
clip's sampled frames; any rate, frames may be skipped) and answers a `TrackUpdate`: the
confirmed tracks now, which were newly confirmed, which began or stopped moving, which ended.

Association, per class: first by overlap (IoU of the track's last box and the detection, at
least `iou_min`), greedily from the largest; what is left by centre distance to where the track
was heading (its last centre plus its velocity times the gap), within `max_distance` of the
frame plus half the box. A detection left over opens a track, unless `max_tracks` are already
followed (then it is counted in `dropped`).

Moving or stationary, per class (`stationary_after`): a track's position is the median centre
of its last three looks (one jittery box moves nothing). Once it is `stationary_move` of the
frame away from its anchor, it moved: the anchor follows and the clock restarts. A track that
has not moved for `stationary_s` is stationary; one that moves again is moving again.
An object of a class that can stand still (`stationary_after`) is stationary from its first
look until it is seen to move: already there when the tracker started watching, or first made
out later without moving (a parked car a passer-by uncovered, or one the detector only now
scores high enough), it is not news; a car that drives in moves from look to look and is
active from the look that shows it. A class that never stands still (people, by default) is
moving from its first look.

A moving track unseen for `max_missing_s` ends; a stationary one is kept `stationary_keep_s`
(a passer-by hides the parked car; it is still parked when it shows again).
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from statistics import median

from ..records import Detection
from .settings import TrackerSettings

MOVING, STATIONARY = "moving", "stationary"
PATH_POINTS = 240  # most path points kept per track (older ones are thinned out)


@dataclass(slots=True)
class Track:
    id: int
    label: str
    first_seen: float
    last_seen: float
    box: tuple[float, float, float, float]
    confidence: float
    state: str = MOVING
    hits: int = 1
    confirmed: bool = False
    # (time, centre x, centre y) in frame fractions, oldest first.
    path: list[tuple[float, float, float]] = field(default_factory=list)
    # The best look (largest, surest box) and whatever the caller passed to find its picture.
    best: Detection | None = None
    best_time: float = 0.0
    best_ref: object = None
    best_score: float = -1.0
    last_detection: Detection | None = None  # the detection of its newest look
    ever_moved: bool = False
    was_active: bool = False  # confirmed and moving at some point (arrived, or moved)
    _anchor: tuple[float, float] = (0.0, 0.0)
    _anchor_area: float = 0.0
    _still_since: float = 0.0
    _velocity: tuple[float, float] = (0.0, 0.0)

    @property
    def centre(self) -> tuple[float, float]:
        x, y, w, h = self.box
        return x + w / 2, y + h / 2

    @property
    def moving(self) -> bool:
        return self.state == MOVING

    @property
    def stationary(self) -> bool:
        return self.state == STATIONARY

    @property
    def active(self) -> bool:
        """Confirmed and moving: what starts events, raises sensors and counts as present."""
        return self.confirmed and self.state == MOVING

    def summary(self) -> dict[str, object]:
        """The track as plain data (diagnostics, the clip's record)."""
        return {"id": self.id, "class": self.label, "state": self.state,
                "first_seen": round(self.first_seen, 3), "last_seen": round(self.last_seen, 3),
                "confidence": round(self.confidence, 3),
                "box": [round(v, 4) for v in self.box], "moved": self.ever_moved}


@dataclass(slots=True)
class TrackUpdate:
    """What one `update` changed. The lists are taken when the update is made (the tracks
    themselves go on changing): `tracks` are the confirmed tracks after it."""

    timestamp: float
    tracks: list[Track] = field(default_factory=list)
    active: list[Track] = field(default_factory=list)  # confirmed and moving
    stationary: list[Track] = field(default_factory=list)
    new: list[Track] = field(default_factory=list)  # confirmed with this frame
    started_moving: list[Track] = field(default_factory=list)  # stationary -> moving
    stopped: list[Track] = field(default_factory=list)  # moving -> stationary
    ended: list[Track] = field(default_factory=list)  # lost for good
    # Every track (confirmed or not yet) with a look in this frame: `last_detection` is it.
    seen: list[Track] = field(default_factory=list)
    # Tracks that count from this frame on: newly confirmed and moving, or moving again.
    became_active: list[Track] = field(default_factory=list)


class Tracker:
    """One camera's tracks (not thread-safe: one worker at a time feeds it).

    `settings` are fixed settings, or where the current ones are read (the object filter's,
    which a run-time change replaces): then every frame is judged with the settings of the
    moment, e.g. a raised `min_hits` confirms the next track later, without a new tracker."""

    def __init__(self, settings: TrackerSettings | Callable[[], TrackerSettings] | None = None
                 ) -> None:
        fixed = settings or TrackerSettings.from_config()
        self._settings_of: Callable[[], TrackerSettings] = (
            (lambda: fixed) if isinstance(fixed, TrackerSettings) else fixed)
        self._tracks: list[Track] = []
        self._ids = itertools.count(1)
        self._last_time: float | None = None
        self.dropped = 0  # detections not followed because max_tracks were
        self.ended_count = 0

    # --- reading ---------------------------------------------------------------------------
    @property
    def settings(self) -> TrackerSettings:
        """The settings in force now."""
        return self._settings_of()

    @property
    def tracks(self) -> list[Track]:
        """Confirmed tracks, oldest first."""
        return [t for t in self._tracks if t.confirmed]

    def active(self) -> list[Track]:
        return [t for t in self._tracks if t.active]

    def stationary(self) -> list[Track]:
        return [t for t in self._tracks if t.confirmed and t.stationary]

    def status(self) -> dict[str, object]:
        """For diagnostics: what is followed now and what the cap left out."""
        return {"tracks": len(self.tracks), "active": len(self.active()),
                "stationary": len(self.stationary()), "max_tracks": self.settings.max_tracks,
                "dropped_detections": self.dropped}

    # --- feeding ---------------------------------------------------------------------------
    def update(self, detections: Sequence[Detection], timestamp: float,
               frame_ref: object = None) -> TrackUpdate:
        """Feed the detections of one frame seen at `timestamp` (seconds, any origin, rising).

        `frame_ref` is kept with a track's best look (e.g. the frame, or its time), so the
        caller can find that picture again.
        """
        previous = self._last_time
        dt = 0.0 if previous is None else max(0.0, timestamp - previous)
        self._last_time = timestamp
        update = TrackUpdate(timestamp)
        boxed = [d for d in detections if d.box is not None]
        matched = self._associate(boxed, dt, previous)
        for track, det in matched:
            self._continue(track, det, timestamp, dt, frame_ref, update)
            update.seen.append(track)
        matched_ids = {id(d) for _, d in matched}
        for det in boxed:
            if id(det) not in matched_ids:
                self._open(det, timestamp, frame_ref, update)
        self._expire(timestamp, update)
        update.tracks = self.tracks
        update.active = [t for t in update.tracks if t.active]
        for track in update.active:
            track.was_active = True
        update.stationary = [t for t in update.tracks if t.stationary]
        update.became_active = [t for t in (*update.new, *update.started_moving)
                                if t.active]
        return update

    def _associate(self, detections: list[Detection], dt: float, previous: float | None
                   ) -> list[tuple[Track, Detection]]:
        pairs: list[tuple[Track, Detection]] = []
        free_tracks = list(self._tracks)
        free_dets = list(detections)
        # By overlap, largest first.
        scored = sorted(((_iou(t.box, d.box), i, j) for i, t in enumerate(free_tracks)
                         for j, d in enumerate(free_dets)
                         if t.label == d.label and d.box is not None),
                        reverse=True)
        used_t: set[int] = set()
        used_d: set[int] = set()
        for iou, i, j in scored:
            if iou < self.settings.iou_min:
                break
            if i in used_t or j in used_d:
                continue
            used_t.add(i)
            used_d.add(j)
            pairs.append((free_tracks[i], free_dets[j]))
        # Then by distance to where the track was heading.
        near: list[tuple[float, int, int]] = []
        for i, t in enumerate(free_tracks):
            if i in used_t:
                continue
            px = t.centre[0] + t._velocity[0] * dt
            py = t.centre[1] + t._velocity[1] * dt
            for j, d in enumerate(free_dets):
                if j in used_d or d.label != t.label or d.box is None:
                    continue
                cx, cy = d.box[0] + d.box[2] / 2, d.box[1] + d.box[3] / 2
                gate = self.settings.max_distance + max(t.box[2], t.box[3]) / 2
                dist = math.hypot(cx - px, cy - py)
                if dist <= gate:
                    near.append((dist, i, j))
        for _dist, i, j in sorted(near):
            if i in used_t or j in used_d:
                continue
            used_t.add(i)
            used_d.add(j)
            pairs.append((free_tracks[i], free_dets[j]))
        # Last, one fast mover: the only track of a class seen in the previous look and the
        # only detection of that class left are one object (a runner at a low frame rate).
        for label in {d.label for j, d in enumerate(free_dets) if j not in used_d}:
            lone_t = [i for i, t in enumerate(free_tracks) if i not in used_t
                      and t.label == label and t.last_seen == previous
                      and not (t.stationary and t.confirmed)]
            lone_d = [j for j, d in enumerate(free_dets) if j not in used_d and d.label == label]
            if len(lone_t) == 1 and len(lone_d) == 1 and \
                    sum(t.label == label for t in free_tracks) == 1:
                used_t.add(lone_t[0])
                used_d.add(lone_d[0])
                pairs.append((free_tracks[lone_t[0]], free_dets[lone_d[0]]))
        return pairs

    def _open(self, det: Detection, timestamp: float, frame_ref: object,
              update: TrackUpdate) -> None:
        if len(self._tracks) >= self.settings.max_tracks:
            self.dropped += 1
            return
        assert det.box is not None
        track = Track(id=next(self._ids), label=det.label, first_seen=timestamp,
                      last_seen=timestamp, box=det.box, confidence=det.confidence,
                      last_detection=det)
        track._anchor = track.centre
        track._anchor_area = det.box[2] * det.box[3]
        track._still_since = timestamp
        track.path.append((timestamp, *track.centre))
        # A class that can stand still: stationary until it is seen to move.
        if self.settings.stationary_after(det.label) is not None:
            track.state = STATIONARY
        self._remember_best(track, det, timestamp, frame_ref)
        self._tracks.append(track)
        update.seen.append(track)
        self._confirm(track, update)

    def _continue(self, track: Track, det: Detection, timestamp: float, dt: float,
                  frame_ref: object, update: TrackUpdate) -> None:
        assert det.box is not None
        old = track.centre
        track.box = det.box
        track.confidence = det.confidence
        track.last_seen = timestamp
        track.last_detection = det
        track.hits += 1
        new = track.centre
        if dt > 0:  # smoothed velocity, to find the track again after a skipped frame
            vx, vy = (new[0] - old[0]) / dt, (new[1] - old[1]) / dt
            track._velocity = (0.5 * track._velocity[0] + 0.5 * vx,
                               0.5 * track._velocity[1] + 0.5 * vy)
        track.path.append((timestamp, *new))
        if len(track.path) > PATH_POINTS:  # keep the ends, thin out the middle
            track.path = track.path[:1] + track.path[1:-1:2] + track.path[-1:]
        self._remember_best(track, det, timestamp, frame_ref)
        self._judge_motion(track, timestamp, update)
        self._confirm(track, update)

    def _judge_motion(self, track: Track, timestamp: float, update: TrackUpdate) -> None:
        recent = track.path[-3:]
        position = (median(p[1] for p in recent), median(p[2] for p in recent))
        moved = math.dist(position, track._anchor) > self.settings.stationary_move
        # A stationary object whose box shrank is being hidden (a passer-by in front of the
        # parked car), not driving off: its box's centre shifts without it moving.
        area = track.box[2] * track.box[3]
        if moved and track.state == STATIONARY and area < 0.6 * track._anchor_area:
            moved = False
        if moved:
            track._anchor = position
            track._anchor_area = area
            track._still_since = timestamp
            track.ever_moved = True
            if track.state == STATIONARY:
                track.state = MOVING
                if track.confirmed:
                    update.started_moving.append(track)
            return
        after = self.settings.stationary_after(track.label)
        if (track.state == MOVING and after is not None
                and timestamp - track._still_since >= after):
            track.state = STATIONARY
            track._velocity = (0.0, 0.0)
            if track.confirmed:
                update.stopped.append(track)

    def _confirm(self, track: Track, update: TrackUpdate) -> None:
        if not track.confirmed and track.hits >= self.settings.min_hits:
            track.confirmed = True
            update.new.append(track)

    def _expire(self, timestamp: float, update: TrackUpdate) -> None:
        kept = []
        for track in self._tracks:
            keep_s = (max(self.settings.max_missing_s, self.settings.stationary_keep_s)
                      if track.stationary else self.settings.max_missing_s)
            # An unconfirmed track gets no grace: one look that did not repeat is noise.
            if not track.confirmed and track.last_seen < timestamp:
                missing_ok = timestamp - track.last_seen <= self.settings.max_missing_s / 2
            else:
                missing_ok = timestamp - track.last_seen <= keep_s
            if missing_ok:
                kept.append(track)
            elif track.confirmed:
                self.ended_count += 1
                update.ended.append(track)
        self._tracks = kept

    @staticmethod
    def _remember_best(track: Track, det: Detection, timestamp: float,
                       frame_ref: object) -> None:
        assert det.box is not None
        score = det.confidence * math.sqrt(det.box[2] * det.box[3])
        if score > track.best_score:
            track.best, track.best_score = det, score
            track.best_time, track.best_ref = timestamp, frame_ref


def by_priority(labels: Iterable[str], priority: Sequence[str]) -> list[str]:
    """`labels` ordered most important first (`priority` order, then the rest by name)."""
    rank = {label: i for i, label in enumerate(priority)}
    return sorted(set(labels), key=lambda label: (rank.get(label, len(rank)), label))


def _iou(a: tuple[float, float, float, float] | None,
         b: tuple[float, float, float, float] | None) -> float:
    if a is None or b is None:
        return 0.0
    ax, ay, aw, ah = a
    bx, by, bw, bh = b
    iw = max(0.0, min(ax + aw, bx + bw) - max(ax, bx))
    ih = max(0.0, min(ay + ah, by + bh) - max(ay, by))
    inter = iw * ih
    union = aw * ah + bw * bh - inter
    return inter / union if union > 0 else 0.0
