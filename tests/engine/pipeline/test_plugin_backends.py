"""Third-party backends registered at run time: accepted by config validation (with their
own settings model) and run by a real engine; unknown backend names are refused by name."""

from __future__ import annotations

import asyncio
import shutil
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest

from homesec_engine import plugins
from homesec_engine.config.loader import ConfigError, validate_config
from homesec_engine.records import ClipFile, ClipQuery, utcnow
from homesec_engine.schema import SchemaValidationError, validate
from homesec_engine.schema.fields import model, str_field
from homesec_engine.sources.base import ClipSource
from homesec_engine.sources.demo import render_frames, write_clip
from homesec_engine.storage.base import Storage, StorageError
from tests.engine_harness import running_engine

ONE_SHOT_SETTINGS = model("Hands in one synthetic clip when started.", {
    "subject": str_field("What walks by", required=True, choices=["person", "vehicle"]),
})


class OneShotSource(ClipSource):
    """A plugin source: records one clip of its subject as soon as it starts."""

    async def _start(self) -> None:
        await asyncio.to_thread(self._record)

    def _record(self) -> None:  # a worker thread, like the built-in sources' recorders
        path = self.work_dir / f"{self.camera}-oneshot.mp4"
        write_clip(path, render_frames(str(self.config["subject"]), 320, 240, 10, 2.0), 10)
        self._set_health(True)
        now = utcnow()
        self._emit_clip(ClipFile(self.camera, path, now - timedelta(seconds=2), now))

    async def _stop(self) -> None:
        pass


class FlatStorage(Storage):
    """A plugin storage: every object in one folder, addressed as flat://<name>."""

    def __init__(self, config: dict[str, object]) -> None:
        self.root = Path(str(config["path"]))

    def resolve(self, storage_uri: str) -> Path:
        if not storage_uri.startswith("flat://") or "/" in storage_uri[7:]:
            raise StorageError("not a flat:// URI")
        return self.root / storage_uri[7:]

    async def put(self, local_path: Path, key: str) -> str:
        name = key.replace("/", "__")
        self.root.mkdir(parents=True, exist_ok=True)
        await asyncio.to_thread(shutil.copyfile, local_path, self.root / name)
        return f"flat://{name}"

    async def delete(self, storage_uri: str) -> bool:
        path = self.resolve(storage_uri)
        existed = path.exists()
        path.unlink(missing_ok=True)
        return existed

    async def exists(self, storage_uri: str) -> bool:
        return self.resolve(storage_uri).exists()


@pytest.fixture
def third_party() -> Iterator[None]:
    plugins.register("source", "one_shot", OneShotSource, settings=ONE_SHOT_SETTINGS)
    plugins.register("storage", "flat", FlatStorage)
    yield
    plugins.unregister("source", "one_shot")
    plugins.unregister("storage", "flat")


def _config(camera: dict[str, object]) -> dict[str, object]:
    return {"storage": {"backend": "flat", "path": "/tmp/flat"}, "cameras": [camera]}


def test_a_registered_plugin_is_accepted_with_its_own_settings(third_party: None) -> None:
    # Given a source and a storage plugin registered at run time
    camera = {"name": "yard", "source_backend": "one_shot",
              "source_config": {"subject": "vehicle"}}
    # When a config names them
    config = validate_config(_config(camera))
    # Then it validates, the source's settings checked by the plugin's own model
    assert config["cameras"][0]["source_config"] == {"subject": "vehicle"}
    assert config["storage"]["backend"] == "flat"
    with pytest.raises(ConfigError) as info:
        validate_config(_config({**camera, "source_config": {"subject": "ufo"}}))
    assert "cameras[0].source_config.subject: must be one of: person, vehicle" in str(info.value)
    with pytest.raises(ConfigError, match=r"cameras\[0\]\.source_config\.subject: is required"):
        validate_config(_config({**camera, "source_config": {}}))


def test_an_unknown_backend_is_refused_naming_the_field_and_the_registered_names(
    third_party: None,
) -> None:
    # Given the plugins above registered
    # When a camera names a source backend nobody registered
    with pytest.raises(SchemaValidationError) as info:
        validate("Camera", {"name": "yard", "source_backend": "teleporter",
                            "source_config": {}}, prefix="camera")
    # Then the error names the field and lists every registered source, plugins included
    assert info.value.errors == [{
        "path": "camera.source_backend",
        "message": "must be one of: rtsp, local_folder, demo, one_shot"}]
    # And once the plugin is gone its name is refused like any unknown one
    plugins.unregister("storage", "flat")
    with pytest.raises(ConfigError, match=r"storage\.backend: must be one of: local$"):
        validate_config({"storage": {"backend": "flat"}})


async def test_a_real_engine_runs_the_plugin_source_into_the_plugin_storage(
    third_party: None, tmp_path: Path, socket_enabled: None,
) -> None:
    # Given an engine configured with the plugin source and the plugin storage
    flat = tmp_path / "flat"
    cameras = [{"name": "yard", "source_backend": "one_shot", "filter_backend": "builtin",
                "source_config": {"subject": "person"}}]
    async with running_engine(tmp_path, cameras=cameras, run_sources=True,
                              config={"storage": {"backend": "flat", "path": str(flat)}}
                              ) as engine:
        # When the source hands in its clip and the pipeline finishes it
        assert isinstance(engine.runtime.sources["yard"], OneShotSource)
        repo = engine.runtime.repository
        assert repo is not None
        async with asyncio.timeout(60):
            while True:
                clips, _ = await repo.list_clips(ClipQuery(camera="yard"))
                done = [c for c in clips if c.storage_uri]
                if done:
                    break
                await asyncio.sleep(0.2)
        # Then the clip was kept by the plugin storage, in its flat folder
        assert done[0].storage_uri.startswith("flat://")
        assert (flat / done[0].storage_uri[7:]).stat().st_size > 0
        # And the camera shows as healthy, reported by the plugin source
        assert engine.runtime.cameras()["yard"].healthy


async def test_the_rest_api_adds_a_plugin_camera_and_refuses_an_unknown_backend(
    third_party: None, tmp_path: Path, socket_enabled: None,
) -> None:
    import aiohttp

    async with running_engine(tmp_path) as engine, aiohttp.ClientSession() as http:
        # Given a running engine with the plugin source registered
        # When a camera with an unregistered backend is posted
        async with http.post(f"{engine.api}/cameras", json={
                "name": "yard", "source_backend": "teleporter", "source_config": {}}) as resp:
            status, body = resp.status, await resp.json()
        # Then it is refused, naming the field and listing the registered source backends
        assert status == 400, body
        problems = {e["path"]: e["message"] for e in body["errors"]}
        assert any(path.endswith("source_backend") for path in problems), problems
        assert "must be one of: rtsp, local_folder, demo, one_shot" in problems.values()
        # When a camera of the plugin backend is posted with its settings
        async with http.post(f"{engine.api}/cameras", json={
                "name": "yard", "source_backend": "one_shot",
                "source_config": {"subject": "person"}}) as resp:
            created = resp.status
        # Then the engine keeps it like any built-in camera
        assert created in (200, 201)
        async with http.get(f"{engine.api}/cameras/yard") as resp:
            camera = await resp.json()
        assert camera["source_backend"] == "one_shot"
