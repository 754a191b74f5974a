"""The local_folder source: finished files only, moved atomically, duration probed."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

from homesec_engine.sources.local_folder import LocalFolderSource
from tests.videotools import Segment, make_motion_video, probe_video


async def test_file_being_written_is_only_taken_once_stable_and_is_moved_atomically(
    tmp_path: Path, work_dir: Path, recorder
) -> None:
    # Given a watched folder and a finished 3 s video that a camera uploads slowly
    watch = tmp_path / "incoming"
    watch.mkdir()
    video = make_motion_video(tmp_path / "made.mp4", [Segment(1, 2)], duration_s=3)
    data = video.read_bytes()
    source = LocalFolderSource(
        "driveway", {"path": str(watch), "stable_s": 0.6, "poll_s": 0.1}, work_dir
    )
    await source.start(recorder.on_clip, recorder.on_health)
    try:
        target = watch / "upload.mp4"
        # When the upload is still growing (a chunk every 0.2 s, well inside stable_s)
        chunks = [data[i : i + len(data) // 6 + 1] for i in range(0, len(data), len(data) // 6 + 1)]
        with open(target, "wb") as fh:
            for chunk in chunks:
                fh.write(chunk)
                fh.flush()
                await asyncio.sleep(0.2)
                # Then the source does not pick it up while it grows
                assert target.exists() and recorder.clips == []
        inode = target.stat().st_ino
        # When the upload stops changing for stable_s
        await recorder.wait_for(lambda: len(recorder.clips) == 1)
    finally:
        await source.stop()

    clip = recorder.clips[0]
    # Then it was moved (renamed, same inode: never a half-copied file) into the work dir
    assert not target.exists()
    assert clip.path.parent == work_dir
    assert clip.path.stat().st_ino == inode
    assert clip.path.read_bytes() == data
    # And the clip carries the camera name and the video's real duration
    assert clip.camera == "driveway"
    assert abs(clip.duration_s - probe_video(clip.path).duration_s) < 0.2
    assert ("driveway", True) in recorder.health


async def test_only_video_extensions_are_taken_and_broken_files_are_left(
    tmp_path: Path, work_dir: Path, recorder
) -> None:
    # Given a folder with a text file, a hidden temp upload and a corrupt "video"
    watch = tmp_path / "incoming"
    watch.mkdir()
    (watch / "notes.txt").write_text("not a clip")
    make_motion_video(watch / ".partial.mp4", [], duration_s=1)
    (watch / "broken.mkv").write_bytes(b"garbage" * 100)
    source = LocalFolderSource(
        "shed", {"path": str(watch), "stable_s": 0.2, "poll_s": 0.05, "extensions": ["mkv", ".MOV"]},
        work_dir,
    )
    await source.start(recorder.on_clip, recorder.on_health)
    try:
        # When a real video with an accepted extension (in another case) also arrives
        make_motion_video(tmp_path / "good.mov", [], duration_s=1)
        os.replace(tmp_path / "good.mov", watch / "GOOD.MOV")
        await recorder.wait_for(lambda: len(recorder.clips) == 1)
        await asyncio.sleep(0.5)  # several more polls
    finally:
        await source.stop()
    # Then only that video was taken; the others are still where they were
    assert [c.path.suffix for c in recorder.clips] == [".mov"]
    assert sorted(p.name for p in watch.iterdir()) == [".partial.mp4", "broken.mkv", "notes.txt"]


async def test_missing_folder_marks_camera_unhealthy(tmp_path: Path, work_dir: Path, recorder) -> None:
    # Given a source watching a folder that does not exist (e.g. an unmounted share)
    source = LocalFolderSource("nas", {"path": str(tmp_path / "absent"), "poll_s": 0.05}, work_dir)
    await source.start(recorder.on_clip, recorder.on_health)
    try:
        # When the folder appears later
        await asyncio.sleep(0.2)
        assert not source.is_healthy()
        (tmp_path / "absent").mkdir()
        # Then the camera becomes healthy, with a heartbeat
        await recorder.wait_for(lambda: recorder.health == [("nas", True)])
    finally:
        await source.stop()
    assert source.last_heartbeat() is not None
