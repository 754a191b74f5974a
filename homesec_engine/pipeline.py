"""The clip pipeline: ClipSource -> (upload || filter) -> analyzer -> policy -> notifiers.

Per clip, as one task (several clips run at once, up to `max_concurrent`):

1. record the clip (`queued_local`, event `clip_recorded`);
2. upload to storage and filter the frames *in parallel*;
   - upload: `uploaded` + event `uploaded`; a failure is retried, then recorded
     (`upload_failed`) and never holds the alert back; the clip ends in `error`;
   - filter: event `filtered`; a failure is recorded (`filter_failed`), the clip ends in
     `error` and nothing further runs (no analyzer, no alert);
   With zones on the camera, only detections inside a zone that takes their class count
   (zones.py); what counts becomes the clip's `objects` and `zones`;
3. a snapshot JPEG of the best detection frame, at the clip's full resolution with the boxes
   and labels drawn, is stored as `<clip_id>.jpg` (event `snapshot`);
4. the analyzer runs only when a counting trigger class was detected (one that attaches the
   stored snapshot waits, bounded, for the clip and snapshot to be stored); when it fails (`analyze_failed`)
   the clip is judged as if there were no analyzer (policy.fallback_analysis);
5. the policy decides (`analyzed` + event `alert_decided`);
6. the judgement goes to the camera events' owner (alerts/owner.py), which alone decides
   whether an alert goes out (one per event: an event that alerted live never alerts again)
   and writes the clip's event columns; the clip is `done`, and its live event ends.

A clip cut off by a stop (the drain timed out) ends in `error` with event `interrupted`.

Every state write goes through ClipRepository, whose writes do not fail while the database is
down; a state error never stops a clip.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .analyzers.base import Analyzer
from .clipfiles import clip_key, store_snapshot
from .filters.base import FilterOutput, ObjectFilter
from .policy import AlertPolicyEngine, fallback_analysis
from .records import (
    AlertDecision,
    AlertEvent,
    Analysis,
    ClipEventRecord,
    ClipFile,
    ClipRecord,
    ClipStatus,
    Detection,
    new_clip_id,
    stable_clip_id,
)
from .snapshots import render_snapshot
from .zones import CameraZones, summarize_objects

if TYPE_CHECKING:  # the repository module is heavy (SQLAlchemy); the runtime imports it late
    from .alerts.owner import CameraEvents
    from .offsite.uploader import OffsiteUploader
    from .state.repository import ClipRepository
    from .storage.base import Storage

_LOGGER = logging.getLogger(__name__)

_RANK = {ClipStatus.QUEUED_LOCAL: 0, ClipStatus.UPLOADED: 1, ClipStatus.ANALYZED: 2,
         ClipStatus.DONE: 3, ClipStatus.ERROR: 3}


@dataclass(slots=True)
class ClipOutcome:
    """What became of one clip (returned by `process`, handy for tests and benchmarks)."""

    clip_id: str
    camera: str
    status: str = ClipStatus.QUEUED_LOCAL
    storage_uri: str | None = None
    snapshot_uri: str | None = None
    filtered: FilterOutput | None = None
    counted: list[Detection] = field(default_factory=list)  # detections that count (zones)
    objects: list[dict[str, Any]] = field(default_factory=list)  # what counts, per class
    zones: list[str] = field(default_factory=list)  # zones the counting detections were in
    moving_classes: list[str] = field(default_factory=list)  # classes that moved, by priority
    analysis: Analysis | None = None
    analyzer_used: bool = False
    decision: AlertDecision | None = None
    alert: AlertEvent | None = None
    errors: list[str] = field(default_factory=list)
    _rank: int = 0


class Pipeline:
    def __init__(
        self,
        *,
        repository: ClipRepository,
        storage: Storage,
        object_filter: ObjectFilter,
        analyzer: Analyzer | None,
        policy: Callable[[], AlertPolicyEngine],
        camera_events: CameraEvents,
        max_concurrent: int = 2,
        upload_attempts: int = 3,
        upload_backoff_s: float = 1.0,
        alert_upload_wait_s: float = 10.0,
        delete_local_after_upload: bool = True,
        offsite: OffsiteUploader | None = None,
        camera_zones: Mapping[str, Sequence[Mapping[str, Any]]] | None = None,
        filter_for: Callable[[str], ObjectFilter] | None = None,
        storage_retry_s: float = 5.0,
        storage_max_retry_s: float = 300.0,
    ) -> None:
        self.repository = repository
        self.storage = storage
        self.filter = object_filter
        # A camera may use another filter backend (filter_backend); default: the global one.
        self.filter_for = filter_for or (lambda camera: object_filter)
        self.analyzer = analyzer
        self.policy = policy
        self.camera_events = camera_events  # the one owner of events and alerts
        self.upload_attempts = max(1, upload_attempts)
        self.upload_backoff_s = upload_backoff_s
        self.alert_upload_wait_s = alert_upload_wait_s
        self.delete_local_after_upload = delete_local_after_upload
        self.offsite = offsite  # None without offsite copies
        self._zone_config = dict(camera_zones or {})
        self._zones: dict[str, CameraZones] = {}
        self.storage_retry_s = storage_retry_s
        self.storage_max_retry_s = storage_max_retry_s
        # Why storage fails (None while it works): health says degraded meanwhile.
        self.storage_error: str | None = None
        self._retries: set[asyncio.Task[None]] = set()
        self._slots = asyncio.Semaphore(max_concurrent)
        self._tasks: set[asyncio.Task[ClipOutcome]] = set()
        self.clips_seen = 0
        self.clips_failed = 0
        self.last_error: str | None = None
        self.accepting = True

    # -- entry points -----------------------------------------------------------------------

    async def on_clip(self, clip: ClipFile) -> None:
        """Source callback: queue the clip and return at once."""
        self.submit(clip)

    def submit(self, clip: ClipFile) -> asyncio.Task[ClipOutcome] | None:
        """Start processing `clip`; None once drained (the file is left where it is)."""
        if not self.accepting:
            # Drained for a stop: a task now would outlive the drain and write to a closed
            # repository (a camera whose stop timed out can still hand in a clip).
            _LOGGER.warning("pipeline stopped: clip %s of camera %s kept at %s",
                            clip.path.name, clip.camera, clip.path)
            return None
        self.clips_seen += 1
        task = asyncio.create_task(self._guarded(clip), name=f"homesec-clip-{clip.camera}")
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    @property
    def in_flight(self) -> int:
        return len(self._tasks)

    @property
    def uploads_waiting(self) -> int:
        """Clips whose upload failed and is retried in the background."""
        return len(self._retries)

    async def drain(self, timeout: float) -> bool:
        """Wait for clips in flight; cancel what is still running after `timeout` s."""
        self.accepting = False
        for retry in list(self._retries):  # the recording stays; the next start resumes it
            retry.cancel()
        if self._retries:
            await asyncio.gather(*self._retries, return_exceptions=True)
        if not self._tasks:
            return True
        _, pending = await asyncio.wait(set(self._tasks), timeout=timeout)
        for task in pending:
            task.cancel()
        if pending:
            await asyncio.gather(*pending, return_exceptions=True)
        return not pending

    async def _guarded(self, clip: ClipFile) -> ClipOutcome:
        async with self._slots:
            try:
                return await self.process(clip)
            except asyncio.CancelledError:
                raise
            except Exception as err:  # a bug in one clip must not stop the next one
                self.clips_failed += 1
                self.last_error = f"{type(err).__name__}: {err}"
                _LOGGER.exception("clip %s of camera %s failed", clip.path.name, clip.camera)
                return ClipOutcome(clip_id="", camera=clip.camera, status=ClipStatus.ERROR,
                                   errors=[self.last_error])

    # -- one clip ---------------------------------------------------------------------------

    async def process(self, clip: ClipFile) -> ClipOutcome:
        if clip.clip_id is not None:  # chosen by the source: its live event is keyed by it
            clip_id = clip.clip_id
        else:
            try:
                clip_id = await asyncio.to_thread(stable_clip_id, clip.camera, clip.path)
            except OSError:  # the file is already gone: nothing to find again after a restart
                clip_id = new_clip_id()
        out = ClipOutcome(clip_id=clip_id, camera=clip.camera)
        try:
            await self._run(out, clip)
        except asyncio.CancelledError:
            # Cut off by a stop (drain timeout): no later stage will move the record on.
            await self._interrupted(out)
            raise
        finally:
            await self.camera_events.judged(out, clip)
        _log_clip(out, clip)
        return out

    async def _interrupted(self, out: ClipOutcome) -> None:
        if out._rank >= _RANK[ClipStatus.DONE]:
            return
        out.errors.append("interrupted: the engine stopped before the clip was finished")
        await self._status(out, ClipStatus.ERROR)
        await self._event(out, "interrupted", stage=str(out.status))

    async def _run(self, out: ClipOutcome, clip: ClipFile) -> None:
        await self.camera_events.store_clip(ClipRecord(
            id=out.clip_id, camera=clip.camera, status=ClipStatus.QUEUED_LOCAL,
            created_at=clip.started_at, duration_s=round(clip.duration_s, 3)))
        await self._event(out, "clip_recorded", camera=clip.camera, file=clip.path.name,
                          started_at=clip.started_at.isoformat(),
                          ended_at=clip.ended_at.isoformat())

        upload = asyncio.create_task(self._upload(out, clip), name="homesec-upload")
        snapshot: asyncio.Task[None] | None = None
        try:
            filtered = await self._filter(out, clip)
            if filtered is None:
                await upload
                await self._status(out, ClipStatus.ERROR)
                return
            snapshot = shot = asyncio.create_task(self._snapshot(out, clip, filtered),
                                                  name="homesec-snap")
            # Without a usable model, `on_model_error: motion` lets every clip through as motion.
            triggers = self.filter_for(clip.camera).trigger_classes
            triggered = any(c in triggers for c in out.moving_classes) \
                or filtered.fallback == "motion"
            analysis = (await self._analyze(out, clip, filtered, upload, snapshot)
                        if triggered else None)
            if analysis is None:
                analysis = fallback_analysis(
                    out.moving_classes, self.filter_for(clip.camera).tracking.activity_priority)
            out.analysis = analysis
            # The tier from the classes that moved (a detector fallback has none to go by).
            decision = self.policy().decide(
                clip.camera, analysis, triggered=triggered,
                classes=out.moving_classes if out.moving_classes else None, zones=out.zones)
            out.decision = decision
            await self._status(out, ClipStatus.ANALYZED, activity_type=analysis.activity_type,
                               risk_level=analysis.risk_level, summary=analysis.summary)
            await self._event(out, "alert_decided", alert=decision.alert, reason=decision.reason,
                              tier=decision.tier,
                              risk_level=decision.risk_level,
                              activity_type=decision.activity_type,
                              by="analyzer" if out.analyzer_used else "filter")

            async def ready() -> None:
                # Bounded waits: the alert should carry the storage URI, and its snapshot
                # (a full-size decode) should be there when a phone opens the link.
                await self._wait_bounded(upload)
                await self._wait_bounded(shot)

            out.alert = await self.camera_events.decided(out, clip, ready)
            await upload
            await snapshot
        finally:
            # Cancelled mid-way: leave neither the upload nor the snapshot behind.
            for task in (upload, snapshot):
                if task is not None and not task.done():
                    task.cancel()
                    await asyncio.gather(task, return_exceptions=True)
        final = ClipStatus.DONE if out.storage_uri else ClipStatus.ERROR
        await self._status(out, final)
        if out.storage_uri is None and self.accepting:
            self._retry_upload(out, clip)
            return
        await self._cleanup(out, clip)

    def _storage_works(self) -> None:
        if self.storage_error is not None:
            _LOGGER.warning("storage works again")
            self.storage_error = None
            if self.last_error and self.last_error.startswith("upload"):
                self.last_error = None

    def _retry_upload(self, out: ClipOutcome, clip: ClipFile) -> None:
        """Store a clip whose upload failed, with backoff, while the engine runs."""
        task = asyncio.create_task(self._upload_later(out, clip), name="homesec-upload-retry")
        self._retries.add(task)
        task.add_done_callback(self._retries.discard)

    async def _upload_later(self, out: ClipOutcome, clip: ClipFile) -> None:
        delay, attempt = self.storage_retry_s, self.upload_attempts
        key = clip_key(out.clip_id, clip.path)
        while True:
            await asyncio.sleep(delay)
            attempt += 1
            if not await asyncio.to_thread(clip.path.exists):
                return  # gone (deleted by the user): nothing left to store
            try:
                out.storage_uri = await self.storage.put(clip.path, key)
            except Exception as err:
                self.storage_error = f"{type(err).__name__}: {err}"
                delay = min(delay * 2, self.storage_max_retry_s)
                continue
            self._storage_works()
            # The clip had ended in error for want of storage: now it is done, and copied
            # offsite like every stored clip (retention counts on it).
            size = await asyncio.to_thread(_file_size, clip.path)
            await self._write(self.repository.update_clip, out.clip_id,
                              status=ClipStatus.DONE.value, storage_uri=out.storage_uri,
                              size_bytes=size)
            await self._event(out, "uploaded", storage_uri=out.storage_uri, attempts=attempt)
            await self._queue_offsite(out, key)
            await self._cleanup(out, clip)
            return

    async def _upload(self, out: ClipOutcome, clip: ClipFile) -> None:
        key = clip_key(out.clip_id, clip.path)
        for attempt in range(1, self.upload_attempts + 1):
            try:
                out.storage_uri = await self.storage.put(clip.path, key)
            except Exception as err:
                error = f"{type(err).__name__}: {err}"
                if attempt < self.upload_attempts:
                    await asyncio.sleep(self.upload_backoff_s * 2 ** (attempt - 1))
                    continue
                out.errors.append(f"upload: {error}")
                self.last_error = f"upload: {error}"
                self.storage_error = error
                _LOGGER.warning("clip %s: upload failed after %d attempts (retried in the "
                                "background): %s", out.clip_id, attempt, error)
                await self._event(out, "upload_failed", error=error, attempts=attempt)
                return
            self._storage_works()
            size = await asyncio.to_thread(_file_size, clip.path)
            await self._status(out, ClipStatus.UPLOADED, storage_uri=out.storage_uri,
                               size_bytes=size)
            await self._event(out, "uploaded", storage_uri=out.storage_uri, attempts=attempt)
            await self._queue_offsite(out, key)
            return

    async def _queue_offsite(self, out: ClipOutcome, key: str) -> None:
        """Queue the offsite copy (durably, on disk) once the local copy is stored."""
        if self.offsite is None or out.storage_uri is None:
            return
        # "pending" is written before the job exists, so the uploader's "done" comes after it.
        await self._write(self.repository.update_clip, out.clip_id, offsite_state="pending")
        try:
            queued = await self.offsite.enqueue(out.clip_id, out.storage_uri, key)
            reason = "the offsite backlog is full"
        except OSError as err:  # the backlog folder cannot be written
            queued, reason = False, f"the offsite backlog cannot be written: {err}"
            _LOGGER.error("clip %s: %s", out.clip_id, reason)
        if not queued:
            await self._write(self.repository.update_clip, out.clip_id, offsite_state="skipped")
            await self._event(out, "offsite_skipped", reason=reason)

    def set_zones(self, camera: str, zones: Sequence[Mapping[str, Any]]) -> CameraZones:
        """New zones for `camera`, used from its next frame and clip on."""
        self._zone_config[camera] = list(zones)
        self._zones.pop(camera, None)
        return self.zones_of(camera)

    def zones_of(self, camera: str) -> CameraZones:
        zones = self._zones.get(camera)
        if zones is None:
            triggers = self.filter_for(camera).trigger_classes
            zones = self._zones[camera] = CameraZones(self._zone_config.get(camera, ()), triggers)
        return zones

    async def _filter(self, out: ClipOutcome, clip: ClipFile) -> FilterOutput | None:
        object_filter = self.filter_for(clip.camera)
        zones = self.zones_of(clip.camera)
        try:
            filtered = await object_filter.run(clip.path, zones.counts if zones else None)
        except Exception as err:
            error = f"{type(err).__name__}: {err}"
            out.errors.append(f"filter: {error}")
            self.last_error = f"filter: {error}"
            self.clips_failed += 1
            _LOGGER.warning("clip %s: filter failed: %s", out.clip_id, error)
            await self._event(out, "filter_failed", error=error, backend=object_filter.name)
            return None
        out.filtered = filtered
        # With zones, what lies outside them (for its class) neither counts nor alerts; a
        # track that stood still all clip long (a parked car) is reported, not alerted on.
        priority = object_filter.tracking.activity_priority
        tracks = filtered.tracks
        if tracks is not None:
            moved = tracks.moved()
            out.counted = tracks.detections(moved or tracks.counting())
            out.moving_classes = tracks.moving_classes(priority)
            out.objects = tracks.objects(priority)
            zoned = tracks.detections(moved)
        else:  # a plug-in filter without tracks: every counting detection moved
            out.counted = [d for d in filtered.result.detections if zones.counts(d)]
            out.objects = summarize_objects(out.counted)
            out.moving_classes = sorted({d.label for d in out.counted})
            zoned = out.counted
        out.zones = zones.zones_hit(d for d in zoned if d.label in zones.trigger_classes)
        await self._write(self.repository.update_clip, out.clip_id,
                          detected_objects=filtered.classes, objects=out.objects,
                          zones=out.zones)
        await self._event(out, "filtered", classes=filtered.classes, zones=out.zones,
                          frames_sampled=filtered.result.frames_sampled,
                          early_exit=filtered.early_exit, backend=object_filter.name,
                          fallback=filtered.fallback,
                          detections=[{"label": d.label, "confidence": d.confidence,
                                       "frame": d.frame_index,
                                       "box": list(d.box) if d.box else None}
                                      for d in filtered.result.detections[:20]])
        return filtered

    async def _snapshot(self, out: ClipOutcome, clip: ClipFile, filtered: FilterOutput) -> None:
        if filtered.best_frame is None:
            return
        try:
            best = filtered.best_detection
            shown = [d for d in out.counted if best is not None
                     and d.frame_index == best.frame_index]
            jpeg = await asyncio.to_thread(render_snapshot, clip.path, filtered, shown)
            out.snapshot_uri = await store_snapshot(self.storage, out.clip_id, jpeg,
                                                    self.offsite)
            self._storage_works()
        except Exception as err:  # a missing snapshot costs a thumbnail, nothing more
            _LOGGER.warning("clip %s: snapshot failed: %s", out.clip_id, err)
            return
        await self._event(out, "snapshot", storage_uri=out.snapshot_uri)

    async def _analyze(self, out: ClipOutcome, clip: ClipFile, filtered: FilterOutput,
                       upload: asyncio.Task[None], snapshot: asyncio.Task[None] | None
                       ) -> Analysis | None:
        if self.analyzer is None:
            return None
        path = clip.path
        if self.analyzer.needs_stored_snapshot:
            # It attaches the stored snapshot (read back through the API): give the clip's
            # storage and its snapshot the same bounded time an alert gives them.
            await self._wait_bounded(upload)
            if snapshot is not None:
                await self._wait_bounded(snapshot)
        try:
            if not await asyncio.to_thread(path.exists):
                await upload
                if out.storage_uri is None:
                    raise FileNotFoundError("the clip file is gone and was not stored")
                path = await asyncio.to_thread(self.storage.resolve, out.storage_uri)
            analysis = await self.analyzer.analyze(path, filtered, out.clip_id)
        except asyncio.CancelledError:
            raise
        except Exception as err:
            error = f"{type(err).__name__}: {err}"
            out.errors.append(f"analyzer: {error}")
            _LOGGER.warning("clip %s: analyzer failed, judging on detections: %s",
                            out.clip_id, error)
            await self._event(out, "analyze_failed", error=error)
            return None
        out.analyzer_used = True
        await self._event(out, "analyzed", activity_type=analysis.activity_type,
                          risk_level=analysis.risk_level, summary=analysis.summary)
        return analysis

    async def _wait_bounded(self, task: asyncio.Task[None]) -> None:
        """Give the upload (or the snapshot) a bounded time before the alert goes out (or
        an analyzer that attaches the snapshot runs)."""
        if task.done():
            return
        await asyncio.wait({task}, timeout=self.alert_upload_wait_s)

    async def _cleanup(self, out: ClipOutcome, clip: ClipFile) -> None:
        """The source's file is a working copy: drop it once storage holds the clip."""
        if not (self.delete_local_after_upload and out.storage_uri):
            return
        uri = out.storage_uri

        def drop_working_copy() -> None:  # path resolution is file-system work: in a thread
            if self.storage.resolve(uri).resolve() != clip.path.resolve():
                clip.path.unlink(missing_ok=True)

        try:
            await asyncio.to_thread(drop_working_copy)
        except Exception as err:
            _LOGGER.debug("clip %s: local copy not removed: %s", out.clip_id, err)

    # -- state writes -----------------------------------------------------------------------

    async def _status(self, out: ClipOutcome, status: ClipStatus, **fields: Any) -> None:
        """Move the clip forward; a late stage never moves it back (upload runs alongside)."""
        rank = _RANK[status]
        if rank > out._rank or (rank == out._rank and status == ClipStatus.ERROR):
            out._rank, out.status = rank, status
            fields["status"] = status.value
        if fields:
            await self._write(self.repository.update_clip, out.clip_id, **fields)

    async def _event(self, out: ClipOutcome, event_type: str, **data: Any) -> None:
        await self._write(self.repository.add_event,
                          ClipEventRecord(clip_id=out.clip_id, type=event_type, data=data))

    async def _write(self, method: Callable[..., Any], *args: Any, **kwargs: Any) -> None:
        try:
            await method(*args, **kwargs)
        except Exception as err:  # the repository keeps outages itself; this is a bug/edge
            self.last_error = f"state: {type(err).__name__}: {err}"
            _LOGGER.warning("state write %s failed: %s", getattr(method, "__name__", "?"), err)


def _file_size(path: Path) -> int | None:
    try:
        return path.stat().st_size
    except OSError:  # the source removed it already: the stored copy has the same size
        return None


def _log_clip(out: ClipOutcome, clip: ClipFile) -> None:
    """The one INFO line a user reads to follow clips: what came in and what was decided."""
    detections = out.filtered.result.detections if out.filtered else []
    labels = ",".join(out.filtered.classes) if out.filtered else ""
    if out.decision is not None:
        decision = f"{'alert' if out.decision.alert else 'no alert'} ({out.decision.reason})"
    else:
        decision = "none (the clip failed before a decision; see the warning above)"
    _LOGGER.info("clip: camera=%s clip=%s duration=%.1fs detections=%d%s decision=%s status=%s",
                 clip.camera, out.clip_id, clip.duration_s, len(detections),
                 f" ({labels})" if labels else "", decision, out.status)
