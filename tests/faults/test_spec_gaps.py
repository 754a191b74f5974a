"""Answers the API documents, for input it did not expect (issue 26, item 9)."""

from __future__ import annotations

from pathlib import Path

import aiohttp

from homesec_engine.offsite.uploader import describe
from homesec_engine.records import ClipRecord, utcnow
from tests.api.conftest import API_KEY, Api, assert_error
from tests.engine_harness import running_engine


async def test_a_number_with_unicode_blanks_or_digits_is_refused_naming_the_field(
        tmp_path: Path) -> None:
    async with running_engine(tmp_path, api_key=API_KEY) as engine, \
            aiohttp.ClientSession() as http:
        api = Api(http, engine)
        # When a limit or a page size is given with an em space, a trailing blank or an
        # Arabic-Indic digit
        for name, path in (("limit", "/live-events"), ("page_size", "/clips")):
            for value in ("\u20035", "5 ", "\u0665"):
                status, body, _ = await api.call("GET", path, params={name: value})
                # Then it is a 400 naming the field, as for any other non-number
                error = assert_error(status, body, 400, "VALIDATION_ERROR")
                assert [e["path"] for e in error["errors"]] == [name], (value, error)
        # And a plain number is still taken
        status, _, _ = await api.call("GET", "/live-events", params={"limit": "5"})
        assert status == 200


async def test_a_deleted_clip_is_not_found(tmp_path: Path) -> None:
    async with running_engine(tmp_path, api_key=API_KEY) as engine, \
            aiohttp.ClientSession() as http:
        api = Api(http, engine)
        # Given a clip the user deleted
        await engine.runtime.started_repository().upsert_clip(ClipRecord(
            id="gone", camera="front_door", status="done", created_at=utcnow()))
        status, _, _ = await api.call("DELETE", "/clips/gone")
        assert status == 200
        # When it is asked for again / Then it is a 404, as its video and a second delete
        for method, path in (("GET", "/clips/gone"), ("GET", "/clips/gone/media"),
                             ("DELETE", "/clips/gone")):
            status, body, _ = await api.call(method, path)
            assert_error(status, body, 404, "NOT_FOUND")


def test_a_long_offsite_error_is_shortened_between_words() -> None:
    # Given an upload error whose first line is far longer than what is shown
    err = RuntimeError("Unexpected (permanent) at write, context: { " + "service: s3, " * 40)
    # When it is described for the health and the log
    text = describe(err)
    # Then it ends on a whole word, marked as shortened, never mid-word
    assert text.endswith("…") and len(text) < 260
    assert text[:-1].rstrip().endswith(("s3", "service:", "{"))



async def test_a_range_header_that_is_no_byte_range_is_ignored_and_the_whole_clip_sent(
        tmp_path: Path) -> None:
    async with running_engine(tmp_path, api_key=API_KEY) as engine, \
            aiohttp.ClientSession() as http:
        api = Api(http, engine)
        # Given a stored clip
        video = bytes(range(256)) * 40
        (tmp_path / "ranged.mp4").write_bytes(video)
        uri = await engine.runtime.storage.put(tmp_path / "ranged.mp4", "front_door/ranged.mp4")
        await engine.runtime.started_repository().upsert_clip(ClipRecord(
            id="ranged", camera="front_door", status="done", created_at=utcnow(),
            storage_uri=uri))
        # When a player sends a Range header that is not one byte range: empty, `bytes=`
        # with no numbers, another unit, several ranges, or the last byte before the first
        for header in ("", "bytes=", "bytes=-", "pages=1-2", "bytes=0-1,5-6", "bytes=50-10"):
            status, body, resp = await api.call("GET", "/clips/ranged/media",
                                                headers={"Range": header})
            # Then it is ignored, as HTTP says: the whole clip, 200 (not 416)
            assert status == 200 and body == video, (header, status)
            assert "Content-Range" not in resp.headers
        # And a byte range is still served, and one past the end is still 416
        status, body, _ = await api.call("GET", "/clips/ranged/media",
                                         headers={"Range": "bytes=10-19"})
        assert status == 206 and body == video[10:20]
        status, body, _ = await api.call("GET", "/clips/ranged/media",
                                         headers={"Range": f"bytes={len(video)}-"})
        assert_error(status, body, 416, "RANGE_NOT_SATISFIABLE")


async def test_the_openapi_document_says_what_the_400s_are_for(tmp_path: Path) -> None:
    async with running_engine(tmp_path, api_key=API_KEY) as engine, \
            aiohttp.ClientSession() as http:
        api = Api(http, engine)
        # Given the refusals a client generator must know of: a NUL in a query filter and a
        # zone whose points lie on a line
        status, body, _ = await api.call("GET", "/clips", params={"camera": "front\x00door"})
        assert_error(status, body, 400, "VALIDATION_ERROR")
        flat = {"name": "yard", "source_backend": "demo", "source_config": {},
                "zones": [{"name": "path", "points": [[0.1, 0.1], [0.5, 0.5], [0.9, 0.9]]}]}
        status, body, _ = await api.call("POST", "/cameras", json_body=flat)
        error = assert_error(status, body, 400, "VALIDATION_ERROR")
        assert [e["path"] for e in error["errors"]] == ["zones[0].points"]
        # When the engine's OpenAPI document is read
        status, document, _ = await api.call("GET", "/openapi.json")
        assert status == 200
        paths = document["paths"]
        # Then it documents both: the list's 400 names NUL characters in query parameters,
        # the camera body's 400 and its polygon schema name polygons that enclose no area
        assert "NUL" in paths["/api/v1/clips"]["get"]["responses"]["400"]["description"]
        create = paths["/api/v1/cameras"]["post"]["responses"]["400"]["description"]
        assert "enclose no area" in create and "NUL" in create
        points = document["components"]["schemas"]["Zone"]["properties"]["points"]
        assert "on a line" in points["description"]
