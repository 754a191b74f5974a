"""One address holding too many connections (issue 26, item 4).

Refused connections used to cost a 7-line traceback each (409,914 lines in 35 s) and were
reset with no HTTP answer; behind the add-on's ingress proxy everyone is one address. Now a
refused connection gets a 503 and the refusals are one log line per interval; the cap is
`server.max_connections_per_address`, and trusted proxies are not held to it. The engine runs
as `homesec run` in a child process, on loopback.
"""

from __future__ import annotations

import re
import socket
from pathlib import Path

from .engine_process import EngineProcess, http

REQUEST = b"GET /api/v1/health HTTP/1.1\r\nHost: engine\r\n\r\n"
CAMERAS = [{"name": "demo", "enabled": False, "source_backend": "demo", "source_config": {}}]


def _open(port: int, count: int) -> list[socket.socket]:
    return [socket.create_connection(("127.0.0.1", port), timeout=10) for _ in range(count)]


def _answer(sock: socket.socket) -> bytes:
    """What the engine sends back to one request on `sock` (its head, at least)."""
    sock.sendall(REQUEST)
    data = b""
    try:
        while b"\r\n\r\n" not in data:
            chunk = sock.recv(4096)
            if not chunk:
                break
            data += chunk
    except ConnectionResetError:
        pass
    return data


def test_connections_over_the_per_address_cap_get_a_503_and_one_log_line(
        tmp_path: Path) -> None:
    config = {"cameras": CAMERAS, "server": {"max_connections_per_address": 4}}
    with EngineProcess(tmp_path, config=config) as engine:
        engine.wait_healthy()
        # Given one address holding the 4 connections it may hold
        held = _open(engine.port, 4)
        try:
            # When it opens 40 more and sends a request on each
            answers = []
            for sock in _open(engine.port, 40):
                with sock:
                    answers.append(_answer(sock))
            # Then each is answered 503, saying when to try again, not reset unanswered
            assert all(a.startswith(b"HTTP/1.1 503") for a in answers), answers[:3]
            assert all(b"Retry-After:" in a for a in answers)
            # And the connections it holds are still served
            assert _answer(held[0]).startswith(b"HTTP/1.1 200")
        finally:
            for sock in held:
                sock.close()
        # And the engine answers everyone once the address lets go
        status, health = http("GET", f"{engine.url}/health")
        assert status == 200, health
    # And the log says so in one line, with the count and the setting to change, and no
    # traceback
    log = engine.log.read_text(errors="replace")
    refusals = [line for line in log.splitlines() if "refused" in line]
    assert len(refusals) <= 2, refusals
    counts = [re.search(r"refused (\d+) connection", line) for line in refusals]
    assert sum(int(m.group(1)) for m in counts if m) == 40, refusals
    assert "max_connections_per_address" in refusals[0]
    assert "Traceback" not in log


def test_the_ingress_proxy_is_not_held_to_the_per_address_cap(tmp_path: Path) -> None:
    # Given an engine behind a trusted proxy (the add-on's ingress), 4 connections per address
    config = {"cameras": CAMERAS, "server": {"max_connections_per_address": 4,
                                              "trusted_proxies": ["127.0.0.1"]}}
    with EngineProcess(tmp_path, config=config) as engine:
        engine.wait_healthy()
        # When the proxy holds 20 connections for its users
        held = _open(engine.port, 20)
        try:
            # Then every one of them is served
            assert all(_answer(sock).startswith(b"HTTP/1.1 200") for sock in held)
        finally:
            for sock in held:
                sock.close()
