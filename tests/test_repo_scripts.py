"""The set-up scripts a new user runs first: ./scripts/run and ./scripts/test."""

from __future__ import annotations

import os
import socket
import subprocess
import time
import urllib.request
from pathlib import Path

import pytest

from tests import tools

ROOT = Path(__file__).resolve().parents[1]
SCRIPTS = [ROOT / "scripts" / "run", ROOT / "scripts" / "test", ROOT / "scripts" / "lib" / "common.sh",
           ROOT / "scripts" / "lib" / "private-python.sh", ROOT / "scripts" / "lib" / "apt-private.sh",
           ROOT / "scripts" / "lib" / "private-debs.sh", ROOT / "scripts" / "lib" / "test-tools.sh",
           ROOT / "scripts" / "lib" / "test-services.sh",
           ROOT / "scripts" / "data" / "fetch-opencv-samples.sh", ROOT / ".ci" / "run"]
SHELLCHECK = tools.shellcheck()


def test_setup_scripts_pass_shellcheck() -> None:
    # Given the scripts behind the README's two commands and CI
    # When shellcheck reads them (following the sourced library)
    result = subprocess.run([SHELLCHECK, "--external-sources", *map(str, SCRIPTS)],
                            capture_output=True, text=True, cwd=ROOT)
    # Then it finds nothing
    assert result.returncode == 0, result.stdout


def test_ci_runs_exactly_the_readme_test_command() -> None:
    # Given the README's test command
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "./scripts/test" in readme and "./scripts/run" in readme
    # Then CI calls that command, so a missing install step fails in CI first
    assert "./scripts/test" in (ROOT / ".ci" / "run").read_text(encoding="utf-8")


def test_no_script_installs_an_interpreter_or_touches_apt_sources() -> None:
    # Given every set-up script
    text = "\n".join(p.read_text(encoding="utf-8") for p in SCRIPTS)
    # Then none adds an apt source, pins a release or installs anything with apt
    for forbidden in ("sources.list.d", "preferences.d/", "-t trixie", "-t sid", "apt-get install",
                      "apt install", "apt-get -y install", "apt-get -qq install", "dpkg -i ",
                      "install -y -qq python", "pip install --user", "sudo "):
        assert forbidden not in text, forbidden


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _run_engine_once(config: Path) -> str:
    """Start ./scripts/run with `config`, wait for /health, stop it; return its stderr."""
    port = int(config.read_text().split("port:")[1].split()[0])
    proc = subprocess.Popen([str(ROOT / "scripts" / "run"), "--embedded-default", "--config", config.name],
                            cwd=config.parent, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                            text=True, env={**os.environ, "CI": "true"})
    try:
        deadline = time.monotonic() + 600  # the first run installs .venv
        while time.monotonic() < deadline:
            assert proc.poll() is None, proc.stderr.read() if proc.stderr else ""
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/v1/health", timeout=2) as r:
                    if r.status == 200:
                        break
            except OSError:
                time.sleep(0.5)
        else:
            pytest.fail("the engine never answered /health")
    finally:
        proc.terminate()
        _, err = proc.communicate(timeout=60)
    return err


def test_run_serves_the_engine_and_a_second_run_installs_nothing(
    tmp_path: Path, socket_enabled: None
) -> None:
    # Given a config that only moves the port (layered over the embedded default), in a
    # folder of the user's own (a relative path, resolved from where they run the command)
    (tmp_path / "port.yaml").write_text(f"server:\n  port: {_free_port()}\n", encoding="utf-8")
    # When ./scripts/run starts twice
    _run_engine_once(tmp_path / "port.yaml")
    second = _run_engine_once(tmp_path / "port.yaml")
    # Then the engine answers both times, the second start installs nothing, and the
    # embedded default's data went to the caller's folder
    assert "installing" not in second, second
    assert (tmp_path / "data" / "homesec.db").exists()
