"""What an analyzer tool returns (:class:`ToolResult`); its protocols, :class:`AnalyzerTool` and
:class:`ParsesPython`, live in ``ai_conductor.protocols`` (re-exported here)."""

from __future__ import annotations

from dataclasses import dataclass, field

from ai_conductor.analysis.models import FileMetrics, Finding
from ai_conductor.protocols import AnalyzerTool, ParsesPython

__all__ = ["AnalyzerTool", "ParsesPython", "ToolResult"]


@dataclass
class ToolResult:
    """What one run of a tool on some files produced, by file (relative POSIX path)."""

    findings: list[Finding] = field(default_factory=list)
    metrics: dict[str, FileMetrics] = field(default_factory=dict)
    failures: dict[str, str] = field(default_factory=dict)
    """Files the tool could not read (relative POSIX path -> short reason, equal for equal
    causes: summaries group by it). These count against the tool's coverage."""
    errors: list[str] = field(default_factory=list)
    """Other problems that did not stop the tool, not tied to one file (shown as warnings; a
    chunk with errors is not cached)."""
