"""`homesec run` as a child process for fault tests: kill -9 it, starve it of descriptors.

    with EngineProcess(tmp_path, config={...}, nofile=256) as engine:
        engine.wait_healthy()
        engine.kill()            # SIGKILL, no clean-up
        engine.start()           # the same config and data again

The config (YAML) is merged over the embedded default by the CLI, or over the files given in
`base` instead; `nofile` lowers the child's descriptor limit (soft and hard) with setrlimit
before it starts.
"""

from __future__ import annotations

import json
import os
import resource
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import yaml

from tests.videotools import free_port

REPO_ROOT = Path(__file__).resolve().parents[2]


def http(method: str, url: str, body: Any = None, timeout: float = 5.0,
         headers: dict[str, str] | None = None) -> tuple[int, Any]:
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(url, method=method, data=data, headers={
        **({"Content-Type": "application/json"} if data else {}), **(headers or {})})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as resp:
            raw = resp.read()
            status = resp.status
    except urllib.error.HTTPError as err:
        raw, status = err.read(), err.code
    try:
        return status, json.loads(raw or b"{}")
    except ValueError:
        return status, raw


class EngineProcess:
    def __init__(self, workdir: Path, *, config: dict[str, Any] | None = None,
                 nofile: int | None = None, env: dict[str, str] | None = None,
                 base: list[Path] | None = None) -> None:
        self.workdir = workdir
        self.base = base
        self.port = free_port()
        self.nofile = nofile
        # The engine of this checkout, not whichever one the venv has installed (editable
        # installs point at another worktree).
        path = os.pathsep.join(p for p in (str(REPO_ROOT), os.environ.get("PYTHONPATH")) if p)
        self.env = {**os.environ, "PYTHONPATH": path, **(env or {})}
        merged = {"server": {"port": self.port}, **(config or {})}
        merged["server"] = {**(config or {}).get("server", {}), "port": self.port}
        (workdir / "fault.yaml").write_text(yaml.safe_dump(merged), encoding="utf-8")
        self.log = workdir / "engine.log"
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/api/v1"

    def _limit(self) -> None:
        if self.nofile:
            resource.setrlimit(resource.RLIMIT_NOFILE, (self.nofile, self.nofile))

    def start(self) -> None:
        with open(self.log, "ab") as log:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "homesec_engine", "run",
                 *([a for p in self.base for a in ("--config", str(p))] if self.base
                   else ["--embedded-default"]), "--config", "fault.yaml"],
                cwd=self.workdir, stdin=subprocess.DEVNULL, stdout=log, stderr=log,
                env=self.env,
                # Only when needed: a fork running Python code can hang in a threaded test.
                preexec_fn=self._limit if self.nofile else None)

    def wait_healthy(self, timeout: float = 60.0) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            assert self.proc is not None
            if self.proc.poll() is not None:
                raise AssertionError(f"homesec exited with {self.proc.returncode}: "
                                     f"{self.log.read_text(errors='replace')[-2000:]}")
            try:
                status, body = http("GET", f"{self.url}/health", timeout=2)
                if status in (200, 503):
                    return body
            except OSError:
                pass
            time.sleep(0.2)
        raise AssertionError("homesec did not answer /health in time")

    def descriptors(self) -> int:
        assert self.proc is not None
        return len(os.listdir(f"/proc/{self.proc.pid}/fd"))

    def kill(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(timeout=30)
        self.proc = None

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None

    def __enter__(self) -> EngineProcess:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()
