"""Clips and snapshots in the object store: three engines, one S3 server (moto).

Whichever engine recorded a clip, every engine serves its video, its snapshot and the
camera's last-alert picture from the object store; the recording engine's disk only spools
a file until its copy is checked, and keeps it through an outage of the store.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import aiohttp

from tests.engine.lifecycle.conftest import S3Server

from tests.faults.engine_process import http

from .engines import (
    PREFIX,
    ClusterEngine,
    copied_clips,
    held_apart,
    sql,
    three_engines,
    wait_for,
)

CAMS = ["front", "back", "yard"]


def _get(url: str) -> tuple[int, bytes]:
    async def fetch() -> tuple[int, bytes]:
        async with aiohttp.ClientSession() as session, session.get(url) as resp:
            return resp.status, await resp.read()
    return asyncio.run(fetch())


def _stored_snapshot(s3: S3Server, clip_id: str) -> bytes | None:
    try:
        body: bytes = s3.client().get_object(Bucket=s3.bucket,
                                             Key=f"homesec/{clip_id}.jpg")["Body"].read()
    except Exception:  # noqa: BLE001 - not there (yet)
        return None
    return body


def _last_alert_clip(engine: ClusterEngine, camera: str) -> str | None:
    """The clip of `camera`'s last alert, as `engine`'s status shows it (the hub's poll)."""
    _status, body = http("GET", f"{engine.url}/status")
    camera_row = next((c for c in body["cameras"] if c["name"] == camera), None)
    alert = (camera_row or {}).get("last_alert") or {}
    return alert.get("clip_id")


def _spooled(engine: ClusterEngine) -> set[str]:
    """Clip ids whose snapshot waits on `engine`'s disk for its copy in the store."""
    return {p.name.removesuffix(".snapshot.json")
            for p in engine.workdir.rglob("offsite-queue/*.snapshot.json")}


def _local_files(engine: ClusterEngine, clip_id: str) -> list[Path]:
    return list((engine.workdir / "data" / "clips").rglob(f"{clip_id}*"))


def _served_as_stored(engine: ClusterEngine, s3: S3Server, clip_id: str) -> bool:
    """`engine` answers the clip's snapshot with the object store's bytes (a snapshot is
    replaced once, by the clip's own: read both sides until they agree)."""
    status, body = _get(f"{engine.url}/clips/{clip_id}/snapshot")
    return status == 200 and body.startswith(b"\xff\xd8") and body == _stored_snapshot(
        s3, clip_id)


def test_any_engine_serves_any_snapshot_and_a_store_outage_spools_them(
        tmp_path: Path, cluster_db: str, s3_server: S3Server, s3_env: dict[str, str]) -> None:
    # Given three engines sharing three cameras, one camera each
    with three_engines(tmp_path, cluster_db, s3_server, s3_env, CAMS) as engines:
        holder = wait_for(lambda: held_apart(engines), 90, "one camera on each engine")
        camera, engine_a = next(iter(sorted(holder.items())))
        engine_b = next(e for e in engines if e is not engine_a)

        # When engine A alerts on its camera and stores the clip's snapshot
        clip_id = wait_for(lambda: (cid := _last_alert_clip(engine_b, camera)) and
                           _stored_snapshot(s3_server, cid) and cid, 90,
                           f"a last alert of {camera} with its snapshot in the object store")

        # Then engine B serves that snapshot, the camera's last-alert picture, byte for byte
        wait_for(lambda: _served_as_stored(engine_b, s3_server, clip_id), 30,
                 f"e2 serving the snapshot of {clip_id} as stored")
        # And engine A's disk keeps no copy once the store holds them (only a spool)
        wait_for(lambda: not _local_files(engine_a, clip_id), 30,
                 f"{clip_id}'s files gone from {engine_a.workdir.name}'s disk")
        # And engine A serves its own clip from the store as well
        status, video = _get(f"{engine_a.url}/clips/{clip_id}/media")
        assert status == 200 and video == s3_server.objects()[f"homesec/{clip_id}.mp4"]

        # When the object store goes away while the engines record
        s3_server.stop()
        spooled = wait_for(lambda: _spooled(engine_a), 60,
                           f"a snapshot spooled on {engine_a.workdir.name}")
        waiting = next(iter(sorted(spooled)))

        # Then engine A keeps the snapshot on its disk and serves it from there
        assert any(p.suffix == ".jpg" for p in _local_files(engine_a, waiting))
        status, spooled_jpeg = _get(f"{engine_a.url}/clips/{waiting}/snapshot")
        assert status == 200 and spooled_jpeg.startswith(b"\xff\xd8")
        # And another engine, which cannot fetch it, answers 404 rather than failing
        status, _body = _get(f"{engine_b.url}/clips/{waiting}/snapshot")
        assert status == 404

        # When the store is back
        s3_server.start()

        # Then the spooled snapshot is uploaded, leaves engine A's disk and B serves it
        wait_for(lambda: waiting not in _spooled(engine_a), 60,
                 f"the spooled snapshot of {waiting} uploaded")
        wait_for(lambda: _served_as_stored(engine_b, s3_server, waiting), 30,
                 f"e2 serving the snapshot of {waiting} after the outage")
        wait_for(lambda: not any(p.suffix == ".jpg" for p in _local_files(engine_a, waiting)),
                 30, f"{waiting}'s snapshot gone from {engine_a.workdir.name}'s disk")


def test_a_copy_not_yet_recorded_as_copied_is_served_from_the_store_by_every_engine(
        tmp_path: Path, cluster_db: str, s3_server: S3Server, s3_env: dict[str, str]) -> None:
    # Given three engines sharing three cameras, and a clip copied to the store whose
    # recording engine no longer keeps it on its disk
    with three_engines(tmp_path, cluster_db, s3_server, s3_env, CAMS) as engines:
        def spooled_out() -> str | None:
            for clip_id in copied_clips(cluster_db, s3_server):
                if not any(_local_files(e, clip_id) for e in engines):
                    return clip_id
            return None

        clip_id = wait_for(spooled_out, 120, "a clip copied and gone from the spool")
        # When its row does not say so yet, as after a database outage while its engine
        # still replays the write that records the copy
        sql(cluster_db, "UPDATE clips SET offsite_state = 'pending', offsite_uri = NULL "
                        "WHERE id = $1", clip_id)
        # Then every engine serves its video from the store, byte for byte (never a 404)
        stored = s3_server.objects()[f"{PREFIX}{clip_id}.mp4"]
        for engine in engines:
            status, video = _get(f"{engine.url}/clips/{clip_id}/media")
            assert status == 200 and video == stored, (engine.workdir.name, status)
