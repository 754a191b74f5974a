"""EngineRuntime: everything the engine runs, built from config, started and stopped as one.

The REST API reads and changes the engine only through this object:

- `config_manager`  ConfigManager (run-time config changes)
- `repository`      ClipRepository (the only door to clip state)
- `storage`         Storage (clip files; media routes resolve URIs through it)
- `events`          EventHub (live `alert` and `camera_health` messages)
- `cameras()`       {name: CameraState} for every configured camera (enabled or not)
- `last_alerts`     {camera: AlertSummary dict} of the newest alert per camera
- `pipeline_running`, `started_monotonic`, `version`
- `apply_alert_policy(policy)`  applies a policy live (no restart)
- `apply_change(before, after)`  applies a config change live (ConfigManager calls it):
                                cameras added, removed, enabled or disabled start or stop;
                                zones and motion masks apply to the next frame and clip
- `request_restart()`           graceful restart (the CLI loop or the add-on supervisor
                                starts the engine again)
- `components()`                per-component diagnostics (never a secret)
- `storage_status()`            disk, clip and offsite figures for /status

Every part is built through the plugin registry (plugins.py) from the validated config.
`start(run_sources=False)` builds and starts everything but the cameras (the API tests use
it). `last_alerts` is restored from the repository on start, so it survives a restart.
"""

from __future__ import annotations

import asyncio
import logging
import os
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from . import __version__, plugins
from .alerts.summary import alert_summary
from .analyzers.base import Analyzer
from .clipfiles import remove_clip_files
from .config.diff import camera_definition, config_diff, settings_changes
from .config.manager import SETTINGS_SECTIONS, ConfigManager
from .events import EventHub
from .filters.base import FilterError, ObjectFilter
from .alerts.owner import CameraEvents
from .live.inference_queue import InferenceQueue
from .live.watch import LiveWatch
from .notifiers.base import Notifier, NotifierConfigError
from .notifiers.fanout import NotifierFanout
from .pipeline import Pipeline
from .policy import AlertPolicyEngine
from .sources.local_folder import DEFAULT_EXTENSIONS as VIDEO_SUFFIXES
from .sources.local_folder import probe_duration
from .fsutil import is_partial, remove_partial_files
from .records import ClipEventRecord, ClipFile, ClipQuery, ClipRecord, ClipStatus, stable_clip_id
from .timefmt import iso_z
from .sources.base import ClipSource
from .sources.recording import clip_id_of, salvage_recording
from .storage.base import Storage

if TYPE_CHECKING:  # imported late at run time: heavy (SQLAlchemy, OpenDAL)
    from .cluster import ClusterCoordinator
    from .cluster.store import ConfigChange
    from .cluster.shared_copies import SharedCopies
    from .cluster.shared_removal import SharedRemoval
    from .offsite.uploader import OffsiteUploader
    from .retention import Retention
    from .state import ClipRepository

_LOGGER = logging.getLogger(__name__)

MONITOR_INTERVAL_S = 15.0
SOURCE_STOP_TIMEOUT_S = 15.0
PIPELINE_DRAIN_TIMEOUT_S = 30.0
NOTIFIER_DRAIN_TIMEOUT_S = 10.0


class StartupError(Exception):
    """The engine cannot start with this config/environment; the message says why."""


@dataclass(slots=True)
class CameraState:
    name: str
    enabled: bool
    source_backend: str
    healthy: bool = False
    last_heartbeat: datetime | None = None
    error: str | None = None
    lag_s: float | None = None
    analysis_dropped: float | None = None
    detection_rate: float | None = None  # live frames analysed a second (None: no live watch)
    detection_delay_s: float | None = None  # their median wait for the shared detector
    degraded: str | None = None  # why a working camera works less well (falling behind)


def _iso(value: datetime | None) -> str | None:
    return iso_z(value) if value is not None else None


class EngineRuntime:
    """Owns the engine's parts; see the module docstring for what the API may use."""

    def __init__(
        self,
        config_manager: ConfigManager,
        *,
        data_dir: Path | None = None,
        notifier_backoff_s: float = 1.0,
        notifier_max_backoff_s: float = 30.0,
        monitor_interval_s: float = MONITOR_INTERVAL_S,
        repository_options: dict[str, Any] | None = None,
    ) -> None:
        self.config_manager = config_manager
        self.events = EventHub()
        self.version = __version__
        self.started_monotonic = time.monotonic()
        self.last_alerts: dict[str, dict[str, Any]] = {}
        self.pipeline_running = False
        self.restart_requested = asyncio.Event()
        self._camera_states: dict[str, CameraState] = {}
        self._data_dir = data_dir
        self._notifier_backoff = (notifier_backoff_s, notifier_max_backoff_s)
        self._monitor_interval_s = monitor_interval_s
        self._repository_options = dict(repository_options or {})
        # Built in start().
        self.config: dict[str, Any] = {}
        self.repository: ClipRepository | None = None
        self.storage: Storage | None = None
        self.object_filter: ObjectFilter | None = None
        self._camera_filters: dict[str, ObjectFilter] = {}  # other backends, by backend name
        self._inference_queues: dict[int, InferenceQueue] = {}  # by id() of the filter
        self.analyzer: Analyzer | None = None
        self.notifiers: list[Notifier] = []
        # Notifiers left out at start because their settings cannot work here (e.g. the
        # home_assistant one with its env vars unset), by name, with why: diagnostics show them.
        self.notifiers_off: dict[str, tuple[str, str]] = {}
        self.fanout: NotifierFanout | None = None
        self.pipeline: Pipeline | None = None
        self.offsite: OffsiteUploader | None = None  # when offsite copies are enabled
        self.retention: Retention | None = None  # (also measures the storage figures)
        self.sources: dict[str, ClipSource] = {}
        self.live: CameraEvents | None = None  # the one owner of camera events
        self.cluster: ClusterCoordinator | None = None  # cluster mode: leases pick the cameras
        self._shared_copies: SharedCopies | None = None  # cluster mode: other engines' clips
        self._shared_removal: SharedRemoval | None = None  # cluster mode: deleted clips' objects
        self._policy = AlertPolicyEngine({})
        self._monitor: asyncio.Task[None] | None = None
        self._monitor_stop = asyncio.Event()
        self._db_latency_ms: float | None = None
        self._started = False
        self._run_sources = False

    # -- what the API reads -----------------------------------------------------------------

    @property
    def data_dir(self) -> Path:
        if self._data_dir is not None:
            return self._data_dir
        outbox = (self.config.get("state") or {}).get("outbox_path") or "./data/outbox"
        return Path(outbox).expanduser().absolute().parent

    def started_repository(self) -> ClipRepository:
        """The repository of a started engine (the API serves only then)."""
        if self.repository is None:
            raise RuntimeError("the engine is not started")
        return self.repository

    @property
    def policy(self) -> AlertPolicyEngine:
        return self._policy

    def cameras(self) -> dict[str, CameraState]:
        for name, source in self.sources.items():
            state = self._camera_states.get(name)
            if state is not None:
                state.healthy = bool(source.is_healthy())
                state.last_heartbeat = source.last_heartbeat()
                state.error = source.last_error()
                state.lag_s = source.lag_s()
                state.analysis_dropped = source.analysis_dropped()
                state.degraded = source.degraded_reason() if state.healthy else None
                live = source.live.stats() if source.live is not None else None
                state.detection_rate = None if live is None else live["rate_fps"]
                state.detection_delay_s = None if live is None else live["delay_s"]
                if live is not None and live["saturated"] and state.healthy:
                    # First sight keeps its place; follow-ups wait too long and are dropped.
                    state.degraded = state.degraded or (
                        f"detector saturated: follow-up detection delayed "
                        f"{live['delay_s']:.1f} s, {live['follow_ups_stale']} frames dropped")
        if self.cluster is not None:
            self._cameras_elsewhere()
        return dict(self._camera_states)

    def cameras_down(self) -> dict[str, str]:
        """Enabled cameras that failed to start or are offline now, each with why (the health
        is degraded while any is). A camera still connecting, with no error yet, is not."""
        return {name: state.error for name, state in self.cameras().items()
                if state.enabled and not state.healthy and state.error}

    def _cameras_elsewhere(self) -> None:
        """Cluster mode: a camera another engine records shows what that engine reported."""
        assert self.cluster is not None
        for name, state in self._camera_states.items():
            if name in self.sources or not state.enabled:
                continue
            holder = self.cluster.holder(name)
            if holder is None:
                state.healthy, state.error = False, "no engine of the cluster records it now"
                continue
            beat = holder.camera.get("last_heartbeat")
            state.healthy = bool(holder.camera.get("healthy"))
            state.last_heartbeat = datetime.fromisoformat(beat) if beat else None
            state.error = holder.camera.get("error")

    def _camera_report(self) -> dict[str, dict[str, Any]]:
        """The cameras this engine records, for the other engines of a cluster."""
        return {name: {"healthy": bool(source.is_healthy()),
                       "last_heartbeat": _iso(source.last_heartbeat()),
                       "error": source.last_error()}
                for name, source in self.sources.items()}

    async def shared_copy(self, clip: ClipRecord) -> Path | None:
        """Cluster mode: a local copy of a clip's video from the object store (recorded by
        another engine, or spooled out of this one's disk); None otherwise."""
        if self._shared_copies is None:
            return None
        return await self._shared_copies.path(clip)

    async def shared_snapshot(self, clip_id: str) -> Path | None:
        """Cluster mode: a local copy of a clip's snapshot from the object store; None
        otherwise or when the store has none (yet)."""
        if self._shared_copies is None:
            return None
        return await self._shared_copies.snapshot(clip_id)

    def storage_error(self) -> str | None:
        """Why clips cannot be stored right now (retried meanwhile); None while storage works."""
        return self.pipeline.storage_error if self.pipeline is not None else None

    async def request_restart(self) -> None:
        self.restart_requested.set()

    def apply_alert_policy(self, policy: dict[str, Any]) -> None:
        """Use `policy` (a validated AlertPolicy dict) for every clip decided from now on."""
        self._policy = plugins.alert_policy("default")(policy)
        _LOGGER.info("alert policy applied: minimum risk %s", self._policy.min_risk_level)

    def components(self) -> dict[str, dict[str, Any]]:
        """Per-component status, error and latency; never a secret."""
        out: dict[str, dict[str, Any]] = {}
        repo = self.repository
        if repo is None:
            out["database"] = {"status": "stopped", "error": None, "latency_ms": None}
        else:
            up = bool(repo.available)
            out["database"] = {
                "status": "ok" if up else "down",
                "error": None if up else "the database does not answer",
                "latency_ms": self._db_latency_ms if up else None,
                "pending_writes": int(repo.pending_writes),
                "backend": repo.engine.dialect.name,
            }
        if self.offsite is not None:
            out["offsite"] = self.offsite.status()
        if self.cluster is not None:
            cluster = self.cluster.status()
            out["cluster"] = {"status": "ok" if cluster["state"] == "holding" else "error",
                              "error": cluster["reason"], "latency_ms": None,
                              "state": cluster["state"]}
        if self.retention is not None:
            out["retention"] = {
                "status": "error" if self.retention.last_error else "ok",
                "error": self.retention.last_error, "latency_ms": None,
                "disk_critical": self.retention.disk_critical,
            }
        storage_cfg = self.config.get("storage") or {}
        storage_error = self.storage_error()
        out["storage"] = {"status": "error" if storage_error else "ok", "error": storage_error,
                          "latency_ms": None, "backend": storage_cfg.get("backend", "local"),
                          "uploads_waiting": self.pipeline.uploads_waiting if self.pipeline
                          else 0}
        pipe = self.pipeline
        out["pipeline"] = {
            "status": "running" if self.pipeline_running else "stopped",
            "error": pipe.last_error if pipe else None, "latency_ms": None,
            "clips_in_flight": pipe.in_flight if pipe else 0,
            "clips_seen": pipe.clips_seen if pipe else 0,
        }
        if self.object_filter is not None:
            out["filter"] = {**self.object_filter.status(), "latency_ms": None}
        if self.analyzer is not None:
            out["analyzer"] = self.analyzer.status()
        else:
            out["analyzer"] = {"status": "disabled", "error": None, "latency_ms": None}
        for name, state in self.cameras().items():
            if not state.enabled:
                status = "disabled"
            elif not state.healthy:
                status = "unhealthy"
            else:
                status = "degraded" if state.degraded else "ok"
            out[f"camera:{name}"] = {
                "status": status, "error": state.error or state.degraded, "latency_ms": None,
                "backend": state.source_backend, "last_heartbeat": _iso(state.last_heartbeat),
                "lag_s": state.lag_s, "analysis_dropped": state.analysis_dropped,
                "detection_rate": state.detection_rate,
                "detection_delay_s": state.detection_delay_s,
            }
            source = self.sources.get(name)
            live = getattr(source, "live", None) if source is not None else None
            if isinstance(live, LiveWatch):
                out[f"camera:{name}"]["tracks"] = live.tracker.status()
        for notifier in self.notifiers:
            out[f"notifier:{notifier.name}"] = {"backend": notifier.backend, **notifier.status()}
        for name, (backend, why) in self.notifiers_off.items():
            out[f"notifier:{name}"] = {"backend": backend, "status": "disabled", "error": why,
                                       "latency_ms": None}
        return out

    # -- life cycle -------------------------------------------------------------------------

    async def start(self, run_sources: bool = True) -> None:
        if self._started:
            return
        self.config = self.config_manager.get_config() or await self.config_manager.load()
        self._started = True
        self.started_monotonic = time.monotonic()
        try:
            await self._build()
        except BaseException:
            await self.stop()
            raise
        await self._restore_last_alerts()
        assert self.live is not None
        await self.live.recover(await self._cameras_held_last())
        self.pipeline_running = True
        await self._recover_leftover_clips()
        self._run_sources = run_sources
        if run_sources:
            if self.cluster is not None:
                await self.cluster.start()  # its leases decide which cameras run here
            else:
                await self._start_sources()
        self.config_manager.on_change = self.apply_change
        self._monitor = asyncio.create_task(self._monitor_loop(), name="homesec-monitor")
        if self.retention is not None:
            try:  # the storage figures are there for the first poll
                await self.retention.measure()
            except Exception as err:  # the database is down: the first pass measures
                _LOGGER.info("storage figures not measured yet: %s", err)
            self.retention.start()
        _LOGGER.info("engine started: %d camera(s), %d notifier(s)",
                     len(self._camera_states), len(self.notifiers))

    async def _build(self) -> None:
        cfg = self.config
        state_cfg = cfg["state"]
        url = state_cfg["url"]
        if state_cfg.get("url_env"):
            url = os.environ.get(state_cfg["url_env"]) or ""
            if not url:
                raise StartupError(f"state.url_env: environment variable "
                                   f"{state_cfg['url_env']} is not set")
        self._prepare_cluster(url)  # first: a cluster config that cannot work opens nothing
        from .state import ClipRepository  # imported late: heavy (SQLAlchemy)

        storage_cfg = cfg["storage"]
        self.storage = storage = plugins.storage(storage_cfg["backend"])(storage_cfg)
        try:
            self.repository = repository = ClipRepository(
                url, Path(state_cfg["outbox_path"]).expanduser(), **self._repository_options)
        except ValueError as err:
            raise StartupError(f"state.url: {err}") from err
        # Before start(): a replay of kept writes may already meet a deleted clip.
        repository.on_write_after_delete = self._remove_files_of_deleted
        if self.cluster is not None:  # new clip rows carry, and are checked by, its tokens
            repository.fence = self.cluster.fence
        await repository.start()

        backend = cfg["filter"]["backend"]
        self.object_filter = plugins.object_filter(backend)(self._filter_config(backend))
        # Only what an enabled camera uses is loaded now (the detector's model is ~90 MB);
        # the global filter still loads on first use, e.g. for a clip left by a removed camera,
        # and a camera enabled or added later loads its filter as it starts.
        for camera in cfg["cameras"]:
            if camera.get("enabled", True):
                await self._load_filter(camera)

        analyzer_cfg = cfg["analyzer"]
        if analyzer_cfg.get("enabled"):
            self.analyzer = plugins.analyzer(analyzer_cfg.get("backend", "openai"))(analyzer_cfg)
            await self.analyzer.start()

        self.apply_alert_policy(cfg["alert_policy"])

        backoff_s, max_backoff_s = self._notifier_backoff
        used: dict[str, int] = {}
        for notifier_cfg in cfg["notifiers"]:
            if not notifier_cfg.get("enabled", True):
                continue
            backend = notifier_cfg["backend"]
            used[backend] = used.get(backend, 0) + 1
            name = backend if used[backend] == 1 else f"{backend}_{used[backend]}"
            notifier = plugins.notifier(backend)(notifier_cfg, name=name, backoff_s=backoff_s,
                                                 max_backoff_s=max_backoff_s)
            try:
                await notifier.start()
            except NotifierConfigError as err:
                # Optional: the engine records and alerts in the panel and API without it.
                await notifier.close()
                self.notifiers_off[name] = (backend, str(err))
                _LOGGER.warning("notifier %s is off: %s", name, err)
                continue
            self.notifiers.append(notifier)
        self.fanout = NotifierFanout(self.notifiers)

        offsite_cfg = cfg.get("offsite") or {}
        if offsite_cfg.get("enabled"):
            from .offsite import OffsiteUploader  # imported late: loads OpenDAL

            # Beside the state outbox: both must outlive a restart, neither needs the database.
            self.offsite = OffsiteUploader(offsite_cfg, self.data_dir / "offsite-queue",
                                           storage=storage, repository=repository,
                                           shared=self.cluster is not None)
            await self.offsite.start()
        from .retention import Retention

        if self.cluster is not None:
            from .cluster.shared_removal import SharedRemoval

            self._shared_removal = SharedRemoval(
                lambda: self.offsite.target if self.offsite is not None else None,
                repository.engine)
        self.retention = Retention(
            cfg["retention"], repository=repository, storage=storage,
            storage_root=Path(str(storage_cfg.get("path") or ".")).expanduser().absolute(),
            offsite=self.offsite, on_deleted=self._on_clip_deleted, shared=self._shared_removal)

        self.live = CameraEvents(
            repository=repository, hub=self.events, fanout=self.fanout,
            policy=lambda: self._policy, storage=storage, last_alerts=self.last_alerts,
            public_url=cfg["server"].get("public_url"), on_message=self.fanout.live_event,
            offsite=self.offsite)
        await self.live.start()
        self.pipeline = Pipeline(
            repository=repository, storage=storage, offsite=self.offsite,
            object_filter=self.object_filter, analyzer=self.analyzer, filter_for=self.filter_for,
            policy=lambda: self._policy, camera_events=self.live,
            camera_zones={c["name"]: c.get("zones") or [] for c in cfg["cameras"]},
        )
        for camera in cfg["cameras"]:
            self._camera_states[camera["name"]] = CameraState(
                name=camera["name"], enabled=bool(camera.get("enabled", True)),
                source_backend=camera["source_backend"])

    def _prepare_cluster(self, url: str) -> None:
        """Cluster mode: a coordinator whose leases pick this engine's cameras (started with
        the cameras). Off by default: then every enabled camera runs here."""
        from .cluster import ClusterConfigError, ClusterCoordinator, cluster_settings

        try:
            settings = cluster_settings(self.config, url, self.config_manager.files_config())
        except ClusterConfigError as err:
            raise StartupError(str(err)) from err
        if settings is None:
            return
        from .state.db import create_engine, normalize_url
        from .state.migrations import MIGRATIONS

        from .cluster.relay import EventRelay
        from .cluster.shared_copies import SharedCopies

        self._shared_copies = SharedCopies(
            lambda: self.offsite.target if self.offsite is not None else None,
            self.data_dir / "shared-copies")

        database = normalize_url(url)
        timeout_s = max(1.0, settings.heartbeat_s)
        self.cluster = ClusterCoordinator(
            settings, create_engine(database, timeout=timeout_s),
            schema_version=MIGRATIONS[-1].version, cameras=self._enabled_cameras,
            start_camera=self.start_camera, stop_camera=self.stop_camera,
            relay=EventRelay(settings.engine_id, database, self.events, timeout_s=timeout_s,
                             last_alerts=self.last_alerts),
            camera_report=self._camera_report, end_left_open=self._end_left_open,
            apply_change=self._apply_installation_change)

    async def _cameras_held_last(self) -> list[str] | None:
        """Whose events left open this engine ends at start: every camera's (None), or in
        cluster mode the cameras its leases name (its earlier run's), never another live
        engine's; none while the database does not answer (a taker ends them then)."""
        if self.cluster is None:
            return None
        try:
            await self.cluster.store.create_tables()
            leases = await self.cluster.store.leases()
        except Exception as err:  # noqa: BLE001 - the database is down at start
            _LOGGER.info("cluster: open events not recovered at start: %s", err)
            return []
        me = self.cluster.settings.engine_id
        return sorted(lease.camera for lease in leases if lease.engine_id == me)

    async def _apply_installation_change(self, change: ConfigChange) -> bool:
        """Cluster mode: a change made through another engine's API (a camera added,
        updated or removed; the alert policy; a settings field), brought into this config;
        False when this config has it so already."""
        definition = change.definition
        if change.kind == "policy":
            if definition is None or self.config.get("alert_policy") == definition:
                return False
            await self.config_manager.set_alert_policy(definition)
            return True
        if change.kind == "settings":
            if definition is None or all(
                    (self.config.get(section) or {}).get(name) == value
                    for section, values in definition.items() for name, value in values.items()):
                return False
            await self.config_manager.update_settings(definition)
            return True
        return await self._apply_installation_camera(change.camera or "", definition)

    async def _apply_installation_camera(self, name: str,
                                         camera: dict[str, Any] | None) -> bool:
        """Cluster mode: a camera added, updated (`camera`: its camera_definition) or removed
        (None) through another engine's API, brought into this config (a removed one leaves
        it, enabled or not); False when this config has it so already."""
        from .config import CameraNotFound

        current = next((c for c in self.config.get("cameras", []) if c["name"] == name), None)
        if camera is None:
            if current is None:
                return False
            try:
                await self.config_manager.remove_camera(name)
            except CameraNotFound:
                return False  # removed here meanwhile
            return True
        if current is not None and camera_definition(self.config, current) == camera:
            return False
        await self.config_manager.put_camera(camera)
        return True

    async def _end_left_open(self, cameras: list[str]) -> None:
        if self.live is not None:
            ended = await self.live.end_left_open(cameras)
            if ended:
                _LOGGER.warning("cluster: ended %d event(s) left open by an engine that lost "
                                "its cameras: %s", len(ended), ", ".join(ended))

    def _enabled_cameras(self) -> list[str]:
        return [c["name"] for c in self.config.get("cameras", []) if c.get("enabled", True)]

    @staticmethod
    def _filter_backend(camera: dict[str, Any], default: str | None = None) -> str | None:
        """The camera's filter backend: its own setting; a demo camera reads its drawn
        subjects with the builtin heuristic (see sources/demo.py); else the global one."""
        if camera.get("filter_backend"):
            return str(camera["filter_backend"])
        return "builtin" if camera.get("source_backend") == "demo" else default

    def filter_for(self, camera: str) -> ObjectFilter:
        """The object filter that judges `camera`'s clips."""
        assert self.object_filter is not None
        config: dict[str, Any] = next(
            (c for c in self.config.get("cameras", []) if c["name"] == camera), {})
        backend = self._filter_backend(config)
        if not backend or backend == self.object_filter.name:
            return self.object_filter
        if backend not in self._camera_filters and backend == "builtin":
            # A demo camera added at run time: the heuristic needs nothing loaded.
            self._camera_filters[backend] = plugins.object_filter(backend)(
                self._filter_config(backend))
        return self._camera_filters.get(backend, self.object_filter)

    async def _start_sources(self) -> None:
        for camera in self.config["cameras"]:
            if self._camera_states[camera["name"]].enabled:
                await self.start_camera(camera["name"])

    async def start_camera(self, name: str) -> bool:
        """Start one configured, enabled camera; False (its error kept) when it cannot."""
        assert self.pipeline is not None
        camera = next((c for c in self.config["cameras"] if c["name"] == name), None)
        state = self._camera_states.get(name)
        if camera is None or state is None or not state.enabled:
            return False
        if name in self.sources:
            return True
        work_dir = self.data_dir / "work" / name
        try:
            await self._load_filter(camera)
            source = plugins.source(camera["source_backend"])(
                name, camera["source_config"], work_dir)
            source.set_motion_masks(camera.get("motion_masks") or [])
            self._watch_live(source)
            await source.start(self.pipeline.on_clip, self._on_health)
        except Exception as err:  # one broken camera must not keep the others down
            state.error = f"{type(err).__name__}: {err}"
            _LOGGER.error("camera %s did not start: %s", name, state.error)
            return False
        state.error = None
        self.sources[name] = source
        return True

    async def stop_camera(self, name: str) -> bool:
        """Stop one running camera (its recording in progress is finished and kept)."""
        source = self.sources.pop(name, None)
        if source is None:
            return False
        try:
            await asyncio.wait_for(source.stop(), SOURCE_STOP_TIMEOUT_S)
        except Exception as err:
            _LOGGER.warning("camera %s did not stop cleanly: %s", name, err)
        state = self._camera_states.get(name)
        if state is not None:
            state.healthy = False
        return True
    def _filter_config(self, backend: str) -> dict[str, Any]:
        return {**self.config["filter"], "tracking": self.config.get("tracking") or {},
                "backend": backend}

    async def _load_filter(self, camera: dict[str, Any]) -> None:
        """Start the filter that judges `camera` (its own backend, else the global one)."""
        assert self.object_filter is not None
        backend = self._filter_backend(camera, self.object_filter.name)
        try:
            if not backend or backend == self.object_filter.name:
                await self.object_filter.ensure_started()
                return
            if backend not in self._camera_filters:
                self._camera_filters[backend] = plugins.object_filter(backend)(
                    self._filter_config(backend))
            await self._camera_filters[backend].ensure_started()
        except FilterError as err:
            raise StartupError(str(err)) from err

    async def apply_change(self, before: dict[str, Any], after: dict[str, Any]) -> list[str]:
        """Apply a config change now (ConfigManager calls it); answer what waits for a restart.

        Added and enabled cameras start, removed and disabled ones stop, a camera whose
        source settings changed starts again with them; zones and motion masks go to the
        running camera (next frame, next clip); a new policy judges the next clip, new filter
        thresholds and tracking settings the next frame (live trackers too) and clip, and a
        new retention runs a pass at once. In a cluster the leases decide where a camera
        starts: its next beat reads the new list, and every camera added, changed or removed,
        a new alert policy and every settings field changed is recorded for the whole
        installation (every engine's config follows; a removed camera is stopped by its
        holder).
        """
        diff = config_diff(before, after)
        self.config = after
        assert self.pipeline is not None
        running_before = set(self.sources)
        for name in diff.removed:
            await self.stop_camera(name)
            self._camera_states.pop(name, None)
            self.pipeline.set_zones(name, [])
        if self.cluster is not None:  # every engine of the installation has it so
            await self.cluster.config_changed(
                cameras=[*((name, "remove", None) for name in diff.removed),
                         *((camera["name"], kind, camera_definition(after, camera))
                           for kind, cameras in (("add", diff.added), ("update", diff.changed))
                           for camera in cameras)],
                policy=after["alert_policy"] if diff.policy_changed else None,
                settings=settings_changes(before, after, SETTINGS_SECTIONS))
        for camera in diff.added:
            self._camera_states[camera["name"]] = CameraState(
                name=camera["name"], enabled=bool(camera.get("enabled", True)),
                source_backend=camera["source_backend"])
        for camera in diff.zones:
            zones = self.pipeline.set_zones(camera["name"], camera.get("zones") or [])
            source = self.sources.get(camera["name"])
            if source is not None and source.live is not None:
                source.live.zones = zones
        for camera in diff.masks:
            if (source := self.sources.get(camera["name"])) is not None:
                source.set_motion_masks(camera.get("motion_masks") or [])
        for camera in diff.restarted:
            name = camera["name"]
            await self.stop_camera(name)
            state = self._camera_states[name]
            state.enabled = bool(camera.get("enabled", True))
            state.source_backend = camera["source_backend"]
            state.healthy, state.error, state.lag_s, state.degraded = False, None, None, None
            if not state.enabled:  # HA's health follows at once, not at its next poll
                self.events.publish("camera_health", {
                    "camera": name, "healthy": False,
                    "last_heartbeat": _iso(state.last_heartbeat)})
        if self._run_sources:
            to_start = [c["name"] for c in [*diff.added, *diff.restarted]]
            if self.cluster is not None:  # only what ran here before; the leases do the rest
                to_start = [n for n in to_start if n in running_before]
            for name in to_start:
                await self.start_camera(name)
        if diff.policy_changed:
            self.apply_alert_policy(after["alert_policy"])
        if diff.filter_changed:  # every tracker reads its filter's settings: the next frame
            for object_filter in {id(f): f for f in (self.object_filter,
                                                     *self._camera_filters.values())
                                  if f is not None}.values():
                object_filter.apply_settings(self._filter_config(object_filter.name))
        if diff.retention_changed and self.retention is not None:
            self.retention.reconfigure(after["retention"])
        if diff.added or diff.removed or diff.restarted:
            _LOGGER.info("cameras applied live: %d added, %d removed, %d restarted",
                         len(diff.added), len(diff.removed), len(diff.restarted))
        return diff.restart_fields

    def _watch_live(self, source: Any) -> None:
        """Live detection for a source that decodes frames, when its camera's filter can
        judge one frame at a time (the builtin heuristic needs the whole clip)."""
        assert self.pipeline is not None and self.live is not None
        object_filter = self.filter_for(source.camera)
        fps = float(getattr(source, "live_fps", 0.0))
        if fps <= 0 or object_filter.needs_whole_clip:
            return
        if object_filter.status().get("status") != "ok":
            return  # no usable model: the clip filter's fallback judges the clip
        # One queue per detector: every camera's live frames share its worker, fairly.
        queue = self._inference_queues.get(id(object_filter))
        if queue is None:
            queue = self._inference_queues[id(object_filter)] = InferenceQueue(
                object_filter.name)
            object_filter.clip_turn = queue.clip_turn  # clips take turns with live frames
        source.set_live(LiveWatch(
            source.camera, object_filter, self.pipeline.zones_of(source.camera), fps, self.live,
            queue=queue, follow_fps=float(getattr(source, "live_follow_fps", fps))))

    async def _recover_leftover_clips(self) -> None:
        """Finish what a killed engine left: P0, no clip is lost and none is kept twice.

        A recording cut off mid-way is salvaged: what its fragments hold becomes the
        finished recording. Other partial files (copies) are removed. Every finished recording
        left in a work folder goes through the pipeline again under the clip id it had (the
        one in its name, else stable_clip_id), so its row (and live event) moves on and its
        stored object is overwritten; one whose clip is already done only loses its working
        copy. Rows left half-way with no file to finish them end in `error` with an
        `interrupted` event.
        """
        assert self.pipeline is not None and self.storage is not None and self.live is not None
        removed = await asyncio.to_thread(self.storage.remove_partial_files)
        resumed: set[str] = set()
        for name in self._camera_states:
            work_dir = self.data_dir / "work" / name
            for path in await asyncio.to_thread(salvage_recordings, work_dir):
                _LOGGER.info("camera %s: salvaged the recording cut off by a stop: %s",
                             name, path.name)
            removed += await asyncio.to_thread(remove_partial_files, work_dir)
            leftovers = await asyncio.to_thread(leftover_clips, work_dir, name)
            for clip in leftovers:
                clip_id = clip.clip_id
                if clip_id is None:
                    clip_id = await asyncio.to_thread(stable_clip_id, name, clip.path)
                if await self._already_done(clip_id):
                    await asyncio.to_thread(clip.path.unlink, True)
                    continue
                _LOGGER.info("camera %s: processing %s left from an earlier run",
                             name, clip.path.name)
                resumed.add(clip_id)
                self.pipeline.submit(clip)
        if removed:
            _LOGGER.info("removed %d partial file(s) left by an interrupted run", removed)
        self.live.keep_recovered(resumed)
        await self._close_unfinished(resumed)

    async def _already_done(self, clip_id: str) -> bool:
        try:
            clip = await self.started_repository().get_clip(clip_id)
        except Exception:  # database down: process it again, the row catches up later
            return False
        return clip is not None and clip.status == ClipStatus.DONE and bool(clip.storage_uri)

    async def _close_unfinished(self, resumed: set[str]) -> None:
        for status in (ClipStatus.QUEUED_LOCAL, ClipStatus.UPLOADED, ClipStatus.ANALYZED):
            try:
                clips, _ = await self.started_repository().list_clips(ClipQuery(status=status, limit=200))
            except Exception as err:  # database down at start: they are closed next start
                _LOGGER.info("unfinished clips not checked: %s", err)
                return
            for clip in clips:
                if clip.id in resumed:
                    continue
                await self.started_repository().update_clip(clip.id, status=ClipStatus.ERROR.value)
                await self.started_repository().add_event(ClipEventRecord(
                    clip_id=clip.id, type="interrupted",
                    data={"stage": str(clip.status), "reason": "the engine stopped before the "
                          "clip was finished and its recording is gone"}))

    async def _on_health(self, camera: str, healthy: bool) -> None:
        state = self._camera_states.get(camera)
        source = self.sources.get(camera)
        beat = source.last_heartbeat() if source is not None else None
        if state is not None:
            state.healthy, state.last_heartbeat = healthy, beat or state.last_heartbeat
            if healthy:
                state.error = None
        self.events.publish("camera_health",
                            {"camera": camera, "healthy": healthy, "last_heartbeat": _iso(beat)})
        if self.fanout is not None:
            self.fanout.camera_health(camera, healthy, beat)

    async def _newest_alert(self, camera: str) -> dict[str, Any] | None:
        """The camera's newest alerted clip that still exists, as an AlertSummary."""
        clips, _ = await self.started_repository().list_clips(
            ClipQuery(camera=camera, alerted=True, limit=1))
        if not clips:
            return None
        return _alert_summary(clips[0])

    async def _restore_last_alerts(self) -> None:
        for name in self._camera_states:
            try:
                summary = await self._newest_alert(name)
            except Exception as err:  # database down at start: nothing to restore now
                _LOGGER.info("last alerts not restored: %s", err)
                return
            if summary is not None:
                self.last_alerts.setdefault(name, summary)

    async def forget_clip(self, camera: str, clip_id: str) -> None:
        """A deleted clip stops being its camera's last alert; the one before takes over."""
        current = self.last_alerts.get(camera)
        if current is None or current.get("clip_id") != clip_id:
            return
        summary = await self._newest_alert(camera)
        if summary is None:
            self.last_alerts.pop(camera, None)
        else:
            self.last_alerts[camera] = summary

    async def _remove_files_of_deleted(self, clip_id: str, stored: list[str]) -> None:
        """A write to a deleted clip was dropped: what was stored for it since goes too (in
        cluster mode from the object store as well)."""
        if self.storage is not None:
            removed = await remove_clip_files(self.storage, clip_id, stored)
            if removed:
                _LOGGER.info("clip %s: removed %d file(s) stored after it was deleted",
                             clip_id, removed)
        if self._shared_removal is not None:
            await self._shared_removal.remove_late(clip_id, stored)

    async def remove_shared_objects(self, clip: ClipRecord) -> None:
        """Cluster mode: remove the clip's objects from the object store (before its row is
        marked deleted); raises StoreUnavailable when the store does not answer. Nothing to
        do otherwise."""
        if self._shared_removal is not None:
            await self._shared_removal.remove([clip])

    async def _on_clip_deleted(self, clip: ClipRecord) -> None:
        try:
            await self.forget_clip(clip.camera, clip.id)
        except Exception as err:  # the database left mid-pass: the next start restores it
            _LOGGER.debug("last alert of %s not refreshed: %s", clip.camera, err)

    def storage_status(self) -> dict[str, Any]:
        """The Storage body of /status: what the last retention pass measured, the backlog."""
        figures = self.retention.figures if self.retention is not None else None
        offsite = self.offsite.status() if self.offsite is not None else None
        return {
            "disk_used_bytes": figures.disk_used_bytes if figures else None,
            "disk_free_bytes": figures.disk_free_bytes if figures else None,
            "disk_total_bytes": figures.disk_total_bytes if figures else None,
            "disk_critical": bool(self.retention.disk_critical) if self.retention else False,
            "clips_stored": figures.clips_stored if figures else None,
            "oldest_clip": _iso(figures.oldest_clip) if figures else None,
            "offsite_enabled": offsite is not None,
            "offsite_backlog": offsite["backlog"] if offsite else None,
            "offsite_error": offsite["error"] if offsite else None,
            "offsite_failing_since": offsite["failing_since"] if offsite else None,
        }

    async def _monitor_loop(self) -> None:
        # Stopped through an event, never cancelled mid-ping: a cancelled database call can
        # leave its connection (and the driver's thread) behind.
        while not self._monitor_stop.is_set():
            started = time.monotonic()
            try:
                ok = await self.started_repository().ping()
            except Exception:
                ok = False
            self._db_latency_ms = round((time.monotonic() - started) * 1000, 1) if ok else None
            try:
                await asyncio.wait_for(self._monitor_stop.wait(), self._monitor_interval_s)
            except TimeoutError:
                pass

    async def stop(self) -> None:
        """Stop cameras, finish clips in flight, close notifiers and the repository."""
        if not self._started:
            return
        self._started = False
        self.pipeline_running = False
        if self.cluster is not None:  # stops its cameras, then gives their leases up
            await self.cluster.close()
            self.cluster = None
        if self.config_manager.on_change == self.apply_change:
            self.config_manager.on_change = None
        for name in list(self.sources):
            await self.stop_camera(name)
        for queue in self._inference_queues.values():  # every watch left it: just joins
            await asyncio.to_thread(queue.stop)
        self._inference_queues = {}
        if self.retention is not None:
            await self.retention.close()
        if self.pipeline is not None:
            await self.pipeline.drain(PIPELINE_DRAIN_TIMEOUT_S)
        if self.live is not None:
            await self.live.close()
            self.live = None
        if self.offsite is not None:  # after the drain: the last clips' jobs are on disk
            await self.offsite.close()
        if self.fanout is not None:
            await self.fanout.drain(NOTIFIER_DRAIN_TIMEOUT_S)
            await self.fanout.close()
        else:
            for notifier in self.notifiers:
                await notifier.close()
        if self._monitor is not None:
            self._monitor_stop.set()
            try:
                await asyncio.wait_for(self._monitor, 30)
            except (TimeoutError, Exception) as err:
                _LOGGER.warning("database monitor did not stop cleanly: %r", err)
            self._monitor = None
        for component in (self.analyzer, self.object_filter, *self._camera_filters.values()):
            if component is not None:
                try:
                    await component.close()
                except Exception as err:
                    _LOGGER.warning("closing %s failed: %s", type(component).__name__, err)
        self._camera_filters = {}
        if self.repository is not None:
            await self.repository.close()
        _LOGGER.info("engine stopped")


def _alert_summary(clip: ClipRecord) -> dict[str, Any]:
    return alert_summary(
        clip_id=clip.id, activity_type=clip.activity_type, risk_level=clip.risk_level,
        summary=clip.summary, detected_objects=clip.detected_objects, timestamp=clip.created_at,
        objects=clip.objects, zones=clip.zones)


def leftover_clips(work_dir: Path, camera: str) -> list[ClipFile]:
    """Finished recordings in a camera's work folder (blocking: run in a thread).

    Sources write under a `.part` name or a hidden temp name and rename when done, so every
    other video file there is complete. One that cannot be read is left alone and logged.
    """
    if not work_dir.is_dir():
        return []
    found: list[ClipFile] = []
    for path in sorted(work_dir.iterdir()):
        if path.name.startswith(".") or is_partial(path.name) or \
                path.suffix.lower() not in VIDEO_SUFFIXES:
            continue
        try:
            duration = probe_duration(path)
            ended = datetime.fromtimestamp(path.stat().st_mtime, UTC)
        except Exception as err:  # a damaged file must not stop the start
            _LOGGER.warning("camera %s: %s left from an earlier run is unreadable: %s",
                            camera, path.name, err)
            continue
        found.append(ClipFile(camera=camera, path=path,
                              started_at=ended - timedelta(seconds=duration), ended_at=ended,
                              clip_id=clip_id_of(path)))
    return found


def salvage_recordings(work_dir: Path) -> list[Path]:
    """The recordings a kill cut off in a camera's work folder, made finished files
    (blocking: run in a thread)."""
    if not work_dir.is_dir():
        return []
    parts = sorted(p for p in work_dir.iterdir()
                   if p.name.endswith(".part") and p.name.removesuffix(".part").endswith(".mp4"))
    return [final for part in parts if (final := salvage_recording(part)) is not None]
