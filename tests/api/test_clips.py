"""Clips: filters, paging, reading, deleting (files too), video with Range, snapshots."""

from __future__ import annotations

import os
from datetime import timedelta

from homesec_engine.records import utcnow
from tests.engine_harness import RunningEngine

from .conftest import Api, ClipFactory, assert_error, assert_valid


async def _ids(api: Api, **params: str) -> list[str]:
    status, body, _ = await api.call("GET", "/clips", params=params)
    assert status == 200, body
    assert_valid("ClipList", body)
    return [c["id"] for c in body["clips"]]


async def test_filters_select_the_matching_clips(api: Api, make_clip: ClipFactory) -> None:
    # Given clips that differ in camera, status, alert, risk, activity and time
    now = utcnow()
    person = await make_clip("front_door", alerted=True, risk_level="high",
                             activity_type="person", created_at=now - timedelta(minutes=1))
    car = await make_clip("garage", risk_level="low", activity_type="vehicle",
                          created_at=now - timedelta(hours=2))
    failed = await make_clip("garage", status="error", created_at=now - timedelta(days=3))
    # When each filter is applied, Then exactly the matching clips come back, newest first
    assert await _ids(api) == [person.id, car.id, failed.id]
    assert await _ids(api, camera="garage") == [car.id, failed.id]
    assert await _ids(api, status="error") == [failed.id]
    assert await _ids(api, alerted="true") == [person.id]
    assert await _ids(api, alerted="false") == [car.id, failed.id]
    assert await _ids(api, risk_level="low") == [car.id]
    assert await _ids(api, activity_type="person") == [person.id]
    since = (now - timedelta(hours=3)).isoformat()
    assert await _ids(api, since=since) == [person.id, car.id]
    until = (now - timedelta(hours=1)).isoformat().replace("+00:00", "Z")
    assert await _ids(api, until=until) == [car.id, failed.id]
    assert await _ids(api, camera="garage", since=since) == [car.id]


async def test_paging_is_one_based_with_totals(api: Api, make_clip: ClipFactory) -> None:
    # Given five clips
    now = utcnow()
    clips = [await make_clip(created_at=now - timedelta(minutes=i)) for i in range(5)]
    # When they are read two per page
    status, body, _ = await api.call("GET", "/clips", params={"page": "2", "page_size": "2"})
    # Then page 2 holds the third and fourth newest, and the total counts all
    assert status == 200
    assert [c["id"] for c in body["clips"]] == [clips[2].id, clips[3].id]
    assert (body["total"], body["page"], body["page_size"]) == (5, 2, 2)
    _, last, _ = await api.call("GET", "/clips", params={"page": "3", "page_size": "2"})
    assert [c["id"] for c in last["clips"]] == [clips[4].id] and last["total"] == 5
    _, beyond, _ = await api.call("GET", "/clips", params={"page": "9", "page_size": "2"})
    assert beyond["clips"] == [] and beyond["total"] == 5
    _, default, _ = await api.call("GET", "/clips")
    assert default["page"] == 1 and default["page_size"] == 50


async def test_bad_query_parameters_are_400(api: Api) -> None:
    for params in ({"page_size": "101"}, {"page": "0"}, {"page": "two"}, {"alerted": "maybe"},
                   {"status": "lost"}, {"risk_level": "extreme"}, {"since": "yesterday"},
                   {"colour": "red"}, {"camera": "a\x00b"}, {"since": "0001-01-01T00:00:00+05:00"}):
        status, body, _ = await api.call("GET", "/clips", params=params)
        error = assert_error(status, body, 400, "VALIDATION_ERROR")
        assert error["errors"], params


async def test_read_a_clip_with_its_analysis(api: Api, make_clip: ClipFactory) -> None:
    clip = await make_clip(activity_type="delivery", risk_level="medium", summary="A courier",
                           detected_objects=["person", "package"], alerted=True)
    status, body, _ = await api.call("GET", f"/clips/{clip.id}")
    assert status == 200
    assert_valid("Clip", body)
    assert body["summary"] == "A courier" and body["detected_objects"] == ["person", "package"]
    assert body["view_url"] == f"/api/v1/clips/{clip.id}/media"
    assert body["created_at"].endswith("Z")


async def test_unknown_clips_are_404_and_bad_ids_400(api: Api) -> None:
    for method, suffix in (("GET", ""), ("DELETE", ""), ("GET", "/media"), ("GET", "/snapshot")):
        status, body, _ = await api.call(method, f"/clips/no-such-clip{suffix}")
        assert_error(status, body, 404, "NOT_FOUND")
        status, body, _ = await api.call(method, f"/clips/bad%20id{suffix}")
        assert_error(status, body, 400, "VALIDATION_ERROR")


async def test_delete_marks_deleted_and_removes_the_files(
    api: Api, engine: RunningEngine, make_clip: ClipFactory
) -> None:
    # Given a stored clip with its snapshot
    clip = await make_clip()
    video = engine.runtime.storage.resolve(clip.storage_uri)
    snapshot = video.with_suffix(".jpg")
    assert video.exists() and snapshot.exists()
    # When it is deleted
    status, body, _ = await api.call("DELETE", f"/clips/{clip.id}")
    # Then it is marked deleted, its files are gone, and it leaves the list
    assert status == 200, body
    assert_valid("Clip", body)
    assert body["status"] == "deleted"
    assert not video.exists() and not snapshot.exists()
    assert await _ids(api) == []
    assert await _ids(api, status="deleted") == [clip.id]
    status, body, _ = await api.call("GET", f"/clips/{clip.id}/media")
    assert_error(status, body, 404, "NOT_FOUND")
    status, body, _ = await api.call("DELETE", f"/clips/{clip.id}")
    assert_error(status, body, 404, "NOT_FOUND")


async def test_media_streams_the_video_with_ranges(api: Api, make_clip: ClipFactory) -> None:
    video = bytes(range(256)) * 40
    clip = await make_clip(video=video)
    # When the whole clip is fetched
    status, body, resp = await api.call("GET", f"/clips/{clip.id}/media")
    # Then the bytes are the stored video and ranges are advertised
    assert status == 200 and body == video
    assert resp.headers["Content-Type"] == "video/mp4"
    assert resp.headers["Accept-Ranges"] == "bytes"
    # When a range is asked for, Then exactly that slice comes back as 206
    status, body, resp = await api.call("GET", f"/clips/{clip.id}/media",
                                        headers={"Range": "bytes=100-199"})
    assert status == 206 and body == video[100:200]
    assert resp.headers["Content-Range"] == f"bytes 100-199/{len(video)}"
    status, body, _ = await api.call("GET", f"/clips/{clip.id}/media",
                                     headers={"Range": "bytes=-10"})
    assert status == 206 and body == video[-10:]
    # When the range cannot be satisfied, Then 416 with the size
    for bad in (f"bytes={len(video)}-", "bytes=-0"):
        status, body, resp = await api.call("GET", f"/clips/{clip.id}/media",
                                            headers={"Range": bad})
        assert_error(status, body, 416, "RANGE_NOT_SATISFIABLE")
        assert resp.headers["Content-Range"] == f"bytes */{len(video)}"


async def test_a_range_with_an_absurdly_long_number_is_416_not_500(
    api: Api, make_clip: ClipFactory
) -> None:
    # Given a stored clip
    video = bytes(range(256)) * 4
    clip = await make_clip(video=video)
    # When a client asks for a range whose numbers have thousands of digits
    for bad in ("bytes=" + "9" * 5000 + "-", "bytes=0-" + "9" * 5000, "bytes=-" + "9" * 5000):
        status, body, resp = await api.call("GET", f"/clips/{clip.id}/media",
                                            headers={"Range": bad})
        # Then it is answered as a range that cannot be served (never a 500)
        assert_error(status, body, 416, "RANGE_NOT_SATISFIABLE")
        assert resp.headers["Content-Range"] == f"bytes */{len(video)}"


async def test_snapshot_is_served_as_jpeg(api: Api, make_clip: ClipFactory) -> None:
    jpeg = b"\xff\xd8\xff\xe0-snapshot-\xff\xd9"
    clip = await make_clip(snapshot=jpeg)
    status, body, resp = await api.call("GET", f"/clips/{clip.id}/snapshot")
    assert status == 200 and body == jpeg
    assert resp.headers["Content-Type"] == "image/jpeg"
    without = await make_clip(snapshot=None)
    status, body, _ = await api.call("GET", f"/clips/{without.id}/snapshot")
    assert_error(status, body, 404, "NOT_FOUND")


async def test_media_never_leaves_the_storage_root(
    api: Api, engine: RunningEngine, make_clip: ClipFactory, tmp_path
) -> None:
    # Given a secret file outside the storage root
    secret = tmp_path / "secret.txt"
    secret.write_text("top secret")
    # And a clip whose file was replaced by a symlink to it
    clip = await make_clip()
    stored = engine.runtime.storage.resolve(clip.storage_uri)
    stored.unlink()
    os.symlink(secret, stored)
    # And clips whose URIs try to climb out of the root
    climbing = [await make_clip(), await make_clip()]
    climbing[0].storage_uri = "local://../../secret.txt"
    climbing[1].storage_uri = f"local://{secret}"
    for record in climbing:
        await engine.runtime.repository.upsert_clip(record)
    # When their media is requested, Then none of them serves the secret
    for target in [clip, *climbing]:
        status, body, _ = await api.call("GET", f"/clips/{target.id}/media")
        assert_error(status, body, 404, "NOT_FOUND")


async def test_deleting_the_last_alert_hands_over_to_the_one_before(
    api: Api, engine: RunningEngine, make_clip: ClipFactory
) -> None:
    # Given two alerts of one camera, the newer shown as its last alert
    now = utcnow()
    older = await make_clip("front_door", alerted=True, activity_type="person",
                            risk_level="low", created_at=now - timedelta(hours=1))
    newer = await make_clip("front_door", alerted=True, activity_type="delivery",
                            risk_level="high", created_at=now)
    engine.runtime.last_alerts["front_door"] = {
        "clip_id": newer.id, "activity_type": "delivery", "risk_level": "high",
        "summary": None, "detected_objects": [], "timestamp": now.isoformat()}

    async def last_alert() -> dict | None:
        status, body, _ = await api.call("GET", "/status")
        assert status == 200, body
        camera = next(c for c in body["cameras"] if c["name"] == "front_door")
        return camera["last_alert"]

    # When the newer clip is deleted
    status, _, _ = await api.call("DELETE", f"/clips/{newer.id}")
    assert status == 200
    # Then the camera's last alert is the older one, not a clip whose media is gone
    alert = await last_alert()
    assert alert is not None and alert["clip_id"] == older.id
    assert alert["activity_type"] == "person"
    # When that one is deleted too, Then the camera has no last alert
    await api.call("DELETE", f"/clips/{older.id}")
    assert await last_alert() is None


async def test_a_clip_says_where_its_files_are_on_the_engines_host(
    api: Api, engine: RunningEngine, make_clip: ClipFactory
) -> None:
    # Given a stored clip with its snapshot and one whose snapshot was never made
    clip = await make_clip()
    bare = await make_clip(snapshot=None)
    # When each is read
    status, body, _ = await api.call("GET", f"/clips/{clip.id}")
    _, bare_body, _ = await api.call("GET", f"/clips/{bare.id}")
    # Then the clip names the absolute paths of its video and snapshot (for a reader that
    # shares the folder, as Home Assistant shares the add-on's /media)
    assert status == 200
    assert_valid("Clip", body)
    video = engine.runtime.storage.resolve(clip.storage_uri).resolve()
    assert body["files"] == {"clip": str(video), "snapshot": str(video.with_suffix(".jpg"))}
    # And a missing file is null, not a path that leads nowhere
    assert bare_body["files"]["snapshot"] is None and bare_body["files"]["clip"] is not None
    # And lists do not carry the paths (only the one clip read does)
    _, page, _ = await api.call("GET", "/clips")
    assert all("files" not in c for c in page["clips"])
