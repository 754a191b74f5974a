"""The README's statement of which commands need root stays true to the scripts."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _root_paragraph() -> str:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    start = readme.index("**Which commands need root.**")
    return readme[start:readme.index("\n\n", start)]


def _commands(path: Path) -> str:
    """A script's commands only: comments and quoted messages (hints to the user) are not run."""
    return "\n".join(re.sub(r'"[^"]*"', '""', line) for line in
                     path.read_text(encoding="utf-8").splitlines()
                     if not line.lstrip().startswith("#"))


def test_scripts_test_installs_nothing_into_the_system_as_the_readme_says() -> None:
    # Given the README's promise about ./scripts/test
    paragraph = _root_paragraph()
    assert "Neither command installs anything" in paragraph
    # Then neither it nor the libraries it uses install packages: Debian's are only
    # downloaded (`apt-get download`, a private apt state, `-s` simulations) and unpacked
    # with `dpkg -x` into the cache
    for path in [ROOT / "scripts" / "test", *sorted((ROOT / "scripts" / "lib").glob("*.sh"))]:
        code = _commands(path)
        assert not re.search(r"apt-get\s+(-\S+\s+)*install|apt\s+install|dpkg\s+(-i|--install)"
                             r"|\bsudo\b", code), path


def test_scripts_run_never_asks_for_root() -> None:
    # Given the README's promise that ./scripts/run needs no root
    assert "`./scripts/run` never does" in _root_paragraph()
    # Then neither it nor the library it uses installs system packages or calls sudo
    for path in (ROOT / "scripts" / "run", ROOT / "scripts" / "lib" / "common.sh"):
        assert not re.search(r"\b(sudo|apt-get|apt|dpkg)\s", _commands(path)), path
