"""Offsite uploads survive a kill -9 of a real engine process and resume at the next start."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import yaml

from homesec_engine.records import ClipQuery
from homesec_engine.state import ClipRepository

from .conftest import S3_KEY_ID, S3_SECRET, S3Server, free_port
from .engine import engine_config, stored_clips


def start_engine(tmp_path: Path) -> subprocess.Popen[bytes]:
    env = {**os.environ, "HOMESEC_TEST_S3_KEY": S3_KEY_ID, "HOMESEC_TEST_S3_SECRET": S3_SECRET}
    return subprocess.Popen(
        [sys.executable, "-m", "homesec_engine", "run", "--config", "homesec.yaml"],
        cwd=tmp_path, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
        stderr=open(tmp_path / "stderr.log", "ab"))  # noqa: SIM115 - closed with the process


def wait_until(check, proc: subprocess.Popen[bytes], timeout: float = 120.0) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert proc.poll() is None, "the engine exited early"
        if check():
            return
        time.sleep(0.2)
    raise AssertionError("timed out")


def queued(tmp_path: Path) -> set[str]:
    return {p.stem for p in (tmp_path / "offsite-queue").glob("*.json")}


async def test_a_kill_9_loses_no_offsite_upload(s3_port: int, tmp_path: Path) -> None:
    # Given an engine process recording clips while its S3 server is not up yet
    s3 = S3Server(port=s3_port, bucket="clips-after-kill")
    config = engine_config(tmp_path, {
        "backend": "s3", "endpoint": s3.endpoint, "bucket": s3.bucket,
        "access_key_id_env": "HOMESEC_TEST_S3_KEY",
        "secret_access_key_env": "HOMESEC_TEST_S3_SECRET"})
    config["server"] = {"port": free_port()}
    (tmp_path / "homesec.yaml").write_text(yaml.safe_dump(config))
    proc = start_engine(tmp_path)
    try:
        wait_until(lambda: len(queued(tmp_path)) >= 2, proc)
    finally:
        # When it is killed outright with uploads waiting
        proc.send_signal(signal.SIGKILL)
        proc.wait(30)
    waiting = queued(tmp_path)
    assert len(waiting) >= 2

    # And the server comes up and the engine starts again
    s3.start()
    proc = start_engine(tmp_path)
    try:
        # On the server, and its job gone: the job goes only after the copy is recorded done,
        # so a stop in between is not mistaken for a lost record.
        wait_until(lambda: waiting <= {k.removeprefix("homesec/").removesuffix(".mp4")
                                       for k in s3.objects()}
                   and not waiting & queued(tmp_path), proc)
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(60)
        objects = s3.objects()
        s3.stop()

    # Then every upload that waited at the kill is on the server, the same bytes as the
    # local copy, and recorded as done
    local = stored_clips(tmp_path)
    for clip_id in waiting:
        assert objects[f"homesec/{clip_id}.mp4"] == local[f"{clip_id}.mp4"]
    async with ClipRepository(config["state"]["url"], tmp_path / "outbox") as repo:
        clips, _ = await repo.list_clips(ClipQuery(limit=1000))
    states = {c.id: c.offsite_state for c in clips}
    assert all(states[clip_id] == "done" for clip_id in waiting)
    assert not waiting & queued(tmp_path)
