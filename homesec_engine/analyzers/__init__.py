"""Analyzers (vision-language models) that describe a clip: activity, risk level, summary."""

from .base import Analyzer, AnalyzerError
from .openai_compat import OpenAICompatibleAnalyzer

ANALYZER_BACKENDS: dict[str, type[Analyzer]] = {"openai": OpenAICompatibleAnalyzer}

__all__ = ["ANALYZER_BACKENDS", "Analyzer", "AnalyzerError", "OpenAICompatibleAnalyzer"]
