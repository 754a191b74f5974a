"""Every translated string passes hassfest's placeholder rules and the frontend's ICU parse.

hassfest refuses braces that are not `{identifier}` placeholders and placeholders in single
quotes; Home Assistant's frontend renders each string with intl-messageformat, whose parser
(@formatjs/icu-messageformat-parser, from npm) fails on the same strings, and the action editor
then shows a translation error instead of the description. The parser is installed into the
test cache (~/.cache/homesec/npm) on first use with the machine's npm.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
INTEGRATION = ROOT / "custom_components" / "homesec"
TRANSLATION_FILES = [INTEGRATION / "strings.json",
                     *sorted((INTEGRATION / "translations").glob("*.json"))]
ICU_PARSER = "@formatjs/icu-messageformat-parser@3"
# The project's cache folder (./scripts/test and tests/conftest.py pin HOMESEC_CACHE_DIR), npm's
# own download cache and logs included: nothing lands in ~/.npm.
NPM_CACHE = Path(os.environ.get("HOMESEC_CACHE_DIR") or Path.home() / ".cache" / "homesec") / "npm"

_BRACED = re.compile(r"\{([^{}]*)\}")
_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_SINGLE_QUOTED_PLACEHOLDER = re.compile(r"'[^']*\{[^}]+\}[^']*'")
_REFERENCE = re.compile(r"\[%key:[^%]+%\]")


def placeholder_errors(text: str) -> list[str]:
    """hassfest's rules: braces only as `{identifier}` placeholders, never single-quoted."""
    errors = []
    if _SINGLE_QUOTED_PLACEHOLDER.search(text):
        errors.append("placeholder in single quotes")
    plain = _REFERENCE.sub("", text)
    for inner in _BRACED.findall(plain):
        if not _IDENTIFIER.match(inner):
            errors.append(f"{{{inner}}} is not a placeholder")
    if "{" in _BRACED.sub("", plain) or "}" in _BRACED.sub("", plain):
        errors.append("a brace that opens or closes no placeholder")
    return errors


def _strings(node: object, path: str = "") -> list[tuple[str, str]]:
    if isinstance(node, dict):
        return [s for key, value in node.items() for s in _strings(value, f"{path}.{key}")]
    return [(path.lstrip("."), node)] if isinstance(node, str) else []


def all_translated() -> list[tuple[str, str]]:
    return [(f"{file.name}:{key}", text) for file in TRANSLATION_FILES
            for key, text in _strings(json.loads(file.read_text(encoding="utf-8")))]


@pytest.fixture(scope="module")
def icu_parser_dir() -> Path:
    """The npm folder holding the frontend's ICU message parser (installed once)."""
    node, npm = shutil.which("node"), shutil.which("npm")
    if node is None or npm is None:
        pytest.skip("Node.js and npm are needed to run the frontend's ICU message parser")
    target = NPM_CACHE / "icu-messageformat-parser"
    if not (target / "node_modules" / "@formatjs" / "icu-messageformat-parser").is_dir():
        target.mkdir(parents=True, exist_ok=True)
        subprocess.run([npm, "install", "--prefix", str(target), "--no-audit", "--no-fund",
                        "--cache", str(NPM_CACHE / "_cacache"), "--update-notifier=false",
                        ICU_PARSER], check=True, capture_output=True, timeout=300)
    return target


def icu_failures(parser_dir: Path, texts: list[str]) -> list[dict[str, str]]:
    done = subprocess.run(["node", str(ROOT / "tests" / "icu_parse.mjs"), str(parser_dir)],
                          input=json.dumps(texts), capture_output=True, text=True,
                          check=True, timeout=120)
    failures: list[dict[str, str]] = json.loads(done.stdout)
    return failures


def test_the_checks_reject_an_inline_json_example(icu_parser_dir: Path) -> None:
    # Given the kind of description hassfest failed on: an inline JSON example
    bad = 'Zones, e.g. [{"name": "path", "classes": ["person"]}].'
    # When both checks read it, and a string with a real placeholder
    # Then both reject the example and accept the placeholder
    assert placeholder_errors(bad)
    assert icu_failures(icu_parser_dir, [bad])
    assert not placeholder_errors("The disk of {title} has {free_percent}% free.")
    assert not icu_failures(icu_parser_dir, ["The disk of {title} has {free_percent}% free."])


def test_every_translated_string_passes_hassfest_placeholder_rules() -> None:
    # Given every string of strings.json and translations/*.json
    strings = all_translated()
    assert len(strings) > 100
    # When hassfest's placeholder rules read them
    errors = {key: placeholder_errors(text) for key, text in strings}
    # Then none has a brace that is not a placeholder
    assert {key: e for key, e in errors.items() if e} == {}


def test_every_translated_string_parses_as_an_icu_message(icu_parser_dir: Path) -> None:
    # Given every string of strings.json and translations/*.json
    strings = all_translated()
    # When the frontend's ICU message parser reads them
    failures = icu_failures(icu_parser_dir, [text for _, text in strings])
    # Then every one parses (the action editor and dialogs show them, not an error)
    assert failures == []
