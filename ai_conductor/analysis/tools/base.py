"""The analyzer-tool plugin interface: one established tool, run on a chunk of files."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol, runtime_checkable

from ai_conductor.analysis.models import FileMetrics, Finding


@dataclass
class ToolResult:
    """What one run of a tool on some files produced, by file (relative POSIX path)."""

    findings: list[Finding] = field(default_factory=list)
    metrics: dict[str, FileMetrics] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)
    """Problems running the tool that did not stop it (e.g. a file it could not parse)."""


@runtime_checkable
class AnalyzerTool(Protocol):
    """An analyzer plugin. Findings carry paths relative to ``root``; ``fingerprint`` is left
    empty (the engine computes it from the source)."""

    name: str
    per_file: bool
    """True when a file's findings depend on that file alone (so they can be cached per file
    and the tool can run on chunks in parallel); False for whole-program tools."""
    parallel: bool
    """True when running chunks in separate processes pays (slow single-threaded tools)."""

    def version(self) -> str | None:
        """The installed tool's version, or None when it is not installed."""
        ...

    def config_key(self) -> str:
        """A string that changes whenever the tool's rule selection or options change."""
        ...

    def run(self, root: Path, files: list[str]) -> ToolResult:
        """Analyse ``files`` (relative to ``root``); raise ``AnalysisToolError`` on failure."""
        ...
