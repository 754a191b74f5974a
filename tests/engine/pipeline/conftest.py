"""Fixtures for the pipeline tests: real loopback servers that speak the real protocols.

- `fake_ha`: Home Assistant's REST API (`POST /api/events/<type>`), also mounted under
  `/core` like the Supervisor's proxy; it records every request and can be told to fail.
- `fake_vlm`: an OpenAI-compatible `POST /v1/chat/completions` answering from a script.
- `make_video`: H.264 clips of scenes the tests draw (PyAV/libx264, tests/videotools.py).
- `mqtt_messages`: a real subscription on the test Mosquitto (tests/services.py).
"""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiomqtt
import numpy as np
import pytest
from aiohttp import web

from tests.videotools import background, write_h264

from tests.services import MQTT_HOST, MQTT_PORT

__all__ = ["MQTT_HOST", "MQTT_PORT"]


@pytest.fixture(autouse=True)
def _tcp_sockets(request: pytest.FixtureRequest) -> None:
    """pytest-homeassistant-custom-component blocks sockets; these tests use loopback TCP."""
    try:
        request.getfixturevalue("socket_enabled")
    except pytest.FixtureLookupError:
        pass


# -- a loopback aiohttp server --------------------------------------------------------------


@asynccontextmanager
async def serve(app: web.Application) -> AsyncIterator[str]:
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        await runner.cleanup()


# -- Home Assistant's events API ------------------------------------------------------------


@dataclass
class HaRequest:
    path: str
    authorization: str | None
    body: Any


@dataclass
class FakeHomeAssistant:
    url: str = ""
    requests: list[HaRequest] = field(default_factory=list)
    fail_next: int = 0  # answer 503 to this many requests first
    fail_status: int = 503
    arrived: asyncio.Event = field(default_factory=asyncio.Event)

    def events(self, event_type: str) -> list[HaRequest]:
        return [r for r in self.requests if r.path.endswith(f"/api/events/{event_type}")
                and r.body is not None]

    async def wait_for(self, event_type: str, count: int = 1, timeout: float = 60) -> list[
            HaRequest]:
        async with asyncio.timeout(timeout):
            while len(self.events(event_type)) < count:
                self.arrived.clear()
                await self.arrived.wait()
        return self.events(event_type)

    async def handle(self, request: web.Request) -> web.Response:
        body = await request.json()
        if self.fail_next > 0:
            self.fail_next -= 1
            self.requests.append(HaRequest(request.path, request.headers.get("Authorization"),
                                           None))
            self.arrived.set()
            return web.json_response({"message": "unavailable"}, status=self.fail_status)
        self.requests.append(HaRequest(request.path, request.headers.get("Authorization"), body))
        self.arrived.set()
        event_type = request.match_info["event_type"]
        return web.json_response({"message": f"Event {event_type} fired."})


@pytest.fixture
async def fake_ha() -> AsyncIterator[FakeHomeAssistant]:
    ha = FakeHomeAssistant()
    app = web.Application()
    app.router.add_post("/api/events/{event_type}", ha.handle)
    app.router.add_post("/core/api/events/{event_type}", ha.handle)  # the Supervisor proxy
    async with serve(app) as url:
        ha.url = url
        yield ha


# -- an OpenAI-compatible chat-completions server ------------------------------------------


def chat_answer(content: str) -> dict[str, Any]:
    return {
        "id": "chatcmpl-test", "object": "chat.completion", "model": "test-vlm",
        "choices": [{"index": 0, "finish_reason": "stop",
                     "message": {"role": "assistant", "content": content}}],
        "usage": {"prompt_tokens": 10, "completion_tokens": 10, "total_tokens": 20},
    }


@dataclass
class FakeVlm:
    """Answers each request with the next scripted step; the last step repeats.

    Steps: ("json", dict) a structured answer, ("status", code), ("text", content) an
    answer whose content is the given text, ("sleep", seconds) no answer for that long.
    """

    url: str = ""
    script: list[tuple[str, Any]] = field(default_factory=list)
    requests: list[dict[str, Any]] = field(default_factory=list)
    headers: list[dict[str, str]] = field(default_factory=list)

    async def handle(self, request: web.Request) -> web.Response:
        self.requests.append(await request.json())
        self.headers.append(dict(request.headers))
        step = self.script[min(len(self.requests), len(self.script)) - 1]
        kind, value = step
        if kind == "status":
            return web.json_response({"error": {"message": "boom"}}, status=value)
        if kind == "sleep":
            await asyncio.sleep(value)
            return web.json_response(chat_answer("{}"))
        if kind == "text":
            return web.json_response(chat_answer(value))
        return web.json_response(chat_answer(json.dumps(value)))


@pytest.fixture
async def fake_vlm() -> AsyncIterator[FakeVlm]:
    vlm = FakeVlm()
    app = web.Application(client_max_size=32 * 1024 * 1024)
    app.router.add_post("/v1/chat/completions", vlm.handle)
    async with serve(app) as url:
        vlm.url = f"{url}/v1"
        yield vlm


# -- test video -----------------------------------------------------------------------------

Box = tuple[int, int, int, int]  # x, y, w, h in pixels at t=0; the subject moves right


@dataclass(frozen=True)
class Scene:
    """A textured static scene with one solid subject crossing it (or none)."""

    size: tuple[int, int] = (320, 240)  # width, height
    subject: tuple[int, int] | None = None  # w, h in pixels
    ground: float = 0.8  # where the subject's bottom edge is, as a fraction of the height
    colour: tuple[int, int, int] = (200, 40, 40)
    start_x: int = 10
    end_x: int | None = None
    noise: float = 2.0
    fps: int = 10
    duration_s: float = 4.0

    def frames(self) -> Iterator[np.ndarray]:
        width, height = self.size
        bg = background(width, height, seed=11)
        rng = np.random.default_rng(5)
        count = round(self.duration_s * self.fps)
        for i in range(count):
            frame = bg.copy()
            if self.subject is not None:
                w, h = self.subject
                end_x = self.end_x if self.end_x is not None else width - w - 10
                x = round(self.start_x + (end_x - self.start_x) * i / max(1, count - 1))
                y = round(self.ground * height) - h
                frame[y : y + h, x : x + w] = self.colour
            if self.noise:
                noisy = frame.astype(np.int16) + rng.normal(0, self.noise, frame.shape)
                frame = np.clip(noisy, 0, 255).astype(np.uint8)
            yield frame


@pytest.fixture
def make_video(tmp_path: Path) -> Callable[..., Path]:
    counter = iter(range(1_000_000))

    def make(scene: Scene, name: str | None = None) -> Path:
        path = tmp_path / (name or f"scene-{next(counter)}.mp4")
        return write_h264(path, scene.frames(), fps=scene.fps)

    return make


# -- MQTT -----------------------------------------------------------------------------------


@dataclass
class MqttInbox:
    prefix: str
    messages: list[tuple[str, Any, bool]] = field(default_factory=list)  # topic, json, retain
    arrived: asyncio.Event = field(default_factory=asyncio.Event)

    async def wait_for(self, predicate: Callable[[str, Any], bool], timeout: float = 60
                       ) -> tuple[str, Any]:
        async with asyncio.timeout(timeout):
            while True:
                for topic, payload, _ in self.messages:
                    if predicate(topic, payload):
                        return topic, payload
                self.arrived.clear()
                await self.arrived.wait()


@asynccontextmanager
async def mqtt_inbox(prefix: str) -> AsyncIterator[MqttInbox]:
    """Subscribe to `prefix/#` on the real broker and collect JSON messages."""
    inbox = MqttInbox(prefix)
    async with aiomqtt.Client(MQTT_HOST, MQTT_PORT, identifier=f"test-{uuid.uuid4().hex[:8]}"
                              ) as client:
        await client.subscribe(f"{prefix}/#", qos=1)

        async def collect() -> None:
            async for message in client.messages:
                raw = message.payload
                text = raw.decode() if isinstance(raw, bytes | bytearray) else str(raw)
                inbox.messages.append((str(message.topic), json.loads(text) if text else None,
                                       bool(message.retain)))
                inbox.arrived.set()

        task = asyncio.create_task(collect())
        try:
            yield inbox
        finally:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)


@pytest.fixture
def mqtt_prefix() -> str:
    return f"homesec_test_{uuid.uuid4().hex[:10]}"


# -- a pipeline over a real SQLite repository and local storage ----------------------------


@dataclass
class PipelineRig:
    pipeline: Any
    repository: Any
    storage: Any
    fanout: Any
    events: Any
    last_alerts: dict[str, dict[str, Any]]
    work_dir: Path
    camera_events: Any = None

    async def events_of(self, clip_id: str) -> list[str]:
        events, _ = await self.repository.list_events(clip_id)
        return [e.type for e in events]


@pytest.fixture
async def pipeline_rig(tmp_path: Path) -> AsyncIterator[Callable[..., Any]]:
    """Factory: `await pipeline_rig(notifiers=[...], analyzer=..., storage_path=...)`."""
    from homesec_engine.alerts.owner import CameraEvents
    from homesec_engine.events import EventHub
    from homesec_engine.filters import BuiltinDetector
    from homesec_engine.notifiers import NotifierFanout
    from homesec_engine.pipeline import Pipeline
    from homesec_engine.policy import AlertPolicyEngine
    from homesec_engine.state import ClipRepository
    from homesec_engine.storage import LocalStorage

    made: list[PipelineRig] = []

    async def make(*, notifiers: list[Any] | None = None, analyzer: Any = None,
                   storage_path: Path | None = None, policy: dict[str, Any] | None = None,
                   **options: Any) -> PipelineRig:
        index = len(made)
        repository = ClipRepository(f"sqlite:///{tmp_path / f'state{index}.db'}",
                                    tmp_path / f"outbox{index}")
        await repository.start()
        storage = LocalStorage({"path": str(storage_path or tmp_path / f"clips{index}")})
        fanout = NotifierFanout(notifiers or [])
        for notifier in notifiers or []:
            await notifier.start()
        if analyzer is not None:
            await analyzer.start()
        engine = AlertPolicyEngine(policy or {})
        rig = PipelineRig(
            pipeline=None, repository=repository, storage=storage, fanout=fanout,
            events=EventHub(), last_alerts={}, work_dir=tmp_path / f"work{index}")
        rig.camera_events = CameraEvents(
            repository=repository, hub=rig.events, fanout=fanout, policy=lambda: engine,
            storage=storage, last_alerts=rig.last_alerts,
            public_url=options.pop("public_url", None))
        await rig.camera_events.start()
        rig.pipeline = Pipeline(
            repository=repository, storage=storage,
            object_filter=BuiltinDetector({"sample_fps": 2.0, "min_confidence": 0.5,
                                           "trigger_classes": ["person", "vehicle", "animal",
                                                               "package"]}),
            analyzer=analyzer, policy=lambda: engine, camera_events=rig.camera_events,
            **{"upload_backoff_s": 0.01, **options})
        rig.work_dir.mkdir()
        made.append(rig)
        return rig

    yield make
    for rig in made:
        await rig.pipeline.drain(5)
        await rig.camera_events.close()
        await rig.fanout.drain(5)
        await rig.fanout.close()
        if rig.pipeline.analyzer is not None:
            await rig.pipeline.analyzer.close()
        await rig.repository.close()
