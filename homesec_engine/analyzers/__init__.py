"""Analyzers (vision-language models) that describe a clip: activity, risk level, summary."""

from .base import Analyzer, AnalyzerError
from .home_assistant import HomeAssistantAnalyzer
from .openai_compat import OpenAICompatibleAnalyzer

ANALYZER_BACKENDS: dict[str, type[Analyzer]] = {"openai": OpenAICompatibleAnalyzer,
                                                "home_assistant": HomeAssistantAnalyzer}

__all__ = ["ANALYZER_BACKENDS", "Analyzer", "AnalyzerError", "HomeAssistantAnalyzer",
           "OpenAICompatibleAnalyzer"]
