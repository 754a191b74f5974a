"""Fixtures of the clip life-cycle tests: databases (from the state tests) and real S3 and
WebDAV servers on loopback (moto's standalone server, wsgidav served by cheroot)."""

from __future__ import annotations

import socket
import threading
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
import pytest
from cheroot import wsgi
from moto.server import ThreadedMotoServer
from wsgidav.wsgidav_app import WsgiDAVApp

from tests.engine.state.conftest import _tcp_sockets, database, make_repo  # noqa: F401

S3_KEY_ID, S3_SECRET = "homesec-test-key", "homesec-test-secret"
DAV_USER, DAV_PASSWORD = "homesec", "dav-secret"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class S3Server:
    port: int
    bucket: str
    server: ThreadedMotoServer | None = None

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        self.server = ThreadedMotoServer(ip_address="127.0.0.1", port=self.port, verbose=False)
        self.server.start()
        client = self.client()
        if self.bucket not in {b["Name"] for b in client.list_buckets().get("Buckets", [])}:
            client.create_bucket(Bucket=self.bucket)

    def stop(self) -> None:
        if self.server is not None:
            self.server.stop()
            self.server = None

    def client(self) -> Any:
        return boto3.client("s3", endpoint_url=self.endpoint, region_name="us-east-1",
                            aws_access_key_id=S3_KEY_ID, aws_secret_access_key=S3_SECRET)

    def objects(self) -> dict[str, bytes]:
        client = self.client()
        listed = client.list_objects_v2(Bucket=self.bucket).get("Contents", [])
        return {o["Key"]: client.get_object(Bucket=self.bucket, Key=o["Key"])["Body"].read()
                for o in listed}


@pytest.fixture
def s3_port() -> int:
    return free_port()


@pytest.fixture
def s3_server(s3_port: int) -> Iterator[S3Server]:
    """A running S3 server with an empty bucket of the test's own."""
    server = S3Server(port=s3_port, bucket=f"clips-{uuid.uuid4().hex[:10]}")
    server.start()
    yield server
    server.stop()


@pytest.fixture
def s3_env(monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    monkeypatch.setenv("HOMESEC_TEST_S3_KEY", S3_KEY_ID)
    monkeypatch.setenv("HOMESEC_TEST_S3_SECRET", S3_SECRET)
    return {"access_key_id_env": "HOMESEC_TEST_S3_KEY",
            "secret_access_key_env": "HOMESEC_TEST_S3_SECRET"}


@dataclass
class DavServer:
    url: str
    root: Path


@pytest.fixture
def webdav_server(tmp_path: Path) -> Iterator[DavServer]:
    """A WebDAV server (wsgidav) with one user, its files in tmp_path/dav."""
    root = tmp_path / "dav"
    root.mkdir()
    port = free_port()
    app = WsgiDAVApp({
        "host": "127.0.0.1", "port": port, "provider_mapping": {"/": str(root)},
        "simple_dc": {"user_mapping": {"*": {DAV_USER: {"password": DAV_PASSWORD}}}},
        "http_authenticator": {"accept_basic": True, "accept_digest": False,
                               "default_to_digest": False},
        "verbose": 1, "logging": {"enable": False}, "lock_storage": True,
    })
    server = wsgi.Server(("127.0.0.1", port), app)
    thread = threading.Thread(target=server.safe_start, daemon=True)
    thread.start()
    for _ in range(200):  # it binds in its thread; wait until it listens
        if server.ready:
            break
        threading.Event().wait(0.05)
    yield DavServer(url=f"http://127.0.0.1:{port}", root=root)
    server.stop()
    thread.join(5)


@pytest.fixture
def dav_env(monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    monkeypatch.setenv("HOMESEC_TEST_DAV_USER", DAV_USER)
    monkeypatch.setenv("HOMESEC_TEST_DAV_PASSWORD", DAV_PASSWORD)
    return {"username_env": "HOMESEC_TEST_DAV_USER", "password_env": "HOMESEC_TEST_DAV_PASSWORD"}
