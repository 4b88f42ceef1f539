"""The analyzer's data: findings, hotspots, tool runs and the report (``analysis.json``).

``AnalysisReport`` is the documented, versioned schema of ``analysis.json`` (the input of
``conductor implement``): see ``docs/analysis-json.md``. Bump ``SCHEMA_VERSION`` on any
incompatible change.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

SCHEMA_VERSION = "1.1"


class _Model(BaseModel):
    model_config = ConfigDict(use_attribute_docstrings=True)


class Severity(StrEnum):
    CRITICAL = "critical"
    HIGH = "high"
    MEDIUM = "medium"
    LOW = "low"
    INFO = "info"

    @property
    def rank(self) -> int:
        """4 for critical down to 0 for info: compare with ``>=`` for gates."""
        return _RANKS[self]


_RANKS = {
    Severity(name): rank for rank, name in enumerate(["info", "low", "medium", "high", "critical"])
}


class Category(StrEnum):
    SECURITY = "security"
    BUG = "bug"
    COMPLEXITY = "complexity"
    PERFORMANCE = "performance"
    MAINTAINABILITY = "maintainability"
    STYLE = "style"


class FindingStatus(StrEnum):
    NEW = "new"
    """Not in the previous run of the same codebase."""
    EXISTING = "existing"
    """Also in the previous run."""
    FIXED = "fixed"
    """In the previous run, gone now."""


class TraceStep(_Model):
    """One location on the path request data takes to a sink (a taint finding's trace)."""

    kind: Literal["source", "step", "sink"]
    """``source``: where the data enters; ``step``: a variable it passes through; ``sink``."""
    path: str
    """POSIX path relative to the codebase root."""
    line: int = Field(ge=1)
    column: int = Field(default=1, ge=1)
    end_line: int | None = None
    end_column: int | None = None
    code: str = ""
    """The expression or variable at this location, e.g. ``request.args``."""


class Finding(_Model):
    """One problem, normalised across tools."""

    tool: str
    """The tool that reported it first (ruff, bandit, radon, ...)."""
    rule_id: str
    """The tool's rule code, e.g. S608, B608, F821, CC."""
    rule_name: str = ""
    """Short human name of the rule, e.g. hardcoded-sql-expression."""
    severity: Severity
    category: Category
    path: str
    """POSIX path relative to the codebase root."""
    line: int = Field(ge=1)
    end_line: int = Field(ge=1)
    column: int = Field(default=1, ge=1)
    end_column: int | None = None
    message: str
    fixable: bool = False
    """A safe automatic fix exists (the builtin implementer may apply it)."""
    tags: list[str] = Field(default_factory=list)
    """Extra focus labels (database, api, algorithms, ...) and CWE ids (CWE-89)."""
    help_uri: str | None = None
    fingerprint: str = ""
    """Stable id: rule + path + normalised source context; survives lines moving."""
    also_reported_by: list[str] = Field(default_factory=list)
    """Merged duplicates from other tools, as ``tool:rule_id``."""
    status: FindingStatus = FindingStatus.NEW
    trace: list[TraceStep] = Field(default_factory=list)
    """Taint findings: how request data reaches the sink, source first, sink last (1.1; empty
    for pattern findings)."""

    def sort_key(self) -> tuple[int, str, int, str]:
        return (-self.severity.rank, self.path, self.line, self.rule_id)


class Hotspot(_Model):
    """A function or file worth attention first: complex, and (in git) often changed."""

    path: str
    name: str
    """Function, method or class name; empty for a whole file."""
    line: int
    complexity: int
    """Cyclomatic complexity (radon)."""
    rank: str
    """radon's rank A (simple) to F (very complex)."""
    churn: int = 0
    """Commits touching the file in the git history considered (0 outside git)."""
    score: float = 0.0
    """complexity x (1 + churn): the ordering key."""


class FileMetrics(_Model):
    """Per-file metrics a tool produced (cached with the file's findings)."""

    maintainability: float | None = None
    """radon maintainability index, 0-100 (higher is better)."""
    functions: list[Hotspot] = Field(default_factory=list)


class FileFailure(_Model):
    """A file a tool could not read, and why (coverage is never silently lost)."""

    path: str
    """POSIX path relative to the codebase root."""
    reason: str
    """Why, e.g. ``syntax Python 3.11 cannot parse``; equal reasons group in summaries."""


class ToolRun(_Model):
    """One tool's part in the run: what it read, what it could not, and why."""

    name: str
    version: str | None = None
    available: bool = True
    """False when the tool is not installed (its checks were skipped)."""
    files_analyzed: int = 0
    """Files the tool was run on in this run (not from the cache)."""
    files_from_cache: int = 0
    """Files whose result (findings, or failure) came from the per-file cache."""
    files_failed: int = 0
    """Files the tool could not read, in this run or cached (each is in ``failures``)."""
    failures: list[FileFailure] = Field(default_factory=list)
    """Every file the tool could not read, with the reason (sorted by path)."""
    python: str | None = None
    """Python version the tool parsed the code with (bandit, radon); None for tools with
    their own parser (ruff, semgrep)."""
    duration_s: float = 0.0
    error: str | None = None
    """Why the tool (or part of its run) failed, when it did; those files are in ``failures``."""

    @property
    def files_total(self) -> int:
        """Files the tool was responsible for (analysed now or from the cache)."""
        return self.files_analyzed + self.files_from_cache

    @property
    def files_read(self) -> int:
        return max(0, self.files_total - self.files_failed)

    def coverage(self) -> float:
        """Percentage of its files the tool read: 100 with nothing to read, 0 when missing."""
        if not self.available:
            return 0.0
        total = self.files_total
        return 100.0 if total == 0 else 100.0 * self.files_read / total


class SkippedFile(_Model):
    path: str
    reason: str


class Summary(_Model):
    total: int = 0
    by_severity: dict[str, int] = Field(default_factory=dict)
    by_category: dict[str, int] = Field(default_factory=dict)
    new: int = 0
    existing: int = 0
    fixed: int = 0
    dismissed: int = 0


class AnalysisReport(_Model):
    """The content of ``analysis.json``."""

    schema_version: str = SCHEMA_VERSION
    generator: str = "ai-conductor"
    generator_version: str = ""
    run_id: str
    codebase: str
    """Absolute path that was analysed."""
    codebase_id: str
    """Identity used to compare runs: the path, or 'git-url#branch' for clones."""
    started_at: datetime
    finished_at: datetime
    focus: list[str] = Field(default_factory=list)
    tools: list[ToolRun] = Field(default_factory=list)
    files_analyzed: int = 0
    skipped: list[SkippedFile] = Field(default_factory=list)
    summary: Summary = Field(default_factory=Summary)
    findings: list[Finding] = Field(default_factory=list)
    fixed: list[Finding] = Field(default_factory=list)
    """Findings of the previous run that are gone (status ``fixed``)."""
    hotspots: list[Hotspot] = Field(default_factory=list)
    warnings: list[str] = Field(default_factory=list)
    extra: dict[str, Any] = Field(default_factory=dict)
