"""One event per recording, keyed by the clip id: started, updated, ended (or interrupted).

Runs on the event loop; the live watches' worker threads reach it through `found` and `closed`,
which queue onto one consumer task, so an event's messages are handled in order.

- `started`: the first trigger class confirmed on a live frame (in a zone, when the camera has
  zones). The clip's row is written now with the event, the frame becomes the clip's snapshot,
  and the policy decides with what is known (the detected classes): an alert goes out at once.
- `updated`: the trigger classes of the active tracks changed: a further class (the policy may
  alert now if it did not yet), or one whose objects all parked or left (`active_classes`
  drops it: HA's class sensor goes off while the event goes on).
- `ended`: the pipeline judged the closed clip (`judged`): duration, clip link, summary and the
  policy's risk, raised to the clip's judgement. An alert already sent is never sent again.
- `interrupted`: the stream was lost in the middle of the event; it is over. The clip's
  judgement later completes the stored event but is not pushed again.
- events a killed engine left open are ended (`engine_restart`) by `recover` at the next start
  (kept for the WebSocket clients that connect in the next 300 s); the judgement of the
  recording salvaged for one completes its stored event without pushing it again.

Every message is stored in the clip's history (clip_events `event_<phase>`), the event itself
on the clip (`event`, `event_state`), published on the EventHub as `event` and handed to the
notifiers (the home_assistant notifier fires `homesec_event`).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING, Any

from ..policy import fallback_analysis
from ..records import ClipEventRecord, ClipRecord, ClipStatus, risk_rank, utcnow
from ..snapshots import annotate, encode_jpeg
from .watch import Found

if TYPE_CHECKING:
    from ..alerts.ports import EventPorts, Judgement
    from ..records import ClipFile

_LOGGER = logging.getLogger(__name__)

ACTIVE, ENDED, INTERRUPTED = "active", "ended", "interrupted"
# How long the end of an event a killed engine left open is given to clients that connect
# after the start (Home Assistant's own safety net ends an event after 300 s).
RESTART_END_RETAIN_S = 300.0


def _iso(when: datetime) -> str:
    return when.isoformat().replace("+00:00", "Z")


class LiveEvents:
    def __init__(self, pipeline: EventPorts,
                 on_message: Callable[[dict[str, Any]], object] | None = None) -> None:
        self.pipeline = pipeline
        self.on_message = on_message  # e.g. the notifiers (homesec_event)
        self._events: dict[str, dict[str, Any]] = {}  # open (or not yet judged) events
        self._started_at: dict[str, datetime] = {}  # clip id -> recording start (wall time)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._queue: asyncio.Queue[tuple[str, tuple[Any, ...]]] = asyncio.Queue()
        self._worker: asyncio.Task[None] | None = None

    async def start(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._worker = asyncio.create_task(self._consume(), name="homesec-live-events")

    async def close(self) -> None:
        if self._worker is not None:
            await self._queue.join()
            self._worker.cancel()
            await asyncio.gather(self._worker, return_exceptions=True)
            self._worker = None

    # --- thread-safe entry points (live watch workers) --------------------------------------
    def recording(self, clip_id: str, started_at: datetime) -> None:
        self._call(self._started_at.__setitem__, clip_id, started_at)

    def found(self, camera: str, found: Found) -> None:
        self._call(self._queue.put_nowait, ("found", (camera, found)))

    def closed(self, camera: str, clip_id: str, interrupted: bool) -> None:
        self._call(self._queue.put_nowait, ("closed", (camera, clip_id, interrupted)))

    def _call(self, fn: Callable[..., Any], *args: Any) -> None:
        loop = self._loop
        if loop is None or loop.is_closed():
            return
        try:
            loop.call_soon_threadsafe(fn, *args)
        except RuntimeError:  # the loop closed in between
            pass

    # --- pipeline side ----------------------------------------------------------------------
    def alerted(self, clip_id: str) -> bool:
        event = self._events.get(clip_id)
        return bool(event and event["alerted"])

    def record_fields(self, clip_id: str) -> dict[str, Any]:
        """What the clip's row keeps of its event (the pipeline's upsert must not drop it)."""
        event = self._events.get(clip_id)
        if event is None:
            return {}
        return {"event": dict(event), "event_state": event["state"],
                "alerted": event["alerted"]}

    async def judged(self, out: Judgement, clip: ClipFile) -> None:
        """The pipeline finished the clip: end its event with the judgement (waits for it)."""
        if out.clip_id not in self._events:
            return
        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._queue.put_nowait(("judged", (out, clip, done)))
        await done

    async def recover(self) -> None:
        """End what a killed engine left open (at start, before any source runs)."""
        try:
            open_events = await self.pipeline.repository.open_events()
        except Exception as err:  # database down: the next start tries again
            _LOGGER.warning("open events not recovered: %s", err)
            return
        for record in open_events:
            event = dict(record.event or {})
            if not event:
                continue
            event.update(state=ENDED, end_reason="engine_restart", ended_at=_iso(utcnow()))
            # Published before any client can connect: kept for those that do.
            await self._emit(record.id, event, "ended", retain_s=RESTART_END_RETAIN_S)
            self._events[record.id] = event  # its salvaged recording's judgement completes it

    def keep_recovered(self, resumed: set[str]) -> None:
        """Forget the recovered events whose recording is not processed again (at start)."""
        for clip_id in [k for k, e in self._events.items()
                        if e.get("end_reason") == "engine_restart" and k not in resumed]:
            del self._events[clip_id]

    # --- the consumer ------------------------------------------------------------------------
    async def _consume(self) -> None:
        while True:
            kind, args = await self._queue.get()
            try:
                if kind == "found":
                    await self._on_found(*args)
                elif kind == "closed":
                    await self._on_closed(*args)
                else:
                    await self._on_judged(*args)
            except Exception:  # one bad event must not stop the next ones
                _LOGGER.exception("live event %s failed", kind)
                if kind == "judged" and not args[2].done():
                    args[2].set_result(None)
            finally:
                self._queue.task_done()

    async def _on_found(self, camera: str, found: Found) -> None:
        event = self._events.get(found.clip_id)
        first = event is None
        if event is None:
            started_at = self._started_at.pop(found.clip_id, utcnow())
            event = self._events[found.clip_id] = {
                "clip_id": found.clip_id, "camera": camera, "state": ACTIVE,
                "started_at": _iso(utcnow()), "ended_at": None, "duration_s": None,
                "classes": [], "active_classes": [], "zones": [], "objects": [],
                "activity_type": None, "tier": "detection",
                "risk_level": None, "summary": None, "alerted": False,
                "snapshot_url": self.pipeline.media_url(found.clip_id, "snapshot"),
                "view_url": self.pipeline.media_url(found.clip_id, "media"),
                "end_reason": None,
            }
            await self.pipeline.write(self.pipeline.repository.upsert_clip, ClipRecord(
                id=found.clip_id, camera=camera, status=ClipStatus.QUEUED_LOCAL,
                created_at=started_at, detected_objects=found.classes, objects=found.objects,
                zones=found.zones, event=event, event_state=ACTIVE))
        elif event["state"] != ACTIVE:
            return
        event.update(classes=found.classes, active_classes=found.active, zones=found.zones,
                     objects=found.objects)
        analysis = fallback_analysis(found.classes)
        event.update(activity_type=analysis.activity_type, risk_level=analysis.risk_level)
        if first:
            await self._snapshot(found)
        decision = None
        if not event["alerted"]:  # the tier goes out with the message
            decision = self.pipeline.policy().decide(camera, analysis, triggered=True,
                                                     classes=found.classes)
            event["tier"] = decision.tier
        await self._emit(found.clip_id, event, "started" if first else "updated")
        if decision is not None and decision.alert:
            event["alerted"] = True
            await self.pipeline.write(self.pipeline.repository.update_clip,
                                      found.clip_id, alerted=True, event=dict(event))
            self.pipeline.announce(
                camera=camera, clip_id=found.clip_id, analysis=analysis,
                classes=found.classes, objects=found.objects, zones=found.zones,
                timestamp=self._timestamp(event), storage_uri=None)

    async def _on_closed(self, camera: str, clip_id: str, interrupted: bool) -> None:
        event = self._events.get(clip_id)
        self._started_at.pop(clip_id, None)
        if event is None or event["state"] != ACTIVE or not interrupted:
            return  # a clip closed normally ends its event once it is judged
        event.update(state=INTERRUPTED, end_reason="stream_lost", ended_at=_iso(utcnow()))
        await self._emit(clip_id, event, "interrupted")

    async def _on_judged(self, out: Judgement, clip: ClipFile,
                         done: asyncio.Future[None]) -> None:
        event = self._events.pop(out.clip_id, None)
        try:
            if event is None:
                return
            analysis, decision = out.analysis, out.decision
            if analysis is not None:
                event["summary"] = analysis.summary
                event["activity_type"] = analysis.activity_type
                if risk_rank(analysis.risk_level) > risk_rank(event["risk_level"]):
                    event["risk_level"] = analysis.risk_level  # the clip may raise it
            if decision is not None and decision.alert:
                event["alerted"] = True
            event["tier"] = "alert" if event["alerted"] else "detection"
            event["duration_s"] = round(clip.duration_s, 3)
            if event["state"] == ACTIVE:
                event.update(state=ENDED, end_reason="clip_closed", ended_at=_iso(utcnow()))
                await self._emit(out.clip_id, event, "ended")
            else:  # interrupted: keep the judgement with the event, it was already pushed
                await self.pipeline.write(self.pipeline.repository.update_clip, out.clip_id,
                                          event=dict(event), event_state=event["state"])
        finally:
            if not done.done():
                done.set_result(None)

    # --- helpers ---------------------------------------------------------------------------
    async def _emit(self, clip_id: str, event: dict[str, Any], phase: str,
                    retain_s: float = 0.0) -> None:
        message = {"phase": phase, **event}
        await self.pipeline.write(self.pipeline.repository.update_clip, clip_id,
                                  event=dict(event), event_state=event["state"])
        await self.pipeline.write(self.pipeline.repository.add_event, ClipEventRecord(
            clip_id=clip_id, type=f"event_{phase}", data=message))
        self.pipeline.events.publish("event", message, retain_s=retain_s)
        if self.on_message is not None:
            self.on_message(message)
        _LOGGER.info("event: camera=%s clip=%s phase=%s classes=%s", event["camera"], clip_id,
                     phase, ",".join(event["classes"]) or "none")

    async def _snapshot(self, found: Found) -> None:
        """The frame that started the event is the clip's snapshot until the clip's own."""
        try:
            jpeg = await asyncio.to_thread(
                lambda: encode_jpeg(annotate(found.rgb, found.detections)))
            await self.pipeline.store_snapshot(found.clip_id, jpeg)
        except Exception as err:  # a missing snapshot costs a thumbnail, nothing more
            _LOGGER.warning("clip %s: live snapshot failed: %s", found.clip_id, err)

    @staticmethod
    def _timestamp(event: dict[str, Any]) -> datetime:
        return datetime.fromisoformat(event["started_at"].replace("Z", "+00:00"))
