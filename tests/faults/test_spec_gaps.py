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

