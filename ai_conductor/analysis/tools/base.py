"""The analyzer-tool plugin interface: one established tool, run on a chunk of files."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Protocol, runtime_checkable

from ai_conductor.analysis.models import FileMetrics, Finding

if TYPE_CHECKING:
    from ai_conductor.analysis.toolenv import ToolPython


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


@runtime_checkable
class ParsesPython(Protocol):
    """A tool that reads code with the grammar of the interpreter it runs under (bandit,
    radon): the engine tells it which interpreter can parse the codebase before it runs, and
    its ``config_key`` includes that interpreter's version.

    Optional attributes of any tool: ``in_subprocess = True`` when its work runs in child
    processes (the engine then runs its chunks on threads, not in a process pool)."""

    def use_python(self, python: ToolPython) -> None: ...
