"""The set-up scripts a new user runs first."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SCRIPTS = [ROOT / "scripts" / "bootstrap.sh", ROOT / "scripts" / "run",
           ROOT / "scripts" / "test", ROOT / ".ci" / "run"]


@pytest.mark.skipif(shutil.which("shellcheck") is None, reason="shellcheck not installed")
def test_setup_scripts_pass_shellcheck() -> None:
    # Given the scripts behind the README's two commands and CI
    # When shellcheck reads them
    result = subprocess.run(["shellcheck", *map(str, SCRIPTS)], capture_output=True, text=True)
    # Then it finds nothing
    assert result.returncode == 0, result.stdout


def test_ci_runs_exactly_the_readme_test_command() -> None:
    # Given the README's test command
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "./scripts/test" in readme and "./scripts/run" in readme
    # Then CI calls that command, so a missing install step fails in CI first
    assert "./scripts/test" in (ROOT / ".ci" / "run").read_text(encoding="utf-8")


def test_bootstrap_is_quick_when_nothing_changed() -> None:
    # Given an environment the bootstrap has prepared (this test runs inside it)
    # When it runs again with nothing changed
    result = subprocess.run(["bash", str(ROOT / "scripts" / "bootstrap.sh"), "run"],
                            capture_output=True, text=True, timeout=60)
    # Then it succeeds without installing anything
    assert result.returncode == 0, result.stderr
    assert "installing" not in result.stderr
