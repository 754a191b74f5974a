"""The guard in tests/conftest.py that turns HA deprecation reports about HomeSec into failures."""

from __future__ import annotations

import logging

from tests.conftest import _DeprecationCollector


def test_a_deprecation_report_naming_homesec_is_caught() -> None:
    # Given the collector the autouse guard installs
    collector = _DeprecationCollector()
    logger = logging.getLogger("homeassistant.helpers.frame.guard_test")
    logger.propagate = False  # only this collector hears it, not this test's own guard
    logger.addHandler(collector)
    try:
        # When HA reports a deprecated call by HomeSec, and one by another integration
        logger.warning("Detected that custom integration 'homesec' calls a deprecated thing; "
                       "this will stop working in Home Assistant 2027.8")
        logger.warning("Detected that custom integration 'other' calls a deprecated thing")
    finally:
        logger.removeHandler(collector)
    # Then only HomeSec's is collected (and would fail the test that caused it)
    assert len(collector.found) == 1 and "homesec" in collector.found[0]
