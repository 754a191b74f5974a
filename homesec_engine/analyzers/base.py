"""The analyzer interface: a clip (and what the filter saw) in, an Analysis out."""

from __future__ import annotations

import asyncio
import logging
import time
from abc import ABC, abstractmethod
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import aiohttp

from ..filters.base import FilterOutput
from ..records import RISK_LEVELS, Analysis
from ..schema.config import ACTIVITY_TYPES

_LOGGER = logging.getLogger(__name__)

# What every analyzer is asked for and how its answer is read (one place for both backends).
INSTRUCTIONS = (
    "You are the analyst of a home security camera system. Describe what happens and judge "
    "how worrying it is for the home owner. Answer with activity_type (one of: "
    f"{', '.join(ACTIVITY_TYPES)}), risk_level (low, medium, high or critical) and summary "
    "(one or two plain sentences)."
)
MAX_SUMMARY = 1000
MAX_BACKOFF_S = 10.0


class AnalyzerError(Exception):
    """The analyzer gave no usable answer (after its retries)."""


class Retryable(Exception):
    """A failure that may pass: a timeout, a 5xx or 429, an answer not in the asked shape."""


def analysis_from(obj: Any) -> Analysis:
    """The Analysis in an answer object; Retryable when it is not what was asked."""
    if not isinstance(obj, dict):
        raise Retryable("the analyzer answer is not a JSON object")
    risk = str(obj.get("risk_level", "")).strip().lower()
    if risk not in RISK_LEVELS:
        raise Retryable("the analyzer answer has no valid risk_level")
    activity = str(obj.get("activity_type", "")).strip().lower()
    if activity not in ACTIVITY_TYPES:
        activity = "other"  # a model inventing a type still gives a usable alert
    summary = obj.get("summary")
    if not isinstance(summary, str):
        raise Retryable("the analyzer answer has no summary")
    return Analysis(activity_type=activity, risk_level=risk, summary=summary.strip()[:MAX_SUMMARY])


class Analyzer(ABC):
    name = "analyzer"
    # Set by backends that attach the clip's stored snapshot: the pipeline then hands them
    # the clip id once the clip and its snapshot are stored (bounded wait).
    needs_stored_snapshot = False
    max_retries = 0
    backoff_s = 1.0
    last_error: str | None = None
    last_latency_ms: float | None = None

    async def _retrying(self, request: Callable[[], Awaitable[Analysis]]) -> Analysis:
        """`request()` until it answers, retrying Retryable failures max_retries times with
        exponential backoff; records the error and latency for status()."""
        attempt = 0
        while True:
            started = time.monotonic()
            try:
                analysis = await request()
            except Retryable as err:
                self.last_error = str(err)
                if attempt >= self.max_retries:
                    raise AnalyzerError(f"{err} (after {attempt + 1} attempts)") from err
                delay = min(MAX_BACKOFF_S, self.backoff_s * 2**attempt)
                _LOGGER.info("analyzer: %s; retrying in %.1f s", err, delay)
                attempt += 1
                await asyncio.sleep(delay)
                continue
            except AnalyzerError as err:
                self.last_error = str(err)
                raise
            self.last_latency_ms = round((time.monotonic() - started) * 1000, 1)
            self.last_error = None
            return analysis

    async def start(self) -> None:
        """Open connections; called once by the runtime."""

    async def close(self) -> None:
        """Release connections."""

    def status(self) -> dict[str, Any]:
        return {"status": "ok", "error": None}

    @abstractmethod
    async def analyze(self, path: Path, filtered: FilterOutput,
                      clip_id: str | None = None) -> Analysis:
        """Describe the clip; raises AnalyzerError when no usable answer came. `clip_id` is
        given to backends that need the stored clip (needs_stored_snapshot)."""


class HttpAnalyzer(Analyzer):
    """An analyzer asking an HTTP API: one client session, a timeout, retries."""

    def __init__(self, config: dict[str, Any], *, backoff_s: float = 1.0) -> None:
        self.config = config
        self.timeout_s = float(config.get("timeout_s", 30.0))
        self.max_retries = int(config.get("max_retries", 2))
        self.backoff_s = backoff_s
        self._session: aiohttp.ClientSession | None = None

    async def start(self) -> None:
        if self._session is None:
            self._session = aiohttp.ClientSession()

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def session(self) -> aiohttp.ClientSession:
        """The open session (opened on first use when start() was not called)."""
        if self._session is None:
            await self.start()
        assert self._session is not None
        return self._session
