"""The README's statement of which commands need root stays true to the scripts."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _root_paragraph() -> str:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    start = readme.index("**Which commands need root.**")
    return readme[start:readme.index("\n\n", start)]


def test_the_readme_names_exactly_the_packages_scripts_test_installs() -> None:
    # Given the packages ./scripts/test installs with apt-get when they are missing
    script = (ROOT / "scripts" / "test").read_text(encoding="utf-8")
    installed = set(re.findall(r"missing\+=\((\w+)\)", script))
    assert installed and "apt-get install" in script
    # When a user reads the README's paragraph on root
    paragraph = _root_paragraph()
    named = set(re.findall(r"`([a-z0-9.+-]+)`", paragraph)) - {"./scripts/run", "./scripts/test",
                                                             "apt-get", ".venv", "./data"}
    # Then it names those packages, no more and no fewer
    assert named == installed, (named, installed)


def test_scripts_run_never_asks_for_root() -> None:
    # Given the README's promise that ./scripts/run needs no root
    assert "`./scripts/run` never does" in _root_paragraph()
    # Then neither it nor the library it uses installs system packages or calls sudo
    for path in (ROOT / "scripts" / "run", ROOT / "scripts" / "lib" / "common.sh"):
        text = path.read_text(encoding="utf-8")
        # Commands only: comments and quoted messages (a hint to the user) are not run
        code = "\n".join(re.sub(r'"[^"]*"', '""', line) for line in text.splitlines()
                         if not line.lstrip().startswith("#"))
        assert not re.search(r"\b(sudo|apt-get|apt|dpkg)\s", code), path
