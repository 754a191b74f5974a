"""Strict typing holds for the integration (quality-scale rule strict-typing) and the engine."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_mypy_strict_passes() -> None:
    # Given mypy.ini (strict, over custom_components/homesec and homesec_engine)
    # When mypy runs
    result = subprocess.run([sys.executable, "-m", "mypy"], cwd=ROOT, capture_output=True,
                            text=True, timeout=900)
    # Then it reports no error
    assert result.returncode == 0, result.stdout + result.stderr
