"""Bearer-key authentication, public routes, trusted proxies; the key never leaks."""

from __future__ import annotations

import logging
from pathlib import Path

import aiohttp
import pytest

from tests.engine_harness import running_engine

from .conftest import API_KEY, Api, assert_error

PROTECTED = [("GET", "/status"), ("GET", "/config"), ("GET", "/cameras"),
             ("GET", "/cameras/front_door"), ("GET", "/alert-policy"), ("GET", "/clips"),
             ("GET", "/clips/abc"), ("GET", "/clips/abc/media"), ("GET", "/clips/abc/snapshot"),
             ("GET", "/stats"), ("POST", "/system/restart"), ("DELETE", "/clips/abc"),
             ("POST", "/cameras"), ("PUT", "/cameras/front_door"),
             ("DELETE", "/cameras/front_door"), ("PUT", "/alert-policy"), ("GET", "/events")]


@pytest.mark.parametrize(("method", "path"), PROTECTED)
async def test_protected_routes_refuse_a_missing_or_wrong_key(
    http: aiohttp.ClientSession, engine, method: str, path: str
) -> None:
    # Given an engine with an API key
    for headers in ({}, {"Authorization": "Bearer wrong-key"}, {"Authorization": API_KEY}):
        # When a route is called without the right bearer key
        status, body, _ = await Api(http, engine, authorised=False).call(
            method, path, headers=headers)
        # Then it answers 401 UNAUTHORIZED and changes nothing
        assert_error(status, body, 401, "UNAUTHORIZED")
    assert not engine.runtime.restart_requested.is_set()
    assert engine.runtime.config_manager.config_version == 1


async def test_the_right_key_opens_the_api(api: Api) -> None:
    # Given the right key, When a protected route is called, Then it answers
    status, _, _ = await api.call("GET", "/cameras")
    assert status == 200


async def test_public_routes_and_panel_need_no_key(http: aiohttp.ClientSession, engine) -> None:
    # Given no key, When the public routes and the panel's files are fetched
    anonymous = Api(http, engine, authorised=False)
    for path in ("/health", "/diagnostics", "/openapi.json"):
        status, _, _ = await anonymous.call("GET", path)
        assert status == 200, path
    for path in ("/", "/app.js", "/style.css"):
        async with http.get(engine.url + path) as resp:
            # Then they are served
            assert resp.status == 200, path


async def test_a_trusted_proxy_needs_no_key(tmp_path: Path, http: aiohttp.ClientSession) -> None:
    # Given the loopback peer is a trusted proxy (as the Supervisor's ingress is in the add-on)
    async with running_engine(tmp_path, api_key=API_KEY, trusted_proxies=["127.0.0.1"]) as eng:
        # When the API is called without a key, Then it answers
        status, _, _ = await Api(http, eng, authorised=False).call("GET", "/cameras")
        assert status == 200


async def test_an_unset_key_variable_closes_the_api(
    tmp_path: Path, http: aiohttp.ClientSession
) -> None:
    # Given a config naming an API key variable that is not set
    async with running_engine(tmp_path, config={"server": {"api_key_env": "HOMESEC_UNSET_K"}}
                              ) as eng:
        # When the API is called without a key (or with an empty one)
        for headers in ({}, {"Authorization": "Bearer "}):
            status, body, _ = await Api(http, eng, authorised=False).call(
                "GET", "/cameras", headers=headers)
            # Then it stays closed rather than open to everyone
            assert_error(status, body, 401, "UNAUTHORIZED")


async def test_the_key_never_appears_in_logs_or_bodies(
    api: Api, http: aiohttp.ClientSession, engine, caplog: pytest.LogCaptureFixture
) -> None:
    # Given logging at debug level
    caplog.set_level(logging.DEBUG)
    # When every read route is called, with the right key and a wrong one
    texts = []
    for path in ("/status", "/config", "/diagnostics", "/cameras", "/alert-policy", "/stats",
                 "/health", "/openapi.json"):
        for client in (api, Api(http, engine, authorised=False)):
            _, _, resp = await client.call("GET", path)
            texts.append(await resp.text())
    # Then the key is in no response and no log line
    assert all(API_KEY not in text for text in texts)
    assert API_KEY not in caplog.text
