"""Where the tests find PostgreSQL and Mosquitto.

`./scripts/test` uses the machine's servers on 127.0.0.1:5432 and :1883 when they answer, and
otherwise starts private ones on free loopback ports and names them here through
HOMESEC_TEST_PG_URL (a trust-auth superuser `postgres`, database `test`) and
HOMESEC_TEST_MQTT_PORT. Every test reads the addresses from this module, never a literal port.
"""

from __future__ import annotations

import os
from urllib.parse import urlsplit, urlunsplit

PG_URL = os.environ.get("HOMESEC_TEST_PG_URL", "postgresql://postgres@127.0.0.1:5432/test")
MQTT_HOST = "127.0.0.1"
MQTT_PORT = int(os.environ.get("HOMESEC_TEST_MQTT_PORT", "1883"))


def pg_url(database: str | None = None, *, password: str | None = None) -> str:
    """PG_URL for another database on the same server, or with a (URL-quoted) password."""
    parts = urlsplit(PG_URL)
    netloc = parts.netloc
    if password is not None:
        user, _, host = netloc.rpartition("@")
        netloc = f"{user.split(':')[0]}:{password}@{host}"
    path = f"/{database}" if database is not None else parts.path
    return urlunsplit((parts.scheme, netloc, path, parts.query, parts.fragment))
