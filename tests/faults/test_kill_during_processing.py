"""kill -9 while clips are processed, again and again: after the restarts every recording is
one clip, finished, stored once, and no partial file is left (issue 16, item 5)."""

from __future__ import annotations

import json
import random
import sqlite3
import time
from collections import defaultdict
from pathlib import Path

from .engine_process import EngineProcess

CAMERAS = [{"name": f"cam{i}", "enabled": True, "source_backend": "demo",
            "source_config": {"interval_s": 1, "clip_s": 2, "subject": "person"}}
           for i in range(3)]
FINAL = ("done", "error", "deleted")


def _rows(db: Path) -> tuple[list[tuple[str, str, str | None]], list[tuple[str, str]]]:
    with sqlite3.connect(db) as conn:
        clips = conn.execute("SELECT id, status, storage_uri FROM clips").fetchall()
        events = conn.execute(
            "SELECT clip_id, data FROM clip_events WHERE type = 'clip_recorded'").fetchall()
    return clips, events


def test_kill_9_loops_leave_one_finished_clip_per_recording(tmp_path: Path) -> None:
    rng = random.Random(16)
    engine = EngineProcess(tmp_path, config={"cameras": CAMERAS})
    # Given an engine with three busy cameras, killed with SIGKILL five times mid-work
    for _ in range(5):
        engine.start()
        engine.wait_healthy()
        time.sleep(rng.uniform(0.5, 2.5))
        engine.kill()
    # When it starts once more, its cameras stopped, and finishes what was left
    for camera in CAMERAS:
        camera["enabled"] = False
    engine = EngineProcess(tmp_path, config={"cameras": CAMERAS})
    engine.start()
    try:
        engine.wait_healthy()
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            clips, _ = _rows(tmp_path / "data" / "homesec.db")
            if all(status in FINAL for _, status, _ in clips) and not any(
                    (tmp_path / "data" / "work").rglob("*.mp4")):
                break
            time.sleep(0.5)
    finally:
        engine.stop()
    clips, events = _rows(tmp_path / "data" / "homesec.db")
    # Then every row is finished: none stays half-way
    assert clips and all(status in FINAL for _, status, _ in clips), clips
    # And each recording is one clip, under the id it first had
    ids_per_file: dict[str, set[str]] = defaultdict(set)
    for clip_id, data in events:
        ids_per_file[json.loads(data)["file"]].add(clip_id)
    twice = {f: ids for f, ids in ids_per_file.items() if len(ids) > 1}
    assert not twice, twice
    # And each stored recording belongs to exactly one row, and each done row has its file
    stored = {p.stem for p in (tmp_path / "data" / "clips").glob("*.mp4")}
    done = {clip_id for clip_id, status, uri in clips if status == "done"}
    assert done <= stored and stored <= {clip_id for clip_id, _, _ in clips}, (done, stored)
    # And no partial file (cut-off recording or copy) is left anywhere
    partial = [p for p in (tmp_path / "data").rglob("*")
               if p.name.endswith((".part", ".tmp"))]
    assert not partial, partial
