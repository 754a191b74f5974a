"""`./scripts/run` from another directory: relative paths mean what they say there."""

from __future__ import annotations

import hashlib
import shutil
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_a_relative_config_is_read_from_the_callers_directory(tmp_path: Path) -> None:
    # Given a checkout whose .venv is ready (its `homesec` reports where it runs and reads)
    checkout = tmp_path / "checkout"
    shutil.copytree(ROOT / "scripts", checkout / "scripts")
    shutil.copy(ROOT / "pyproject.toml", checkout / "pyproject.toml")
    venv_bin = checkout / ".venv" / "bin"
    venv_bin.mkdir(parents=True)
    (venv_bin / "python").symlink_to(shutil.which("python3") or "/usr/bin/python3")
    (venv_bin / "homesec").write_text(
        '#!/bin/sh\necho "cwd=$PWD"\nshift 2\ncat "$1"\n', encoding="utf-8")
    (venv_bin / "homesec").chmod(0o755)
    digest = hashlib.sha256(b"".join(
        (checkout / name).read_bytes()
        for name in ("pyproject.toml", "scripts/run", "scripts/lib/common.sh"))).hexdigest()
    (checkout / ".venv" / ".homesec-stamp").write_text(digest[:16] + "\n", encoding="utf-8")
    # And a user in their own directory with a config file there
    home = tmp_path / "home"
    home.mkdir()
    (home / "my.yaml").write_text("log_level: debug\n", encoding="utf-8")
    # When they run the script by its path with a relative --config
    result = subprocess.run([str(checkout / "scripts" / "run"), "--config", "my.yaml"],
                            cwd=home, capture_output=True, text=True, timeout=60,
                            env={"PATH": "/usr/bin:/bin", "HOME": str(tmp_path),
                                 "HOMESEC_CACHE_DIR": str(tmp_path / "cache")})
    # Then the engine starts in their directory and reads their file (not one in the checkout)
    assert result.returncode == 0, result.stderr
    assert f"cwd={home}" in result.stdout
    assert "log_level: debug" in result.stdout
    assert "installing" not in result.stderr
