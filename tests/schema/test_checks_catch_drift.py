"""The stale check and the parity check can fail: a declaration changed in a copy of the tree
without regenerating is caught by both."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _copy_tree(dest: Path) -> Path:
    """The schema package, the integration and the schema tests, in a scratch folder."""
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
    for part in ("homesec_engine", "custom_components", "tests/schema"):
        shutil.copytree(ROOT / part, dest / part, ignore=ignore)
    (dest / "docs").mkdir()
    for part in ("tests/conftest.py", "pyproject.toml", "docs/configuration.md"):
        shutil.copy2(ROOT / part, dest / part)
    (dest / "tests" / "__init__.py").touch()
    return dest


def _declare_longer_camera_names(tree: Path) -> None:
    """Hand edit of one declaration: camera names may now be 80 characters long."""
    fields = tree / "homesec_engine" / "schema" / "fields.py"
    text = fields.read_text(encoding="utf-8")
    assert "64" in text
    fields.write_text(text.replace("64", "80"), encoding="utf-8")


def test_a_declaration_changed_without_regenerating_fails_both_checks(tmp_path: Path) -> None:
    # Given a copy of the tree where a declaration changed but nothing was regenerated
    tree = _copy_tree(tmp_path / "tree")
    _declare_longer_camera_names(tree)
    # When the generator's --check runs there
    check = subprocess.run([sys.executable, "-m", "homesec_engine.schema.generate", "--check"],
                           cwd=tree, capture_output=True, text=True, timeout=120)
    # Then it fails and names the stale file
    assert check.returncode == 1, check.stdout + check.stderr
    assert "schema_data.py" in check.stdout + check.stderr
    # And the parity tests (engine validator vs the integration's generated one) fail too
    parity = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-x",
         "tests/schema/test_generated.py", "-k", "equal_the_engine or accept_and_reject"],
        cwd=tree, capture_output=True, text=True, timeout=300)
    assert parity.returncode == 1, parity.stdout[-2000:]
    assert "failed" in parity.stdout


def test_the_untouched_copy_passes_both_checks(tmp_path: Path) -> None:
    # Given the same copy without the edit (so the failures above are the edit's doing)
    tree = _copy_tree(tmp_path / "tree")
    # When the generator's --check runs there, Then everything is fresh
    check = subprocess.run([sys.executable, "-m", "homesec_engine.schema.generate", "--check"],
                           cwd=tree, capture_output=True, text=True, timeout=120)
    assert check.returncode == 0, check.stdout + check.stderr
