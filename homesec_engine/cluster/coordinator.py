"""One engine's part in a cluster: the loop that decides which cameras it records.

Every `heartbeat_s` it renews its row and its leases, reads the live engines, refuses to
hold anything when its versions differ from the newest engine's, and takes or gives up
cameras until it holds its share (spread.py). A camera is started only after its lease is
taken and its lease is given up only after the camera stopped, so two engines never record
one camera at once while the database answers. When it does not, a watchdog stops each
camera `stop_margin_s` before its lease could run out (measured on this engine's monotonic
clock from before the last renewal was sent), so the engine that takes it next starts
after this one stopped.

A camera taken over from an engine that lost it (silent: killed, paused, cut off; or this
engine's own earlier run) may have events that engine left open and can no longer end, or
writes later still (a paused engine that wakes up): while it holds such a camera, every beat
hands it to `end_left_open`, which ends the events this engine does not own.

The installation's run-time config changes are recorded in the database (`config_changed`):
a camera added, updated or removed through any engine's API with its definition (none when
removed), the alert policy whole, a settings field with its value, each with a version that
grows with every change, the latest change of a subject winning. At each beat, every engine
hands the changes newer than the ones it has seen, oldest first, to `apply_change`, which
brings its own config to them (adds, updates or removes the camera; sets the policy; sets
the field). The leases then give an added camera to exactly one engine, and any engine can
take it over when its holder dies; a removed one is held by no engine (its holder stops it
and gives its lease up at its next beat). Adding it again through an API records it again.
An engine applying a change records nothing (`config_changed` ignores what the changes it
applies change in its config, so an older change applied late never overwrites a newer one),
and every engine applies each change once, through its config, so they end on the same
config_version and a restarted engine keeps them (its override file has them).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine

from ..timefmt import iso_z
from .fence import ClipFence
from .relay import EventRelay
from .settings import ClusterSettings
from .spread import shares
from .store import (
    POLICY_SUBJECT,
    ConfigChange,
    EngineRow,
    LeaseStore,
    camera_subject,
    setting_subject,
)

_LOGGER = logging.getLogger(__name__)

CameraAction = Callable[[str], Awaitable[bool]]
EndLeftOpen = Callable[[list[str]], Awaitable[object]]
# An installation's change -> whether this engine's config changed
ApplyChange = Callable[[ConfigChange], Awaitable[bool]]
# Set while this engine applies the installation's changes: what they change is not recorded
_following: ContextVar[bool] = ContextVar("homesec_cluster_following", default=False)


@dataclass(frozen=True, slots=True)
class Holder:
    """Another engine recording a camera: where its API is and what it said of the camera."""

    engine_id: str
    url: str
    camera: dict[str, Any]  # {"healthy", "last_heartbeat", "error"}


@dataclass(slots=True)
class _Held:
    token: int
    deadline: float  # monotonic: stop recording by then unless renewed


class ClusterCoordinator:
    def __init__(self, settings: ClusterSettings, engine: AsyncEngine, *, schema_version: int,
                 cameras: Callable[[], list[str]], start_camera: CameraAction,
                 stop_camera: CameraAction, relay: EventRelay | None = None,
                 camera_report: Callable[[], dict[str, dict[str, Any]]] = dict,
                 end_left_open: EndLeftOpen | None = None,
                 apply_change: ApplyChange | None = None) -> None:
        self.settings = settings
        self._engine = engine
        self.store = LeaseStore(engine, settings, schema_version)
        self._schema_version = schema_version
        self._cameras = cameras
        self._start_camera = start_camera
        self._stop_camera = stop_camera
        self.relay = relay  # every engine's live messages on this one
        self._camera_report = camera_report
        self._end_left_open = end_left_open
        self._apply_change = apply_change
        self._changes: dict[str, ConfigChange] = {}  # the installation's, as of the last beat
        self._applied: dict[str, int] = {}  # subject -> version of the last change applied here
        self._unwritten: dict[str, tuple[str, dict[str, Any] | None]] = {}  # kind, definition
        self._taken_from: dict[str, str | None] = {}  # held camera -> its previous holder
        self._adopted: set[str] = set()  # held cameras taken from an engine that lost them
        self._elsewhere: dict[str, Holder] = {}  # cameras other live engines record
        self._held: dict[str, _Held] = {}
        self._tokens: dict[str, int] = {}  # the last token this engine took, per camera
        self.fence = ClipFence(settings.engine_id, self._tokens.get)  # for the repository
        self._lock = asyncio.Lock()  # one start/stop decision at a time
        self._stop = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []
        self._refused: str | None = None
        self._db_error: str | None = None
        self._last_ok: float | None = None
        self._cut_off_since: datetime | None = None
        self._expired: list[str] = []  # cameras stopped because their lease ran out
        self._engines_live = 0
        self._engines: list[EngineRow] = []  # live ones, as of the last beat
        self._engines_down: list[str] = []  # silent without leaving, as of the last beat
        self._joined = False  # this engine's row was written

    # -- what health reads ---------------------------------------------------------------

    def held(self) -> list[str]:
        return sorted(self._held)

    def holder(self, camera: str) -> Holder | None:
        """The other engine recording `camera` as of the last beat; None if none does."""
        return self._elsewhere.get(camera)

    def status(self) -> dict[str, Any]:
        s = self.settings
        # Cut off for as long as its leases could be renewed, and every camera stopped (the
        # watchdog stops them at that moment, within its step).
        partitioned = self._db_error is not None and not self._held and (
            self._last_ok is None or time.monotonic() - self._last_ok >= s.lease_s - s.stop_margin_s)
        reason: str | None
        if partitioned:
            since = iso_z(self._cut_off_since) if self._cut_off_since else "start"
            stopped = ", ".join(self._expired) or "none held"
            state, reason = "partitioned", (
                f"cannot reach the database since {since} ({self._db_error}); cameras stopped "
                f"when their leases ran out: {stopped}")
        elif self._refused is not None:
            state, reason = "refused", self._refused
        else:
            state, reason = "holding", self._db_error
        return {"engine_id": s.engine_id, "state": state, "reason": reason,
                "cameras_held": self.held(), "engines_live": self._engines_live,
                "fencing": {name: held.token for name, held in sorted(self._held.items())},
                "engines": [{"engine_id": e.engine_id, "url": e.url,
                             "cameras_held": len(self._held) if e.engine_id == s.engine_id
                             else sum(h.engine_id == e.engine_id
                                      for h in self._elsewhere.values())}
                            for e in self._engines],
                "engines_down": list(self._engines_down)}

    # -- life cycle ----------------------------------------------------------------------

    async def start(self) -> None:
        await self.store.create_tables()
        if self.relay is not None:
            await self.relay.start()
        self._tasks = [asyncio.create_task(self._beat_loop(), name="homesec-cluster-beat"),
                       asyncio.create_task(self._watchdog(), name="homesec-cluster-watchdog")]

    async def close(self) -> None:
        """Stop every held camera, then give the leases up so the others take them now."""
        self._stop.set()
        if self.relay is not None:
            await self.relay.close()
        for task in self._tasks:
            try:
                await asyncio.wait_for(task, self.settings.lease_s)
            except (TimeoutError, Exception) as err:  # noqa: BLE001 - closing anyway
                _LOGGER.warning("cluster task did not stop cleanly: %r", err)
        async with self._lock:
            for camera in list(self._held):
                await self._stop_camera(camera)
            self._held.clear()
        if not self._joined:
            await self._engine.dispose()
            return
        try:
            await self.store.leave()
        except Exception as err:  # noqa: BLE001 - the leases run out by themselves
            _LOGGER.warning("cluster: leases not given up (they run out in %g s): %s",
                            self.settings.lease_s, err)
        await self._engine.dispose()

    async def _beat_loop(self) -> None:
        while not self._stop.is_set():
            await self.beat()
            try:
                await asyncio.wait_for(self._stop.wait(), self.settings.heartbeat_s)
            except TimeoutError:
                pass

    async def _watchdog(self) -> None:
        step = min(0.5, self.settings.heartbeat_s / 2)
        while not self._stop.is_set():
            await self.expire_overdue()
            try:
                await asyncio.wait_for(self._stop.wait(), step)
            except TimeoutError:
                pass

    # -- one beat ------------------------------------------------------------------------

    async def beat(self) -> None:
        sent = time.monotonic()
        try:
            async with self._lock:
                await self._beat(sent)
                await self._end_orphans()
            await self._follow_changes()
        except Exception as err:  # noqa: BLE001 - the database is gone: the watchdog acts
            if self._db_error is None:
                self._cut_off_since = datetime.now(UTC)
                _LOGGER.warning("cluster: the database does not answer: %s", err)
            self._db_error = f"{type(err).__name__}: {err}"[:300]
            return
        if self._db_error is not None:
            _LOGGER.info("cluster: the database answers again")
        self._db_error, self._cut_off_since, self._last_ok = None, None, sent
        self._expired = []

    async def config_changed(
            self, *, cameras: Sequence[tuple[str, str, dict[str, Any] | None]] = (),
            policy: dict[str, Any] | None = None,
            settings: Mapping[tuple[str, str], Any] | None = None) -> None:
        """What one change of this engine's config changed: `cameras` (name, kind add, update
        or remove, definition: as configured now, None when removed), the alert `policy`
        (whole), `settings` fields ({(section, field): value}). The installation follows:
        written now (together), else at the next beats until the database answers. Nothing
        is recorded while this engine applies the installation's own changes."""
        if _following.get():
            return
        changes = {camera_subject(name): (kind, definition)
                   for name, kind, definition in cameras}
        if policy is not None:
            changes[POLICY_SUBJECT] = ("policy", policy)
        for (section, name), value in (settings or {}).items():
            changes[setting_subject(section, name)] = ("settings", {section: {name: value}})
        if not changes:
            return
        self._unwritten.update(changes)
        try:
            await self._write_changes()
        except Exception as err:  # noqa: BLE001 - the next beat writes it
            _LOGGER.warning("cluster: change of %s not recorded yet: %s",
                            ", ".join(sorted(changes)), err)

    async def _write_changes(self) -> None:
        if not self._unwritten:
            return
        written = dict(self._unwritten)
        versions = await self.store.record_changes(written)
        for subject, version in versions.items():
            if version is not None:  # this engine's config has it already
                self._applied[subject] = max(version, self._applied.get(subject, 0))
            if self._unwritten.get(subject) == written[subject]:
                del self._unwritten[subject]

    async def _beat(self, sent: float) -> None:
        s = self.settings
        await self.store.heartbeat(self._camera_report())
        self._joined = True
        await self._write_changes()
        self._changes = await self.store.config_changes()
        renewed = await self.store.renew({c: h.token for c, h in self._held.items()})
        for camera in list(self._held):
            if camera in renewed:
                self._held[camera].deadline = sent + s.lease_s - s.stop_margin_s
            else:  # taken over (a newer token) or run out while we were away
                _LOGGER.warning("cluster: lease of %s lost; stopping it", camera)
                await self._give_up(camera, release=False)

        engines = await self.store.live_engines()
        self._engines_down = await self.store.silent_engines()
        self._engines_live = len(engines)
        self._engines = engines
        every_lease = await self.store.leases()
        previous = {lease.camera: lease.engine_id for lease in every_lease}
        leases = [lease for lease in every_lease if lease.live]
        by_id = {e.engine_id: e for e in engines}
        self._elsewhere = {
            lease.camera: Holder(lease.engine_id, by_id[lease.engine_id].url,
                                 by_id[lease.engine_id].cameras.get(lease.camera) or {})
            for lease in leases if lease.engine_id != s.engine_id and lease.engine_id in by_id}
        self._refused = refusal(s.engine_id, engines)
        removed = {change.camera for change in self._changes.values()
                   if change.kind == "remove"}
        wanted = set(self._cameras()) - removed
        if self._refused is not None:
            for camera in list(self._held):
                await self._give_up(camera)
            return
        for camera in sorted(set(self._held) - wanted):  # removed or disabled
            await self._give_up(camera)
        peers = {e.engine_id: e.capacity for e in engines if refusal(e.engine_id, engines) is None}
        peers.setdefault(s.engine_id, s.capacity)
        share = shares(len(wanted), peers).get(s.engine_id, 0)
        for camera in sorted(self._held, reverse=True)[:max(0, len(self._held) - share)]:
            _LOGGER.info("cluster: giving %s up (share %d)", camera, share)
            await self._give_up(camera)
        if len(self._held) >= share:
            return
        taken = {lease.camera for lease in leases}
        for camera in sorted(wanted - taken - set(self._held)):
            if len(self._held) >= share:
                break
            token = await self.store.acquire(camera)
            if token is None:
                continue  # another engine was quicker
            self._held[camera] = _Held(token, sent + s.lease_s - s.stop_margin_s)
            self._tokens[camera] = token
            self._taken_from[camera] = previous.get(camera)
            _LOGGER.info("cluster: holding %s (token %d)", camera, token)
            if not await self._start_camera(camera):
                _LOGGER.warning("cluster: %s did not start; giving it up", camera)
                await self._give_up(camera)

    async def _follow_changes(self) -> None:
        """Apply to this engine's config the installation's changes made since the last ones
        seen here, oldest first, the settings fields together as one change (outside the
        beat's lock: a config change starts and stops cameras through it). One that fails is
        tried again at the next beat."""
        if self._apply_change is None:
            return
        new = sorted((c for c in self._changes.values()
                      if c.version > self._applied.get(c.subject, 0)
                      and c.subject not in self._unwritten),  # changed here: written first
                     key=lambda c: c.version)
        batches = [[c] for c in new if c.kind != "settings"]
        if settings := [c for c in new if c.kind == "settings"]:
            batches.append(settings)
        for batch in batches:
            change = batch[0] if len(batch) == 1 else merged_settings(batch)
            following = _following.set(True)
            try:
                if await self._apply_change(change):
                    _LOGGER.info("cluster: %s (%s) was changed through another engine; this "
                                 "engine's config follows", change.subject, change.kind)
            except Exception as err:  # noqa: BLE001 - tried again at the next beat
                _LOGGER.warning("cluster: %s change of %s not applied to this config: %s",
                                change.kind, change.subject, err)
                continue
            finally:
                _following.reset(following)
            for applied in batch:
                self._applied[applied.subject] = max(applied.version,
                                                     self._applied.get(applied.subject, 0))

    async def _end_orphans(self) -> None:
        """End the events left open on held cameras taken from an engine that lost them.

        Its previous holder counts as lost once it is silent (or was this engine's own
        earlier run): one that gave the camera up ends its events itself. Once adopted, a
        camera stays so while held: the engine may wake up and write an event later still."""
        lost = {self.settings.engine_id, *self._engines_down}
        for camera, previous in self._taken_from.items():
            if camera in self._held and previous in lost:
                self._adopted.add(camera)
        cameras = sorted(self._adopted & set(self._held))
        if not cameras or self._end_left_open is None:
            return
        try:
            await self._end_left_open(cameras)
        except Exception as err:  # noqa: BLE001 - tried again at the next beat
            _LOGGER.warning("cluster: events left open on %s not ended yet: %s",
                            ", ".join(cameras), err)

    async def _give_up(self, camera: str, *, release: bool = True) -> None:
        self._taken_from.pop(camera, None)
        self._adopted.discard(camera)
        held = self._held.pop(camera, None)
        await self._stop_camera(camera)
        if release and held is not None:
            await self.store.release(camera, held.token)

    async def expire_overdue(self) -> None:
        """Stop every camera whose lease may run out before it is renewed again."""
        now = time.monotonic()
        overdue = [c for c, h in self._held.items() if now >= h.deadline]
        if not overdue:
            return
        # Not under the beat's lock: a beat may hang on a database that does not answer.
        for camera in overdue:
            held = self._held.get(camera)
            if held is None or time.monotonic() < held.deadline:
                continue  # renewed meanwhile
            _LOGGER.warning("cluster: lease of %s not renewed in time; stopping it", camera)
            self._held.pop(camera, None)
            self._taken_from.pop(camera, None)
            self._adopted.discard(camera)
            self._expired.append(camera)
            await self._stop_camera(camera)


def merged_settings(changes: list[ConfigChange]) -> ConfigChange:
    """Settings fields changed through the installation, as one change (oldest first: a later
    value of a field wins)."""
    definition: dict[str, Any] = {}
    for change in changes:
        for section, values in (change.definition or {}).items():
            definition.setdefault(section, {}).update(values)
    return ConfigChange("settings", "settings", definition, changes[-1].version)


def refusal(engine_id: str, engines: list[EngineRow]) -> str | None:
    """Why `engine_id` must hold no camera: its versions differ from the newest engine's.

    The newest is the live engine with the highest (schema version, config version), ties
    by camera digest then id: every engine picks the same one.
    """
    me = next((e for e in engines if e.engine_id == engine_id), None)
    if me is None or not engines:
        return None
    newest = max(engines, key=lambda e: (e.versions, e.engine_id))
    if me.schema_version != newest.schema_version:
        return (f"database schema version {me.schema_version} differs from engine "
                f"{newest.engine_id}'s {newest.schema_version}: upgrade this engine")
    if me.config_version != newest.config_version:
        return (f"config_version {me.config_version} differs from engine "
                f"{newest.engine_id}'s {newest.config_version}: give every engine the same "
                "config")
    if me.config_digest != newest.config_digest:
        return (f"enabled cameras differ from engine {newest.engine_id}'s: give every engine "
                "the same cameras")
    return None
