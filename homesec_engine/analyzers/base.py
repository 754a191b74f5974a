"""The analyzer interface: a clip (and what the filter saw) in, an Analysis out."""

from __future__ import annotations

from abc import ABC, abstractmethod
from pathlib import Path
from typing import Any

from ..filters.base import FilterOutput
from ..records import Analysis


class AnalyzerError(Exception):
    """The analyzer gave no usable answer (after its retries)."""


class Analyzer(ABC):
    name = "analyzer"

    async def start(self) -> None:
        """Open connections; called once by the runtime."""

    async def close(self) -> None:
        """Release connections."""

    def status(self) -> dict[str, Any]:
        return {"status": "ok", "error": None}

    @abstractmethod
    async def analyze(self, path: Path, filtered: FilterOutput) -> Analysis:
        """Describe the clip; raises AnalyzerError when no usable answer came."""
