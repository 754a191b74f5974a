"""Local clip storage: atomic writes, keys confined to the root, delete/exists."""

from __future__ import annotations

import asyncio
import os
import threading
from pathlib import Path

import pytest

from homesec_engine.storage import STORAGE_BACKENDS, LocalStorage, StorageError


@pytest.fixture
def root(tmp_path: Path) -> Path:
    return tmp_path / "clips"


@pytest.fixture
def storage(root: Path) -> LocalStorage:
    return STORAGE_BACKENDS["local"]({"path": str(root)})


def make_file(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


async def test_put_stores_a_copy_under_the_key_and_returns_its_uri(
    storage: LocalStorage, root: Path, tmp_path: Path
) -> None:
    # Given a finished clip on local disk
    clip = make_file(tmp_path / "clip.mp4", b"\x00\x00\x00\x18ftypmp42" * 1000)
    # When it is put under a camera/date key
    uri = await storage.put(clip, "front_door/2026-01-02/abc.mp4")
    # Then the URI names the key, resolves inside the root, and holds the same bytes
    assert uri == "local://front_door/2026-01-02/abc.mp4"
    stored = storage.resolve(uri)
    assert stored == root / "front_door" / "2026-01-02" / "abc.mp4"
    assert stored.read_bytes() == clip.read_bytes()
    assert await storage.exists(uri)
    # And the original is left alone, with no temp files beside the stored one
    assert clip.exists()
    assert [p.name for p in stored.parent.iterdir()] == ["abc.mp4"]


async def test_unsafe_characters_in_keys_are_sanitised(storage: LocalStorage, tmp_path: Path) -> None:
    # Given a key built from a user-chosen camera name
    clip = make_file(tmp_path / "c.mp4", b"data")
    # When it is stored
    uri = await storage.put(clip, "Front Door!/.hidden/clip 1.mp4")
    # Then the stored name uses only safe characters and no hidden segments
    assert uri == "local://Front_Door_/hidden/clip_1.mp4"
    assert storage.resolve(uri).read_bytes() == b"data"


@pytest.mark.parametrize(
    "key", ["../outside.mp4", "a/../../outside.mp4", "/etc/passwd", "\\\\server\\share", "", "./."]
)
async def test_keys_that_would_escape_the_root_are_refused(
    storage: LocalStorage, tmp_path: Path, key: str
) -> None:
    # Given a clip, When it is put under a traversal, absolute or empty key
    clip = make_file(tmp_path / "c.mp4", b"data")
    # Then storage refuses it and writes nothing outside the root
    with pytest.raises(StorageError):
        await storage.put(clip, key)
    assert not (tmp_path / "outside.mp4").exists()


@pytest.mark.parametrize(
    "uri",
    ["local://../secret", "local:///etc/passwd", "local://a/../../secret", "file:///etc/passwd",
     "local://"],
)
def test_uris_that_would_escape_the_root_are_refused(storage: LocalStorage, uri: str) -> None:
    # Given a crafted URI (e.g. from an API client), When it is resolved, Then it is refused
    with pytest.raises(StorageError):
        storage.resolve(uri)


async def test_symlinks_pointing_outside_the_root_are_refused(
    storage: LocalStorage, root: Path, tmp_path: Path
) -> None:
    # Given a directory and a file inside the root that are symlinks to places outside it
    outside = tmp_path / "outside"
    outside.mkdir()
    make_file(outside / "secret.txt", b"secret")
    root.mkdir()
    (root / "cam").symlink_to(outside, target_is_directory=True)
    (root / "leak.mp4").symlink_to(outside / "secret.txt")
    clip = make_file(tmp_path / "c.mp4", b"data")
    # When a clip is written through the symlinked directory, Then it is refused
    with pytest.raises(StorageError):
        await storage.put(clip, "cam/clip.mp4")
    assert sorted(p.name for p in outside.iterdir()) == ["secret.txt"]
    # And reading or deleting through a symlink that leaves the root is refused too
    for uri in ("local://leak.mp4", "local://cam/secret.txt"):
        with pytest.raises(StorageError):
            storage.resolve(uri)
        with pytest.raises(StorageError):
            await storage.delete(uri)
    assert (outside / "secret.txt").read_bytes() == b"secret"


async def test_readers_never_see_a_partly_written_clip(
    storage: LocalStorage, tmp_path: Path
) -> None:
    # Given a stored clip that a reader keeps re-reading (like the API streaming it)
    size = 4 * 1024 * 1024
    versions = [make_file(tmp_path / f"v{i}.mp4", bytes([65 + i]) * size) for i in range(2)]
    uri = await storage.put(versions[0], "cam/clip.mp4")
    path = storage.resolve(uri)
    stop, seen, torn = threading.Event(), set(), []

    def reader() -> None:
        while not stop.is_set():
            data = path.read_bytes()
            if len(data) != size or len(set(data)) != 1:
                torn.append(len(data))
            seen.add(data[:1])

    thread = threading.Thread(target=reader)
    thread.start()
    try:
        # When the clip is overwritten many times
        for i in range(20):
            await storage.put(versions[i % 2], "cam/clip.mp4")
            await asyncio.sleep(0)
    finally:
        stop.set()
        await asyncio.to_thread(thread.join)
    # Then every read saw one complete version, never a mix or a short file
    assert torn == []
    assert seen <= {b"A", b"B"}
    # And no temp files are left behind
    assert [p.name for p in path.parent.iterdir()] == ["clip.mp4"]


async def test_failed_put_keeps_the_old_clip_and_leaves_no_temp_file(
    storage: LocalStorage, tmp_path: Path
) -> None:
    # Given a stored clip
    uri = await storage.put(make_file(tmp_path / "a.mp4", b"old"), "cam/clip.mp4")
    # When a put of the same key fails (the source vanished before it could be copied)
    with pytest.raises(FileNotFoundError):
        await storage.put(tmp_path / "missing.mp4", "cam/clip.mp4")
    # Then the old clip is intact and no temp file is left
    assert storage.resolve(uri).read_bytes() == b"old"
    assert os.listdir(storage.resolve(uri).parent) == ["clip.mp4"]


async def test_delete_removes_the_clip_once(storage: LocalStorage, tmp_path: Path) -> None:
    # Given a stored clip
    uri = await storage.put(make_file(tmp_path / "a.mp4", b"x"), "cam/clip.mp4")
    # When it is deleted
    assert await storage.delete(uri) is True
    # Then it is gone, and deleting again reports that nothing was there
    assert not await storage.exists(uri)
    assert not storage.resolve(uri).exists()
    assert await storage.delete(uri) is False
