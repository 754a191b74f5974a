"""Deleted clips leave the object store: three engines, one PostgreSQL database, one S3 server.

Retention (one engine of the installation per pass) and a user's DELETE remove a clip's video
and snapshot from the shared bucket, not only its row; every clip still listed keeps its
video; an object left for a deleted clip is swept when an engine starts.
"""

from __future__ import annotations

import re
from pathlib import Path

from tests.engine.lifecycle.conftest import S3Server
from tests.faults.engine_process import http

from .engines import (
    PREFIX,
    ClusterEngine,
    bucket_keys,
    clips,
    copied_clips,
    sql,
    three_engines,
    wait_for,
)

CAMS = ["front", "back", "yard"]


def _of(keys: set[str], clip_id: str) -> set[str]:
    return {k for k in keys if k.split(".", 1)[0] == clip_id}


def _status(database: str, ids: list[str]) -> dict[str, str]:
    rows = sql(database, "SELECT id, status FROM clips WHERE id = ANY($1)", ids)
    return {r["id"]: r["status"] for r in rows}


def _deleted_in_logs(engines: list[ClusterEngine]) -> int:
    """Clips the engines' retention passes say they deleted, summed over the engines."""
    pattern = re.compile(r"retention deleted (\d+) clip\(s\)")
    return sum(int(n) for e in engines for n in pattern.findall(e.log.read_text(errors="replace")))


def test_retention_and_delete_remove_clips_from_the_object_store(
        tmp_path: Path, cluster_db: str, s3_server: S3Server, s3_env: dict[str, str]) -> None:
    # Given three engines sharing three cameras, retention passing every second
    with three_engines(tmp_path, cluster_db, s3_server, s3_env, CAMS, sections={"retention": {"interval_s": 1}}) as engines:
        # And clips whose video and snapshot are in the bucket
        copied = wait_for(lambda: (found := copied_clips(cluster_db, s3_server)) and
                          len(found) >= 8 and found, 120, "8 clips copied to the store")
        old, kept = copied[:5], copied[5:]

        # When five of them are past their keep time (alerted ones too: 100 days old)
        sql(cluster_db, "UPDATE clips SET created_at = created_at - interval '100 days' "
                         "WHERE id = ANY($1)", old)

        # Then retention deletes them, and their objects leave the bucket
        wait_for(lambda: set(_status(cluster_db, old).values()) == {"deleted"}, 60,
                 "the old clips deleted")
        wait_for(lambda: not any(_of(bucket_keys(s3_server), c) for c in old), 30,
                 "the old clips' objects gone from the bucket")
        reasons = sql(cluster_db, "SELECT DISTINCT deleted_reason FROM clips WHERE "
                                   "id = ANY($1)", old)
        assert [r["deleted_reason"] for r in reasons] == ["age"]
        # And no clip was deleted by two engines (one engine runs each pass)
        assert _deleted_in_logs(engines) == len(old), [e.tail() for e in engines]

        # And every clip still listed keeps its video in the store, served by any engine
        keys = bucket_keys(s3_server)
        listed = [c for c in clips(cluster_db) if c.status != "deleted" and
                  c.offsite_state == "done"]
        assert {c.id for c in listed} >= set(kept)
        assert all(f"{c.id}.mp4" in keys for c in listed), \
            [c.id for c in listed if f"{c.id}.mp4" not in keys]
        for clip_id, engine in zip(kept, engines):
            status, _body = http("GET", f"{engine.url}/clips/{clip_id}/media", timeout=15)
            assert status == 200, (clip_id, engine.workdir.name)

        # When a user deletes a clip through one engine
        victim = kept[0]
        status, body = http("DELETE", f"{engines[1].url}/clips/{victim}", timeout=15)
        assert status == 200, body
        # Then its video and snapshot are gone from the bucket, and no engine serves it
        assert not _of(bucket_keys(s3_server), victim)
        for engine in engines:
            status, _body = http("GET", f"{engine.url}/clips/{victim}/media", timeout=15)
            assert status == 404
        # While the other clips keep theirs
        assert all(f"{c}.mp4" in bucket_keys(s3_server) for c in kept[1:])

        # When an object of a deleted clip is still in the bucket (a copy finished after the
        # deletion, whose removal failed) and an engine starts
        s3_server.client().put_object(Bucket=s3_server.bucket, Key=f"{PREFIX}{old[0]}.mp4",
                                      Body=b"late copy")
        engines[2].stop()
        engines[2].start()
        engines[2].wait_healthy(90)
        # Then the sweep removes it, and only it
        wait_for(lambda: not _of(bucket_keys(s3_server), old[0]), 60,
                 "the late copy of a deleted clip swept from the bucket")
        assert all(f"{c}.mp4" in bucket_keys(s3_server) for c in kept[1:])
