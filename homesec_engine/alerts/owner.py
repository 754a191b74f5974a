"""CameraEvents: the one owner of what happened on a camera, between the producers (the live
watches, the clip pipeline) and the outlets (state, the event hub, the notifiers).

It alone writes a clip's event columns (`event`, `event_state`, `alerted`) and decides "one
alert per event". One event per recording, keyed by the clip id.

From the live watch (worker threads reach it through `recording`, `found` and `closed`, which
queue onto one consumer task, so an event's messages are handled in order):

- `started`: the first trigger class confirmed on a live frame (in a zone, when the camera has
  zones). The frame becomes the clip's snapshot (stored before the message goes out, so its
  link answers from the first message on), the policy decides with what is known (the detected
  classes), then the clip's row is written with the event (listed from then on, with its
  thumbnail and tier) and an alert goes out at once.
- `updated`: the trigger classes of the active tracks changed: a further class (the policy may
  alert now if it did not yet), or one whose objects all parked or left (`active_classes`
  drops it: HA's class sensor goes off while the event goes on).
- `interrupted`: the stream was lost in the middle of the event; it is over. The clip's
  judgement later completes the stored event but is not pushed again.

From the clip pipeline:

- `decided`: the clip's judgement (analysis and policy decision). A clip nobody watched live
  alerts now when the policy says so; a live event already alerted never alerts again (its
  camera's last-alert summary takes the judgement), one that did not may alert now.
- `judged`: the clip is finished: its live event ends (`ended`: duration, the clip's summary
  and risk, and the camera's last-alert summary it leaves when it alerted).

Events a killed engine left open are ended (`engine_restart`) by `recover` at the next start
(kept for the WebSocket clients that connect in the next 300 s); the judgement of the
recording salvaged for one completes its stored event without pushing it again. In cluster
mode the engine that takes a camera over from one that lost it (killed, paused, cut off) ends
that engine's open events of the camera (`holder_lost`, `end_left_open`), also ones such an
engine writes after it woke up.

Every live message is stored in the clip's history (clip_events `event_<phase>`), the event
itself on the clip (`event`, `event_state`), published on the EventHub as `event` and handed to
`on_message` (the notifiers: the home_assistant notifier fires `homesec_event`). An alert goes
to the EventHub (`alert`), `last_alerts` and every notifier (results in the clip's history).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import TYPE_CHECKING, Any, Protocol

from ..clipfiles import store_snapshot, view_url
from ..loops import post
from ..policy import fallback_analysis
from ..records import AlertEvent, ClipEventRecord, ClipRecord, ClipStatus, risk_rank, utcnow
from ..snapshots import annotate, encode_jpeg
from .event import ACTIVE, ENDED, INTERRUPTED, CameraEvent

if TYPE_CHECKING:
    from ..events import EventHub
    from ..filters.base import FilterOutput
    from ..live.watch import Found
    from ..notifiers.fanout import NotifierFanout
    from ..offsite.uploader import OffsiteUploader
    from ..policy import AlertPolicyEngine
    from ..records import AlertDecision, Analysis, ClipFile
    from ..state.repository import ClipRepository
    from ..storage.base import Storage

_LOGGER = logging.getLogger(__name__)

# How long the end of an event a killed engine left open is given to clients that connect
# after the start (Home Assistant's own safety net ends an event after 300 s).
RESTART_END_RETAIN_S = 300.0


class Judged(Protocol):
    """The clip pipeline's verdict on one clip (its ClipOutcome), as the event owner reads it."""

    clip_id: str
    camera: str
    analysis: Analysis | None
    decision: AlertDecision | None
    storage_uri: str | None
    objects: list[dict[str, Any]]
    zones: list[str]
    moving_classes: list[str]
    filtered: FilterOutput | None


class CameraEvents:
    def __init__(self, *, repository: ClipRepository, hub: EventHub, fanout: NotifierFanout,
                 policy: Callable[[], AlertPolicyEngine], storage: Storage,
                 last_alerts: dict[str, dict[str, Any]], public_url: str | None = None,
                 on_message: Callable[[dict[str, Any]], object] | None = None,
                 offsite: OffsiteUploader | None = None) -> None:
        self.repository = repository
        self.hub = hub
        self.fanout = fanout
        self.policy = policy
        self.storage = storage
        self.last_alerts = last_alerts  # {camera: AlertSummary}, served by /status
        self.public_url = public_url
        self.on_message = on_message  # e.g. the notifiers (homesec_event)
        self.offsite = offsite  # cluster mode: snapshots are shared through the object store
        self._events: dict[str, CameraEvent] = {}  # open (or not yet judged) live events
        self._started_at: dict[str, datetime] = {}  # clip id -> recording start (wall time)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._queue: asyncio.Queue[tuple[str, tuple[Any, ...]]] = asyncio.Queue()
        self._worker: asyncio.Task[None] | None = None

    async def start(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._worker = asyncio.create_task(self._consume(), name="homesec-camera-events")

    async def close(self) -> None:
        if self._worker is not None:
            await self._queue.join()
            self._worker.cancel()
            await asyncio.gather(self._worker, return_exceptions=True)
            self._worker = None

    # --- thread-safe entry points (live watch workers) --------------------------------------
    def recording(self, clip_id: str, started_at: datetime) -> None:
        post(self._loop, self._started_at.__setitem__, clip_id, started_at)

    def found(self, camera: str, found: Found) -> None:
        post(self._loop, self._queue.put_nowait, ("found", (camera, found)))

    def closed(self, camera: str, clip_id: str, interrupted: bool) -> None:
        post(self._loop, self._queue.put_nowait, ("closed", (camera, clip_id, interrupted)))

    # --- clip pipeline side ------------------------------------------------------------------
    async def store_clip(self, clip: ClipRecord) -> None:
        """Write the clip's row, keeping the event columns of its live event."""
        event = self._events.get(clip.id)
        if event is not None:
            clip.event, clip.event_state = event.stored(), event.state
            clip.alerted = event.alerted
        await self._write(self.repository.upsert_clip, clip)

    async def decided(self, out: Judged, clip: ClipFile,
                      ready: Callable[[], Awaitable[None]]) -> AlertEvent | None:
        """The clip's judgement: the alert it sends (None: none, or its event alerted live).

        `ready` waits (bounded) for what the alert should carry: the stored clip, the snapshot.
        """
        decision = out.decision
        live = self._events.get(out.clip_id)
        if decision is not None and decision.alert and not (live and live.alerted):
            await ready()
        done: asyncio.Future[AlertEvent | None] = asyncio.get_running_loop().create_future()
        self._queue.put_nowait(("decided", (out, clip, done)))
        return await done

    async def judged(self, out: Judged, clip: ClipFile) -> None:
        """The pipeline finished the clip: end its live event (waits for it)."""
        if out.clip_id not in self._events:
            return
        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._queue.put_nowait(("judged", (out, clip, done)))
        await done

    async def recover(self, cameras: list[str] | None = None) -> None:
        """End what a killed engine left open (at start, before any source runs): every
        camera's events, or (cluster mode) those of `cameras`, the ones it held last."""
        try:
            open_events = await self.repository.open_events(cameras)
        except Exception as err:  # database down: the next start tries again
            _LOGGER.warning("open events not recovered: %s", err)
            return
        for record in open_events:
            if not record.event:
                continue
            event = CameraEvent.from_stored(dict(record.event))
            event.end(ENDED, "engine_restart", utcnow())
            # Published before any client can connect: kept for those that do.
            await self._emit(event, "ended", retain_s=RESTART_END_RETAIN_S)
            self._events[record.id] = event  # its salvaged recording's judgement completes it

    async def end_left_open(self, cameras: list[str]) -> list[str]:
        """Cluster mode: end the events of `cameras` (taken over from an engine that lost
        them: killed, paused, cut off) that this engine does not own: their recorder can no
        longer end them. Pushed like every end (`holder_lost`); the clip ids ended."""
        ended = []
        for record in await self.repository.open_events(cameras):
            if not record.event or record.id in self._events:
                continue  # this engine's own: it ends it itself
            event = CameraEvent.from_stored(dict(record.event))
            event.end(ENDED, "holder_lost", utcnow())
            await self._emit(event, "ended")
            ended.append(record.id)
        return ended

    def keep_recovered(self, resumed: set[str]) -> None:
        """Forget the recovered events whose recording is not processed again (at start)."""
        for clip_id in [k for k, e in self._events.items()
                        if e.end_reason == "engine_restart" and k not in resumed]:
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
                elif kind == "decided":
                    await self._on_decided(*args)
                else:
                    await self._on_judged(*args)
            except Exception:  # one bad event must not stop the next ones
                _LOGGER.exception("camera event %s failed", kind)
                if kind in ("decided", "judged") and not args[2].done():
                    args[2].set_result(None)
            finally:
                self._queue.task_done()

    async def _on_found(self, camera: str, found: Found) -> None:
        event = self._events.get(found.clip_id)
        first = event is None
        if event is None:
            event = self._events[found.clip_id] = CameraEvent.from_live(
                camera, found, at=utcnow(), snapshot_url=self._link(found.clip_id, "snapshot"),
                view_url=self._link(found.clip_id, "media"))
        elif event.state != ACTIVE:
            return
        else:
            event.saw(found)
        analysis = fallback_analysis(found.classes)
        event.activity_type, event.risk_level = analysis.activity_type, analysis.risk_level
        if first:  # stored before the first message: its link answers from then on
            await self._snapshot(found)
        decision = None
        if not event.alerted:  # the tier goes out with the message
            decision = self.policy().decide(camera, analysis, triggered=True,
                                            classes=found.classes, zones=found.zones)
            event.tier = decision.tier
        if first:
            # The clip is listed (the media browser's "· recording" item) from this write on:
            # its thumbnail and tier are there already.
            await self._write(self.repository.upsert_clip, ClipRecord(
                id=found.clip_id, camera=camera, status=ClipStatus.QUEUED_LOCAL,
                created_at=self._started_at.pop(found.clip_id, event.started_at),
                detected_objects=found.classes, objects=found.objects, zones=found.zones,
                event=event.stored(), event_state=ACTIVE))
        await self._emit(event, "started" if first else "updated")
        if decision is not None and decision.alert:
            await self._alert(event)

    async def _on_closed(self, camera: str, clip_id: str, interrupted: bool) -> None:
        event = self._events.get(clip_id)
        self._started_at.pop(clip_id, None)
        if event is None or event.state != ACTIVE or not interrupted:
            return  # a clip closed normally ends its event once it is judged
        event.end(INTERRUPTED, "stream_lost", utcnow())
        await self._emit(event, "interrupted")

    async def _on_decided(self, out: Judged, clip: ClipFile,
                          done: asyncio.Future[AlertEvent | None]) -> None:
        sent: AlertEvent | None = None
        try:
            analysis, decision = out.analysis, out.decision
            event = self._events.get(out.clip_id)
            if event is None:  # nobody watched it live: the clip's judgement is the event
                if analysis is not None and decision is not None and decision.alert:
                    sent = await self._alert(CameraEvent.from_clip(
                        out.camera, out.clip_id, started_at=clip.started_at,
                        detected_objects=self._classes(out), objects=out.objects,
                        zones=out.zones, analysis=analysis, storage_uri=out.storage_uri,
                        snapshot_url=self._link(out.clip_id, "snapshot"),
                        view_url=self._link(out.clip_id, "media")))
                else:
                    await self._write(self.repository.update_clip, out.clip_id, alerted=False)
                return
            self._judge(event, out)
            if decision is not None and decision.alert and not event.alerted:
                sent = await self._alert(event)  # the live event had not alerted yet
            elif event.alerted:
                # Alerted live: one alert per event; the summary takes the clip's judgement.
                current = self.last_alerts.get(event.camera)
                if current is not None and current.get("clip_id") == event.clip_id:
                    self.last_alerts[event.camera] = event.last_alert()
        finally:
            if not done.done():
                done.set_result(sent)

    async def _on_judged(self, out: Judged, clip: ClipFile, done: asyncio.Future[None]) -> None:
        # Owned until its end is stored: `end_left_open` never takes it for another engine's.
        event = self._events.get(out.clip_id)
        try:
            if event is None:
                return
            self._judge(event, out)
            event.tier = "alert" if event.alerted else "detection"
            event.duration_s = round(clip.duration_s, 3)
            if event.state == ACTIVE:
                event.end(ENDED, "clip_closed", utcnow())
                await self._emit(event, "ended")
            else:  # interrupted: keep the judgement with the event, it was already pushed
                await self._write(self.repository.update_clip, out.clip_id,
                                  event=event.stored(), event_state=event.state)
        finally:
            self._events.pop(out.clip_id, None)
            if not done.done():
                done.set_result(None)

    # --- helpers ---------------------------------------------------------------------------
    @staticmethod
    def _classes(out: Judged) -> list[str]:
        return list(out.filtered.classes) if out.filtered else list(out.moving_classes)

    @staticmethod
    def _judge(event: CameraEvent, out: Judged) -> None:
        """The clip's judgement completes its live event (the clip may raise the risk)."""
        analysis = out.analysis
        if analysis is not None:
            event.summary, event.activity_type = analysis.summary, analysis.activity_type
            if risk_rank(analysis.risk_level) > risk_rank(event.risk_level):
                event.risk_level = analysis.risk_level
        if out.objects:
            event.objects, event.zones = list(out.objects), list(out.zones)
        event.storage_uri = out.storage_uri or event.storage_uri

    async def _alert(self, event: CameraEvent) -> AlertEvent:
        """Send the event's one alert: EventHub, `last_alerts`, every notifier."""
        event.alerted, event.tier = True, "alert"
        if event.clip_id in self._events:
            await self._write(self.repository.update_clip, event.clip_id, alerted=True,
                              event=event.stored())
        else:
            await self._write(self.repository.update_clip, event.clip_id, alerted=True)
        alert = event.alert()
        # Names, ids and labels only: never a URL (it could carry a host's credentials).
        _LOGGER.info("alert: camera=%s clip=%s risk=%s activity=%s detections=%s",
                     event.camera, event.clip_id, event.risk_level, event.activity_type,
                     ",".join(event.detected_objects) or "none")
        self.last_alerts[event.camera] = alert.last_alert
        self.hub.publish("alert", alert.payload())
        clip_id = event.clip_id

        async def record(notifier: str, ok: bool, error: str | None) -> None:
            await self._write(self.repository.add_event, ClipEventRecord(
                clip_id=clip_id, type="notified" if ok else "notify_failed",
                data={"notifier": notifier, "error": error}))

        self.fanout.alert(alert, on_result=record)
        return alert

    async def _emit(self, event: CameraEvent, phase: str, retain_s: float = 0.0) -> None:
        last = self.last_alerts.get(event.camera)
        message = event.message(phase, leaves_last_alert=bool(
            last and last.get("clip_id") == event.clip_id))
        await self._write(self.repository.update_clip, event.clip_id,
                          event=event.stored(), event_state=event.state)
        await self._write(self.repository.add_event, ClipEventRecord(
            clip_id=event.clip_id, type=f"event_{phase}", data=message))
        self.hub.publish("event", message, retain_s=retain_s)
        if self.on_message is not None:
            self.on_message(message)
        _LOGGER.info("event: camera=%s clip=%s phase=%s classes=%s", event.camera,
                     event.clip_id, phase, ",".join(event.detected_objects) or "none")

    async def _snapshot(self, found: Found) -> None:
        """The frame that started the event is the clip's snapshot until the clip's own."""
        try:
            jpeg = await asyncio.to_thread(
                lambda: encode_jpeg(annotate(found.rgb, found.detections)))
            await store_snapshot(self.storage, found.clip_id, jpeg, self.offsite)
        except Exception as err:  # a missing snapshot costs a thumbnail, nothing more
            _LOGGER.warning("clip %s: live snapshot failed: %s", found.clip_id, err)

    def _link(self, clip_id: str, what: str) -> str:
        return view_url(clip_id, self.public_url, what)

    @staticmethod
    async def _write(method: Callable[..., Any], *args: Any, **kwargs: Any) -> None:
        try:
            await method(*args, **kwargs)
        except Exception as err:  # the repository keeps outages itself; this is a bug/edge
            _LOGGER.warning("state write %s failed: %s", getattr(method, "__name__", "?"), err)
