"""Test-session set-up shared by every test folder."""

# Import the repository's integration first so it wins over the HA test plugin's own
# `custom_components` testing package.
import custom_components  # noqa: F401

import os

# Every engine a test starts checks its responses against the OpenAPI document (undeclared
# keys or status codes answer 500): see homesec_engine/api/shapes.py.
os.environ.setdefault("HOMESEC_STRICT_RESPONSES", "1")
# onnxruntime (its device-id file) and Chromium keep files under XDG_CACHE_HOME: into the
# project's cache folder as ./scripts/test does, also when pytest is run directly.
# The cache folder is pinned first (as ./scripts/test does) so the scripts the tests run do not
# derive a second one from the moved XDG_CACHE_HOME.
os.environ.setdefault("HOMESEC_CACHE_DIR", os.path.join(
    os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"), "homesec"))
os.environ.setdefault("XDG_CACHE_HOME", os.path.join(os.environ["HOMESEC_CACHE_DIR"], "xdg"))

import logging
import re
from collections.abc import Iterator

import pytest

# Home Assistant's camera module looks for libturbojpeg when imported and logs a 15-line
# traceback on a machine without it (it then scales snapshots with Pillow, which the tests use).
logging.getLogger("homeassistant.components.camera.img_util").setLevel(logging.CRITICAL)

# Home Assistant announces what stops working in a later release ("... is deprecated ...",
# "This will stop working in Home Assistant 2027.8"); one that names HomeSec fails the test
# that caused it, so a deprecation is fixed while the compat path is still there.
_DEPRECATION = re.compile(r"deprecat|will stop working|breaks in", re.IGNORECASE)


class _DeprecationCollector(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.found: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        if not record.name.startswith("homeassistant"):
            return
        message = record.getMessage()
        if "homesec" in message.lower() and _DEPRECATION.search(message):
            self.found.append(message)


@pytest.fixture(autouse=True)
def _no_homeassistant_deprecations_from_homesec() -> Iterator[None]:
    collector = _DeprecationCollector()
    logging.getLogger().addHandler(collector)
    try:
        yield
    finally:
        logging.getLogger().removeHandler(collector)
    assert not collector.found, "Home Assistant reports deprecated use:\n" + "\n".join(collector.found)
