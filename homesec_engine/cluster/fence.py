"""Fencing on every clip write (cluster mode), not only at lease renewal.

Each new clip row an engine writes carries the fencing token under which it held the clip's
camera (its last one for that camera: a clip may be written after the camera was given up,
or replayed from the outbox much later). The database applies the write in the same
transaction as this check against `cluster_leases`:

- the token is the camera's current one: written;
- another engine took the camera since (a higher token): written only when the clip ended
  before that engine took it. A clip this engine recorded while it held the camera (kept in
  its outbox through an outage, or its last one before giving the camera up) ends before
  the take, since an engine stops a camera `stop_margin_s` before its lease can run out;
  a clip that ends after it, which only an engine that was paused and woke up still
  recording under its old token can make, would record the camera twice: it is refused and
  so are the clip's later writes (repository.py drops them and removes the files they
  name).

The clip's end is the recording engine's clock, the take the database's: the stop margin
(heartbeat_s, 5 s by default) is also how far those clocks may disagree, which NTP gives.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection

from .store import leases_table

_LOGGER = logging.getLogger(__name__)


class ClipFence:
    def __init__(self, engine_id: str, token_of: Callable[[str], int | None]) -> None:
        self._engine_id = engine_id
        self._token_of = token_of

    def stamp(self, camera: str) -> dict[str, Any] | None:
        """What a new clip row of `camera` carries: this engine and its token for it (None
        for a camera it never held)."""
        token = self._token_of(camera)
        return None if token is None else {"engine": self._engine_id, "token": token}

    async def refusal(self, session: AsyncConnection, camera: str, stamp: Mapping[str, Any],
                      ended_at: datetime) -> str | None:
        """Why a clip of `camera` stamped `stamp` and ending at `ended_at` (its start while
        it is still recording) must not be written; None when it may (read in the write's
        own transaction)."""
        table = leases_table
        row = (await session.execute(
            select(table.c.engine_id, table.c.token, table.c.taken_at)
            .where(table.c.camera == camera))).first()
        token = int(stamp["token"])
        if row is None or (row.engine_id == stamp["engine"] and int(row.token) == token):
            return None
        if int(row.token) > token and row.taken_at is not None and ended_at <= row.taken_at:
            return None  # recorded before the camera moved: this engine's to write
        return (f"camera {camera} was taken by engine {row.engine_id} (token {row.token}) at "
                f"{row.taken_at}, before this clip ended at {ended_at}: engine "
                f"{stamp['engine']} recorded it under its lost token {token}")
