"""Error bodies for bad requests: malformed JSON, content types, unknown routes, methods."""

from __future__ import annotations

import aiohttp

from tests.engine_harness import RunningEngine

from .conftest import Api, assert_error


async def test_malformed_json_and_wrong_content_type_are_400(api: Api) -> None:
    cases = [
        ("{not json", "application/json"),
        ('{"min_risk_level": NaN}', "application/json"),
        ("[1, 2]", "application/json"),
        ('{"min_risk_level": "low"}', "text/plain"),
        ("\xff\xfe", "application/json"),
        ('{"min_risk_level": "lo\\u0000w"}', "application/json"),
        ('{"min_risk_level": "\\ud800"}', "application/json"),
    ]
    for data, content_type in cases:
        status, body, _ = await api.call("PUT", "/alert-policy", data=data.encode("latin-1"),
                                         headers={"Content-Type": content_type})
        assert_error(status, body, 400, "VALIDATION_ERROR")
        assert body["errors"], data
    # And a required body that is missing
    status, body, _ = await api.call("POST", "/cameras")
    assert_error(status, body, 400, "VALIDATION_ERROR")


async def test_unknown_fields_are_named(api: Api) -> None:
    status, body, _ = await api.call("PUT", "/cameras/front_door", json_body={"colour": "red"})
    error = assert_error(status, body, 400, "VALIDATION_ERROR")
    assert error["errors"][0]["path"] == "colour"


async def test_unknown_routes_are_json_404(http: aiohttp.ClientSession, engine: RunningEngine
                                           ) -> None:
    for path in ("/api/v1/nothing", "/api/v2/status", "/nothing/here", "/secret.txt"):
        async with http.get(engine.url + path, headers=engine.headers) as resp:
            assert_error(resp.status, await resp.json(), 404, "NOT_FOUND")


async def test_wrong_methods_are_json_405(api: Api) -> None:
    for method, path in (("PATCH", "/cameras"), ("POST", "/status"), ("PUT", "/clips"),
                         ("DELETE", "/alert-policy")):
        status, body, resp = await api.call(method, path)
        assert_error(status, body, 405, "METHOD_NOT_ALLOWED")
        assert resp.headers.get("Allow")


async def test_a_huge_body_is_refused(api: Api) -> None:
    status, body, _ = await api.call("POST", "/cameras", data=b"{" + b" " * 400_000 + b"}",
                                     headers={"Content-Type": "application/json"})
    assert_error(status, body, 413, "VALIDATION_ERROR")
