"""The repository's LICENSE: what HACS's license check (GitHub's SPDX detection) reads."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_license_file_is_the_apache_2_text_that_pyproject_declares() -> None:
    # Given the LICENSE file at the root and the package metadata
    text = (ROOT / "LICENSE").read_text(encoding="utf-8")
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    words = " ".join(text.split())
    # Then it is the whole Apache License 2.0 (all nine sections and the end marker), the
    # license the package declares
    assert pyproject["project"]["license"] == "Apache-2.0"
    assert words.startswith("Apache License Version 2.0, January 2004")
    sections = re.findall(r"\b(\d)\. (Definitions|Grant of Copyright License|Grant of Patent "
                          r"License|Redistribution|Submission of Contributions|Trademarks|"
                          r"Disclaimer of Warranty|Limitation of Liability|Accepting Warranty "
                          r"or Additional Liability)\.", words)
    assert [int(n) for n, _ in sections] == list(range(1, 10))
    assert "END OF TERMS AND CONDITIONS" in words
