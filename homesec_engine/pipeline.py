"""The clip pipeline: ClipSource -> (upload || filter) -> analyzer -> policy -> notifiers.

Per clip, as one task (several clips run at once, up to `max_concurrent`):

1. record the clip (`queued_local`, event `clip_recorded`);
2. upload to storage and filter the frames *in parallel*;
   - upload: `uploaded` + event `uploaded`; a failure is retried, then recorded
     (`upload_failed`) and never holds the alert back; the clip ends in `error`;
   - filter: event `filtered`; a failure is recorded (`filter_failed`), the clip ends in
     `error` and nothing further runs (no analyzer, no alert);
3. a snapshot JPEG of the best detection frame is stored as `<clip_id>.jpg` (event `snapshot`);
4. the analyzer runs only when a trigger class was detected; when it fails (`analyze_failed`)
   the clip is judged as if there were no analyzer (policy.fallback_analysis);
5. the policy decides (`analyzed` + event `alert_decided`);
6. an alert goes to the EventHub (`alert`), `last_alerts`, and every notifier as background
   tasks (event `notified` / `notify_failed` per notifier); the clip is `done`.

A clip cut off by a stop (the drain timed out) ends in `error` with event `interrupted`.

Every state write goes through ClipRepository, whose writes do not fail while the database is
down; a state error never stops a clip.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .analyzers.base import Analyzer
from .events import EventHub
from .filters.base import FilterOutput, ObjectFilter
from .notifiers.fanout import NotifierFanout
from .policy import AlertPolicyEngine, fallback_analysis
from .records import (
    AlertDecision,
    AlertEvent,
    Analysis,
    ClipEventRecord,
    ClipFile,
    ClipRecord,
    ClipStatus,
    new_clip_id,
)
from .snapshots import draw_box, encode_jpeg

if TYPE_CHECKING:  # the repository module is heavy (SQLAlchemy); the runtime imports it late
    from .state.repository import ClipRepository
    from .storage.base import Storage

_LOGGER = logging.getLogger(__name__)

_RANK = {ClipStatus.QUEUED_LOCAL: 0, ClipStatus.UPLOADED: 1, ClipStatus.ANALYZED: 2,
         ClipStatus.DONE: 3, ClipStatus.ERROR: 3}


def view_url(clip_id: str, public_url: str | None) -> str:
    path = f"/api/v1/clips/{clip_id}/media"
    return f"{public_url.rstrip('/')}{path}" if public_url else path


def snapshot_key(clip_id: str) -> str:
    return f"{clip_id}.jpg"


def clip_key(clip_id: str, path: Path) -> str:
    return f"{clip_id}{path.suffix.lower() or '.mp4'}"


@dataclass(slots=True)
class ClipOutcome:
    """What became of one clip (returned by `process`, handy for tests and benchmarks)."""

    clip_id: str
    camera: str
    status: str = ClipStatus.QUEUED_LOCAL
    storage_uri: str | None = None
    snapshot_uri: str | None = None
    filtered: FilterOutput | None = None
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
        fanout: NotifierFanout,
        events: EventHub,
        last_alerts: dict[str, dict[str, Any]],
        public_url: str | None = None,
        max_concurrent: int = 2,
        upload_attempts: int = 3,
        upload_backoff_s: float = 1.0,
        alert_upload_wait_s: float = 10.0,
        delete_local_after_upload: bool = True,
        filter_for: Callable[[str], ObjectFilter] | None = None,
    ) -> None:
        self.repository = repository
        self.storage = storage
        self.filter = object_filter
        # A camera may use another filter backend (filter_backend); default: the global one.
        self.filter_for = filter_for or (lambda camera: object_filter)
        self.analyzer = analyzer
        self.policy = policy
        self.fanout = fanout
        self.events = events
        self.last_alerts = last_alerts
        self.public_url = public_url
        self.upload_attempts = max(1, upload_attempts)
        self.upload_backoff_s = upload_backoff_s
        self.alert_upload_wait_s = alert_upload_wait_s
        self.delete_local_after_upload = delete_local_after_upload
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

    async def drain(self, timeout: float) -> bool:
        """Wait for clips in flight; cancel what is still running after `timeout` s."""
        self.accepting = False
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
        out = ClipOutcome(clip_id=new_clip_id(), camera=clip.camera)
        try:
            await self._run(out, clip)
        except asyncio.CancelledError:
            # Cut off by a stop (drain timeout): no later stage will move the record on.
            await self._interrupted(out)
            raise
        _log_clip(out, clip)
        return out

    async def _interrupted(self, out: ClipOutcome) -> None:
        if out._rank >= _RANK[ClipStatus.DONE]:
            return
        out.errors.append("interrupted: the engine stopped before the clip was finished")
        await self._status(out, ClipStatus.ERROR)
        await self._event(out, "interrupted", stage=str(out.status))

    async def _run(self, out: ClipOutcome, clip: ClipFile) -> None:
        await self._write(self.repository.upsert_clip, ClipRecord(
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
            snapshot = asyncio.create_task(self._snapshot(out, filtered), name="homesec-snap")
            # Without a usable model, `on_model_error: motion` lets every clip through as motion.
            triggers = self.filter_for(clip.camera).trigger_classes
            triggered = bool(set(filtered.classes) & triggers) \
                or filtered.fallback == "motion"
            analysis = await self._analyze(out, clip, filtered, upload) if triggered else None
            if analysis is None:
                analysis = fallback_analysis(filtered.classes)
            out.analysis = analysis
            decision = self.policy().decide(clip.camera, analysis, triggered=triggered)
            out.decision = decision
            await self._status(out, ClipStatus.ANALYZED, activity_type=analysis.activity_type,
                               risk_level=analysis.risk_level, summary=analysis.summary,
                               alerted=decision.alert)
            await self._event(out, "alert_decided", alert=decision.alert, reason=decision.reason,
                              risk_level=decision.risk_level,
                              activity_type=decision.activity_type,
                              by="analyzer" if out.analyzer_used else "filter")
            if decision.alert:
                await self._wait_upload(upload)
                await self._alert(out, clip, analysis, filtered)
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
        await self._cleanup(out, clip)

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
                _LOGGER.warning("clip %s: upload failed after %d attempts: %s",
                                out.clip_id, attempt, error)
                await self._event(out, "upload_failed", error=error, attempts=attempt)
                return
            await self._status(out, ClipStatus.UPLOADED, storage_uri=out.storage_uri)
            await self._event(out, "uploaded", storage_uri=out.storage_uri, attempts=attempt)
            return

    async def _filter(self, out: ClipOutcome, clip: ClipFile) -> FilterOutput | None:
        object_filter = self.filter_for(clip.camera)
        try:
            filtered = await object_filter.run(clip.path)
        except Exception as err:
            error = f"{type(err).__name__}: {err}"
            out.errors.append(f"filter: {error}")
            self.last_error = f"filter: {error}"
            self.clips_failed += 1
            _LOGGER.warning("clip %s: filter failed: %s", out.clip_id, error)
            await self._event(out, "filter_failed", error=error, backend=object_filter.name)
            return None
        out.filtered = filtered
        await self._write(self.repository.update_clip, out.clip_id,
                          detected_objects=filtered.classes)
        await self._event(out, "filtered", classes=filtered.classes,
                          frames_sampled=filtered.result.frames_sampled,
                          early_exit=filtered.early_exit, backend=object_filter.name,
                          fallback=filtered.fallback,
                          detections=[{"label": d.label, "confidence": d.confidence,
                                       "frame": d.frame_index,
                                       "box": list(d.box) if d.box else None}
                                      for d in filtered.result.detections[:20]])
        return filtered

    async def _snapshot(self, out: ClipOutcome, filtered: FilterOutput) -> None:
        if filtered.best_frame is None:
            return
        box = filtered.best_detection.box if filtered.best_detection else None
        try:
            jpeg = await asyncio.to_thread(encode_jpeg, draw_box(filtered.best_frame, box))
            tmp = await asyncio.to_thread(_write_temp, jpeg, out.clip_id)
            try:
                out.snapshot_uri = await self.storage.put(tmp, snapshot_key(out.clip_id))
            finally:
                await asyncio.to_thread(tmp.unlink, True)
        except Exception as err:  # a missing snapshot costs a thumbnail, nothing more
            _LOGGER.warning("clip %s: snapshot failed: %s", out.clip_id, err)
            return
        await self._event(out, "snapshot", storage_uri=out.snapshot_uri)

    async def _analyze(self, out: ClipOutcome, clip: ClipFile, filtered: FilterOutput,
                       upload: asyncio.Task[None]) -> Analysis | None:
        if self.analyzer is None:
            return None
        path = clip.path
        try:
            if not await asyncio.to_thread(path.exists):
                await upload
                if out.storage_uri is None:
                    raise FileNotFoundError("the clip file is gone and was not stored")
                path = await asyncio.to_thread(self.storage.resolve, out.storage_uri)
            analysis = await self.analyzer.analyze(path, filtered)
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

    async def _wait_upload(self, upload: asyncio.Task[None]) -> None:
        """Give the upload a bounded time so the alert can carry the storage URI."""
        if upload.done():
            return
        await asyncio.wait({upload}, timeout=self.alert_upload_wait_s)

    async def _alert(self, out: ClipOutcome, clip: ClipFile, analysis: Analysis,
                     filtered: FilterOutput) -> None:
        event = AlertEvent(
            camera=clip.camera, clip_id=out.clip_id, activity_type=analysis.activity_type,
            risk_level=analysis.risk_level, summary=analysis.summary,
            view_url=view_url(out.clip_id, self.public_url), storage_uri=out.storage_uri,
            timestamp=clip.started_at, detected_objects=filtered.classes)
        out.alert = event
        # Names, ids and labels only: never a URL (it could carry a host's credentials).
        _LOGGER.info("alert: camera=%s clip=%s risk=%s activity=%s detections=%s",
                     clip.camera, out.clip_id, analysis.risk_level, analysis.activity_type,
                     ",".join(filtered.classes) or "none")
        payload = event.payload()
        self.last_alerts[clip.camera] = {
            "clip_id": out.clip_id, "activity_type": analysis.activity_type,
            "risk_level": analysis.risk_level, "summary": analysis.summary,
            "detected_objects": filtered.classes, "timestamp": payload["timestamp"],
            "view_url": payload["view_url"],
        }
        self.events.publish("alert", payload)

        async def record(notifier: str, ok: bool, error: str | None) -> None:
            await self._event(out, "notified" if ok else "notify_failed", notifier=notifier,
                              error=error)

        self.fanout.alert(event, on_result=record)

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


def _write_temp(data: bytes, clip_id: str) -> Path:
    import tempfile

    fd, name = tempfile.mkstemp(prefix=f"homesec-{clip_id}-", suffix=".jpg")
    with open(fd, "wb") as handle:
        handle.write(data)
    return Path(name)
