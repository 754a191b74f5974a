"""The plugin registry: built-in backends by name, third-party plugins in a few lines."""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from homesec_engine import plugins
from homesec_engine.notifiers import Notifier
from homesec_engine.records import AlertEvent, ClipFile

from .conftest import Scene


def test_built_in_backends_are_registered_under_their_config_names() -> None:
    # Given the registry / When asked for each kind's names
    # Then every backend the config schema offers can be built by name
    assert {"rtsp", "local_folder", "demo"} <= set(plugins.names("source"))
    assert "local" in plugins.names("storage")
    assert {"builtin", "model_file", "detector"} <= set(plugins.names("filter"))
    assert "openai" in plugins.names("analyzer")
    assert "default" in plugins.names("alert_policy")
    assert {"home_assistant", "mqtt"} <= set(plugins.names("notifier"))


def test_every_declared_built_in_can_be_built() -> None:
    # Given the one declaration of built-in backend names (the schema's choices)
    from homesec_engine.schema.backends import BUILTIN_BACKENDS

    # When the registry resolves each / Then a factory exists for every declared name
    for kind, declared in BUILTIN_BACKENDS.items():
        for name in declared:
            assert callable(plugins.get(kind, name)), (kind, name)


def test_an_unknown_name_lists_the_known_ones() -> None:
    # When an unknown backend is asked for / Then the error names the ones that exist
    with pytest.raises(plugins.UnknownPlugin) as info:
        plugins.create("storage", "s3", {})
    assert "'s3'" in str(info.value) and "local" in str(info.value)
    with pytest.raises(ValueError, match="kinds"):
        plugins.create("teleporter", "x")


class MemoryNotifier(Notifier):
    """A third-party notifier: keeps alerts in a list."""

    backend = "memory"

    def __init__(self, config: dict[str, Any], **kwargs: Any) -> None:
        super().__init__(config, **kwargs)
        self.alerts: list[dict[str, Any]] = []

    async def send_alert(self, event: AlertEvent) -> None:
        self.alerts.append(event.payload())

    async def send_health(self, camera: str, healthy: bool, last_heartbeat: Any) -> None:
        pass


@pytest.fixture
def memory_plugin() -> Iterator[None]:
    plugins.register("notifier", "memory", MemoryNotifier)  # the one registration
    yield
    plugins.unregister("notifier", "memory")


async def test_a_third_party_notifier_receives_pipeline_alerts(
    memory_plugin: None, pipeline_rig: Callable[..., Any], make_video: Callable[..., Path]
) -> None:
    # Given a notifier registered by a plugin and built by name through the registry
    notifier = plugins.create("notifier", "memory", {"max_retries": 0})
    assert "memory" in plugins.names("notifier")
    rig = await pipeline_rig(notifiers=[notifier])
    path = rig.work_dir / "clip.mp4"
    shutil.copy(make_video(Scene(subject=(36, 90))), path)
    now = datetime.now(UTC)
    # When a clip with a person goes through the pipeline
    outcome = await rig.pipeline.process(ClipFile("porch", path, now, now))
    await rig.fanout.drain(5)
    # Then the plugin got the alert like any built-in notifier
    assert [a["clip_id"] for a in notifier.alerts] == [outcome.clip_id]
    assert notifier.alerts[0]["camera"] == "porch"


def test_a_decorator_registration_can_override_a_built_in() -> None:
    # Given a plugin that registers its own "default" alert policy with the decorator
    original = plugins.get("alert_policy", "default")

    @plugins.register("alert_policy", "default")
    class Strict(original):  # type: ignore[misc, valid-type]
        pass

    try:
        # When the runtime would build the default policy / Then it gets the plugin's
        assert isinstance(plugins.create("alert_policy", "default", {}), Strict)
    finally:
        plugins.register("alert_policy", "default", original)


def test_settings_are_refused_for_a_kind_that_cannot_validate_them() -> None:
    # Given a storage plugin that brings a settings model (storage has no section for it)
    from homesec_engine.schema.fields import model, str_field

    settings = model("S3", {"bucket": str_field("Bucket", required=True)})
    # When it registers / Then it is told at once instead of its settings being ignored
    with pytest.raises(ValueError, match="cannot declare settings; only: source"):
        plugins.register("storage", "s3", object, settings=settings)
    assert "s3" not in plugins.names("storage")
