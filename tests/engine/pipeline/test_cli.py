"""The `homesec` command line, run as a real process."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import pytest

from tests.videotools import free_port

API_APP = Path(__file__).resolve().parents[3] / "homesec_engine" / "api" / "app.py"
HOMESEC = Path(sys.executable).parent / "homesec"


def http(method: str, url: str, timeout: float = 5.0) -> tuple[int, dict[str, Any]]:
    request = urllib.request.Request(url, method=method, data=b"" if method == "POST" else None)
    try:
        with urllib.request.urlopen(request, timeout=timeout) as resp:
            return resp.status, json.loads(resp.read() or b"{}")
    except urllib.error.HTTPError as err:
        return err.code, json.loads(err.read() or b"{}")


def wait_healthy(url: str, proc: subprocess.Popen[bytes], timeout: float = 60.0
                 ) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError(f"homesec exited early with {proc.returncode}")
        try:
            status, body = http("GET", f"{url}/api/v1/health", timeout=2)
            if status == 200:
                return body
        except (OSError, ValueError):
            pass
        time.sleep(0.2)
    raise AssertionError("homesec did not answer /api/v1/health in time")


def start(tmp_path: Path, *args: str) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    (tmp_path / "port.yaml").write_text(f"server:\n  port: {port}\n")
    command = [str(HOMESEC)] if HOMESEC.exists() else [sys.executable, "-m", "homesec_engine"]
    proc = subprocess.Popen(
        [*command, "run", "--embedded-default", "--config", "port.yaml", *args],
        cwd=tmp_path, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
        stderr=open(tmp_path / "stderr.log", "wb"))  # noqa: SIM115 - closed with the process
    return proc, f"http://127.0.0.1:{port}"


def stop(proc: subprocess.Popen[bytes]) -> int:
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
    try:
        return proc.wait(timeout=60)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
        raise


@pytest.mark.skipif(not API_APP.exists(), reason="homesec_engine/api/app.py is not written yet")
def test_homesec_run_serves_the_api_and_stops_on_sigterm(tmp_path: Path) -> None:
    # Given an empty directory and a config file that only picks a free port
    proc, url = start(tmp_path)
    try:
        # When `homesec run` starts on the embedded default
        health = wait_healthy(url, proc)
        # Then the REST API answers /health, with data under ./data
        assert health["status"] in ("healthy", "degraded")
        assert (tmp_path / "data" / "homesec.db").exists()
    finally:
        # And SIGTERM stops it gracefully
        code = stop(proc)
    assert code == 0, (tmp_path / "stderr.log").read_text()
    assert "Traceback" not in (tmp_path / "stderr.log").read_text()


@pytest.mark.skipif(not API_APP.exists(), reason="homesec_engine/api/app.py is not written yet")
def test_restart_request_restarts_in_process_or_exits_when_told(tmp_path: Path) -> None:
    # Given a running engine
    proc, url = start(tmp_path)
    try:
        wait_healthy(url, proc)
        # When a restart is requested through the API
        status, _ = http("POST", f"{url}/api/v1/system/restart")
        assert status == 202
        # Then the same process serves again after restarting in-process
        time.sleep(0.5)
        wait_healthy(url, proc)
        assert proc.poll() is None
        assert "restarting" in (tmp_path / "stderr.log").read_text()
    finally:
        assert stop(proc) == 0

    # Given --exit-on-restart (a supervisor restarts the process itself)
    other = tmp_path / "supervised"
    other.mkdir()
    proc, url = start(other, "--exit-on-restart")
    try:
        wait_healthy(url, proc)
        # When a restart is requested / Then the process exits with status 0
        assert http("POST", f"{url}/api/v1/system/restart")[0] == 202
        assert proc.wait(timeout=60) == 0
    finally:
        stop(proc)


def test_a_config_error_names_file_and_line_and_exits_2(tmp_path: Path) -> None:
    # Given a config file with broken YAML on line 3
    (tmp_path / "bad.yaml").write_text("server:\n  port: 8080\n  host: [oops\n")
    # When `python -m homesec_engine run` loads it
    result = subprocess.run([sys.executable, "-m", "homesec_engine", "run", "--config",
                             "bad.yaml"], cwd=tmp_path, capture_output=True, text=True,
                            timeout=60)
    # Then it exits with status 2 and names the file and line, without a traceback
    assert result.returncode == 2
    assert "bad.yaml:" in result.stderr and "invalid YAML" in result.stderr
    assert "Traceback" not in result.stderr


def test_an_invalid_field_is_named_by_its_path(tmp_path: Path) -> None:
    # Given a config whose camera has an invalid source setting
    (tmp_path / "cams.yaml").write_text(
        "cameras:\n  - name: front\n    source_backend: demo\n"
        "    source_config: {interval_s: -5}\n")
    # When it is run / Then the error names the field path and exits with 2
    result = subprocess.run([sys.executable, "-m", "homesec_engine", "run", "--config",
                             "cams.yaml"], cwd=tmp_path, capture_output=True, text=True,
                            timeout=60)
    assert result.returncode == 2
    assert "cameras[0].source_config.interval_s" in result.stderr or \
        "interval_s" in result.stderr
    assert "Traceback" not in result.stderr


# Runs the engine loop in a child interpreter, restarts it twice through the API, then
# counts the EngineRuntime objects (of the 3 made) alive after a full collection.
_RESTART_PROBE = """
import asyncio, gc, json, sys, urllib.request, weakref
from pathlib import Path
from homesec_engine.__main__ import run_engine
from homesec_engine.runtime import EngineRuntime

made = []
original_init = EngineRuntime.__init__

def recording_init(self, *args, **kwargs):
    original_init(self, *args, **kwargs)
    made.append(weakref.ref(self))

EngineRuntime.__init__ = recording_init

URL = sys.argv[1]

def call(method, path):
    request = urllib.request.Request(URL + path, method=method,
                                     data=b"" if method == "POST" else None)
    try:
        with urllib.request.urlopen(request, timeout=2) as resp:
            return resp.status
    except OSError:
        return None

async def healthy(after=None):
    for _ in range(300):
        if await asyncio.to_thread(call, "GET", "/api/v1/health") == 200:
            return
        await asyncio.sleep(0.1)
    raise SystemExit("never healthy")

async def main():
    engine = asyncio.ensure_future(run_engine([Path("port.yaml")], use_default=True))
    await healthy()
    for _ in range(2):
        assert await asyncio.to_thread(call, "POST", "/api/v1/system/restart") == 202
        await asyncio.sleep(1.0)
        await healthy()
    gc.collect()
    alive = sum(ref() is not None for ref in made)
    print(json.dumps({"made": len(made), "alive": alive}))
    sys.stdout.flush()
    import os, signal
    os.kill(os.getpid(), signal.SIGTERM)
    await engine

asyncio.run(main())
"""


@pytest.mark.skipif(not API_APP.exists(), reason="homesec_engine/api/app.py is not written yet")
def test_a_restarted_engine_leaves_no_old_runtime_in_memory(tmp_path: Path) -> None:
    # Given an engine running in-process
    port = free_port()
    (tmp_path / "port.yaml").write_text(f"server:\n  port: {port}\n")
    # When it is restarted twice through the API
    done = subprocess.run([sys.executable, "-c", _RESTART_PROBE, f"http://127.0.0.1:{port}"],
                          cwd=tmp_path, capture_output=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr.decode()[-2000:]
    # Then only the running engine's runtime is left: the stopped ones were freed
    # (a process restarted by every camera change must not grow without bound)
    assert json.loads(done.stdout.decode().strip().splitlines()[-1]) == {"made": 3,
                                                                        "alive": 1}
