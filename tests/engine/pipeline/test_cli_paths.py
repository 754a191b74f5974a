"""`homesec run` with relative config paths and several merged files, as a real process."""

from __future__ import annotations

import json
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from tests.videotools import free_port

from .test_cli import stop, wait_healthy


def test_relative_config_survives_restart_and_overrides_go_beside_it(tmp_path: Path) -> None:
    # Given a config in ./conf, given relative to where the user stands
    port = free_port()
    conf = tmp_path / "conf"
    conf.mkdir()
    (conf / "main.yaml").write_text(
        f"server:\n  port: {port}\n"
        f"state:\n  url: sqlite:///{tmp_path}/homesec.db\n  outbox_path: {tmp_path}/outbox\n"
        f"storage:\n  backend: local\n  path: {tmp_path}/clips\n", encoding="utf-8")
    proc = subprocess.Popen(
        [sys.executable, "-m", "homesec_engine", "run", "--config", "conf/main.yaml"],
        cwd=tmp_path, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
        stderr=open(tmp_path / "stderr.log", "wb"))  # noqa: SIM115 - closed with the process
    url = f"http://127.0.0.1:{port}"
    try:
        wait_healthy(url, proc)
        # When the policy is changed through the API and the engine restarts in-process
        body = json.dumps({"alert_policy": {"min_risk_level": "high"}}).encode()
        request = urllib.request.Request(f"{url}/api/v1/alert-policy", data=body, method="PUT",
                                         headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(request, timeout=5) as resp:
            assert resp.status == 200
        restart = urllib.request.Request(f"{url}/api/v1/system/restart", data=b"",
                                         method="POST")
        with urllib.request.urlopen(restart, timeout=5) as resp:
            assert resp.status == 202
        time.sleep(0.5)
        wait_healthy(url, proc)
        # Then the change was written beside the first config file, and the restarted
        # engine read the same files again (same port, same policy)
        assert "min_risk_level: high" in (conf / "overrides.yaml").read_text(encoding="utf-8")
        with urllib.request.urlopen(f"{url}/api/v1/alert-policy", timeout=5) as resp:
            assert json.loads(resp.read())["alert_policy"]["min_risk_level"] == "high"
    finally:
        assert stop(proc) == 0, (tmp_path / "stderr.log").read_text()


def test_an_error_in_the_second_config_file_names_it_and_its_line(tmp_path: Path) -> None:
    # Given a base file and a second file whose line 4 sets an impossible port
    (tmp_path / "base.yaml").write_text("log_level: info\n", encoding="utf-8")
    (tmp_path / "local.yaml").write_text("# local changes\nlog_level: debug\nserver:\n"
                                         "  port: 99999\n", encoding="utf-8")
    # When both are given to `homesec run`
    result = subprocess.run([sys.executable, "-m", "homesec_engine", "run", "--embedded-default",
                             "--config", "base.yaml", "--config", "local.yaml"],
                            cwd=tmp_path, capture_output=True, text=True, timeout=60)
    # Then it exits with 2 and says local.yaml:4 set server.port, without a traceback
    assert result.returncode == 2
    assert f"{tmp_path / 'local.yaml'}:4: server.port:" in result.stderr, result.stderr
    assert "base.yaml" not in result.stderr
    assert "Traceback" not in result.stderr
