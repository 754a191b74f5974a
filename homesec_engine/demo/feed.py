"""The embedded default's demo camera feed: the demo footage as a looping RTSP stream.

`./scripts/run` makes the footage once (footage.py) and names it in HOMESEC_DEMO_FOOTAGE; the
engine then serves it on a free loopback port for the life of the process (across in-process
restarts), and the demo camera is an ordinary `rtsp` camera reading it. Without the footage,
or when it cannot be served, the demo camera is the synthetic scene, and says so.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

from .rtsp_server import RtspServer

_LOGGER = logging.getLogger(__name__)

FOOTAGE_ENV = "HOMESEC_DEMO_FOOTAGE"


def start_demo_feed() -> RtspServer | None:
    """The running feed, or None (the demo camera then shows the synthetic scene)."""
    footage = os.environ.get(FOOTAGE_ENV)
    if not footage:
        _LOGGER.info("no demo footage (%s unset): the demo camera shows a synthetic scene",
                     FOOTAGE_ENV)
        return None
    try:
        server = RtspServer(Path(footage), loop=True)
        server.start()
    except (OSError, ValueError) as err:  # missing, unreadable or not H.264 in MP4
        _LOGGER.warning("demo footage %s cannot be served (%s): the demo camera shows a "
                        "synthetic scene", footage, err)
        return None
    _LOGGER.info("demo camera: real footage %s looping at %s", footage, server.url)
    return server
