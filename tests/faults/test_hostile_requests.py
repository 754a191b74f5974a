"""Hostile request bodies and request lines against a real engine on loopback (issue 16,
items 2 and 7, and the body deadline of item 1)."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path

import aiohttp
import pytest

from homesec_engine.api.server import ServerLimits
from homesec_engine.schema.openapi import render_openapi
from tests.api.conftest import API_KEY
from tests.engine_harness import running_engine


async def _raw(port: int, data: bytes, wait_s: float = 5.0) -> bytes:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        writer.write(data)
        await writer.drain()
        return await asyncio.wait_for(reader.read(65536), wait_s)
    finally:
        writer.close()


def _port(url: str) -> int:
    return int(url.rsplit(":", 1)[1])


def _documented(method: str, path: str, status: int) -> bool:
    """Whether the OpenAPI document lists `status` for the operation."""
    return str(status) in render_openapi("test")["paths"][path][method.lower()]["responses"]


@pytest.mark.parametrize("depth", [1_000, 100_000])
async def test_a_deeply_nested_body_is_a_400_naming_the_depth(tmp_path: Path, depth: int) -> None:
    async with running_engine(tmp_path, api_key=API_KEY) as engine, aiohttp.ClientSession() as s:
        # Given a body nested `depth` levels deep
        body = '{"min_risk_level": ' + "[" * depth + "]" * depth + "}"
        # When it is sent as the alert policy
        async with s.put(f"{engine.api}/alert-policy", data=body, headers={
                **engine.headers, "Content-Type": "application/json"}) as resp:
            answer = await resp.json()
        # Then it is refused with 400 saying it nests too deep, and the policy is unchanged
        assert resp.status == 400, answer
        assert answer["error_code"] == "VALIDATION_ERROR"
        assert any("nests deeper" in e["message"] for e in answer["errors"]), answer
        assert _documented("PUT", "/api/v1/alert-policy", 400)
        assert engine.runtime.config_manager.config_version == 1


async def test_a_huge_body_is_a_413(tmp_path: Path) -> None:
    async with running_engine(tmp_path, api_key=API_KEY) as engine, aiohttp.ClientSession() as s:
        # Given a 5 MB JSON body
        body = '{"x": "' + "a" * 5_000_000 + '"}'
        async with s.post(f"{engine.api}/cameras", data=body, headers={
                **engine.headers, "Content-Type": "application/json"}) as resp:
            answer = await resp.json()
        # Then it is refused with 413 and a JSON error body
        assert resp.status == 413 and answer["error_code"] == "VALIDATION_ERROR", answer
        # And the OpenAPI document lists that answer for every route taking a body
        for method, path in (("POST", "/api/v1/cameras"), ("PUT", "/api/v1/cameras/{name}"),
                             ("DELETE", "/api/v1/cameras/{name}"),
                             ("PUT", "/api/v1/alert-policy")):
            assert _documented(method, path, 413) and _documented(method, path, 408), path


async def test_a_body_that_trickles_in_is_cut_off(tmp_path: Path) -> None:
    limits = ServerLimits(body_timeout_s=1.0)
    async with running_engine(tmp_path, api_key=API_KEY, server_limits=limits) as engine:
        # Given a request announcing 100 bytes of body and sending 5
        head = (f"PUT /api/v1/alert-policy HTTP/1.1\r\nHost: e\r\nAuthorization: Bearer "
                f"{API_KEY}\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n"
                '{"mi').encode()
        # When the peer then waits
        answer = await _raw(_port(engine.url), head, wait_s=10)
        # Then the engine answers 408 and closes, without waiting for the rest
        assert answer.startswith(b"HTTP/1.1 408"), answer[:200]
        assert b"REQUEST_TIMEOUT" in answer
        assert _documented("PUT", "/api/v1/alert-policy", 408)


async def test_malformed_request_lines_are_logged_as_one_rate_limited_line(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="aiohttp.server")
    async with running_engine(tmp_path, api_key=API_KEY) as engine:
        port = _port(engine.url)
        # When 20 peers send request lines that are not HTTP
        for i in range(20):
            await _raw(port, f"GET /\x01bad{i} HTTP/1.1\r\nHost: e\r\n\r\n".encode(), 3)
            await _raw(port, b"GET / HTTP/9.9 extra\r\n\r\n", 3)
        # Then each got a 400, and the log has one warning line for all, with no traceback
        records = [r for r in caplog.records if r.name == "aiohttp.server"]
        assert len(records) == 1, [r.getMessage() for r in records]
        assert records[0].levelno == logging.WARNING
        assert "malformed request from 127.0.0.1" in records[0].getMessage()
        assert records[0].exc_info is None and "\n" not in records[0].getMessage()
        assert "Traceback" not in caplog.text
