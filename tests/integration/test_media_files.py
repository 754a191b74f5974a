"""Clips and snapshots as local files for HA's AI tasks: in place when HA shares the engine's
folder (the add-on's /media), else a bounded download; and ai_task.generate_data attaching a
HomeSec snapshot through the media source.

The AI provider is the one stand-in (no model runs here): an ai_task entity that records the
attachments it is handed, as a cloud provider's entity would read them.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from homeassistant.components import media_source
from homeassistant.components.media_source import Unresolvable
from homeassistant.core import HomeAssistant
from homeassistant.setup import async_setup_component
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.homesec import media_files
from homesec_engine.api import routes_clips
from tests.engine_harness import RunningEngine
from tests.integration.ai_provider import ENTITY_ID, async_setup_provider
from tests.integration.test_views import SNAPSHOT, store_clip
from tests.videotools import Segment, make_motion_video

ROOT = "media-source://homesec"
CONTAINER_ROOT = "/data/clips"  # where the standalone image keeps clips, inside its container


@pytest.fixture
async def video(tmp_path: Path) -> Path:
    return await asyncio.to_thread(
        make_motion_video, tmp_path / "clip.mp4", [Segment(0.2, 0.8)], 1.0
    )


@pytest.fixture
async def entry(
    hass: HomeAssistant, engine: RunningEngine, loaded_entry: MockConfigEntry, video: Path,
    tmp_path: Path,
) -> MockConfigEntry:
    """HomeSec loaded, the engine holding two real clips with their snapshots; HA's config
    (and cache) folder is this test's own."""
    hass.config.config_dir = str(tmp_path / "config")
    assert await async_setup_component(hass, "media_source", {})
    for clip_id in ("clip-a", "clip-b"):
        await store_clip(engine, tmp_path, clip_id, "front_door", video)
    return loaded_entry


@pytest.fixture
def engine_elsewhere(monkeypatch: pytest.MonkeyPatch, engine: RunningEngine) -> Iterator[None]:
    """The engine reports its files as the standalone container sees them (/data/clips/...),
    a folder Home Assistant does not have."""
    real = routes_clips.clip_files
    root = str(engine.runtime.storage.root)

    def container_paths(storage: Any, clip: Any) -> dict[str, str | None]:
        return {kind: path.replace(root, CONTAINER_ROOT, 1) if path else None
                for kind, path in real(storage, clip).items()}

    monkeypatch.setattr(routes_clips, "clip_files", container_paths)
    yield


def _cache(hass: HomeAssistant) -> Path:
    return Path(hass.config.cache_path("homesec", "media"))


def _files(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir()) if folder.is_dir() else []


async def test_shared_folder_is_used_in_place(
    hass: HomeAssistant, engine: RunningEngine, entry: MockConfigEntry
) -> None:
    # Given the engine's clips in a folder Home Assistant can read (the add-on's /media)
    # When a clip and a snapshot are resolved through the media source
    clip = await media_source.async_resolve_media(hass, f"{ROOT}/{entry.entry_id}/clip/clip-a",
                                                  None)
    snap = await media_source.async_resolve_media(
        hass, f"{ROOT}/{entry.entry_id}/snapshot/clip-a", None)
    # Then both carry the engine's own files, nothing was copied, and the URLs still play
    root = Path(engine.runtime.storage.root).resolve()
    assert clip.path == root / "front_door" / "clip-a.mp4"
    assert snap.path == root / "front_door" / "clip-a.jpg"
    assert (clip.mime_type, snap.mime_type) == ("video/mp4", "image/jpeg")
    assert "/clip-a/snapshot?" in snap.url
    assert _files(_cache(hass)) == []


@pytest.mark.usefixtures("engine_elsewhere")
async def test_engine_elsewhere_downloads_once_within_bounds(
    hass: HomeAssistant, engine: RunningEngine, entry: MockConfigEntry,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Given an engine whose files Home Assistant cannot see (standalone container)
    # When a snapshot is resolved
    snap = await media_source.async_resolve_media(
        hass, f"{ROOT}/{entry.entry_id}/snapshot/clip-a", None)
    # Then it is a downloaded copy in HA's cache folder, byte for byte the engine's
    assert snap.path is not None and snap.path.parent == _cache(hass)
    assert await asyncio.to_thread(snap.path.read_bytes) == SNAPSHOT
    # And a clip resolves to a full copy of the engine's video
    clip = await media_source.async_resolve_media(
        hass, f"{ROOT}/{entry.entry_id}/clip/clip-a", None)
    engine_file = Path(engine.runtime.storage.root) / "front_door" / "clip-a.mp4"
    assert clip.path is not None
    assert await asyncio.to_thread(clip.path.read_bytes) == await asyncio.to_thread(
        engine_file.read_bytes)
    # When the cache may hold only one clip and the other clip is resolved
    monkeypatch.setattr(media_files, "MAX_CACHE_BYTES", engine_file.stat().st_size + 10)
    other = await media_source.async_resolve_media(
        hass, f"{ROOT}/{entry.entry_id}/clip/clip-b", None)
    # Then older downloads were removed to stay within the bound, the new one is kept
    assert other.path is not None
    assert _files(_cache(hass)) == ["clip-b.mp4"]
    # When a file is larger than the per-file bound
    monkeypatch.setattr(media_files, "MAX_FILE_BYTES", 1000)
    large = await media_source.async_resolve_media(
        hass, f"{ROOT}/{entry.entry_id}/clip/clip-a", None)
    # Then it is offered by URL only (it still plays), and no partial file is left behind
    assert large.path is None and "/clip-a/clip?" in large.url
    assert _files(_cache(hass)) == ["clip-b.mp4"]


async def test_unknown_clips_and_odd_ids_are_unresolvable(
    hass: HomeAssistant, entry: MockConfigEntry
) -> None:
    # When an unknown clip, an id that cannot be one and an unknown kind are resolved
    # Then each is refused as unresolvable, naming what was asked
    for identifier in ("snapshot/nope", "clip/..%2Fetc", "thumbnail/clip-a"):
        with pytest.raises(Unresolvable):
            await media_source.async_resolve_media(
                hass, f"{ROOT}/{entry.entry_id}/{identifier}", None)


async def test_ai_task_attaches_a_homesec_snapshot(
    hass: HomeAssistant, entry: MockConfigEntry
) -> None:
    # Given an AI provider set up for HA's AI tasks
    provider = await async_setup_provider(hass)
    # When an automation asks it about a HomeSec snapshot, attached through the media source
    attachment = f"{ROOT}/{entry.entry_id}/snapshot/clip-a"
    result = await hass.services.async_call(
        "ai_task", "generate_data",
        {"task_name": "door", "entity_id": ENTITY_ID, "instructions": "Who is at the door?",
         "attachments": [{"media_content_id": attachment,
                          "media_content_type": "image/jpeg"}]},
        blocking=True, return_response=True,
    )
    # Then the provider was handed the snapshot as a local JPEG file, byte for byte
    assert result is not None
    [task] = provider.seen
    [(content_id, mime, _path, data)] = task.attachments
    assert (content_id, mime, data) == (attachment, "image/jpeg", SNAPSHOT)
