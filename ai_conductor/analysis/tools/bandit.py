"""bandit: the security linter. Single-threaded and slow, so the engine runs it on chunks of
files at once (each chunk is a bandit process). Exit code 1 only means "issues found".

bandit parses with the interpreter it runs under: it runs under the one chosen for the codebase
(see ``analysis/toolenv.py``), and every file it cannot parse is a failure with the reason.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ai_conductor.analysis.models import Category, Finding, Severity
from ai_conductor.analysis.rules import tags_for
from ai_conductor.analysis.toolenv import ToolPython, current
from ai_conductor.analysis.tools import batches, binary_version, find_binary, relative, run_command
from ai_conductor.analysis.tools.base import ToolResult
from ai_conductor.errors import AnalysisToolError

LEVELS = {"HIGH": Severity.HIGH, "MEDIUM": Severity.MEDIUM, "LOW": Severity.LOW}
LOWER = {Severity.HIGH: Severity.MEDIUM, Severity.MEDIUM: Severity.LOW, Severity.LOW: Severity.INFO}

SKIPPED = ("B101",)
"""``assert`` (B101) is how tests are written; ruff's S101 is skipped for the same reason."""


def severity(issue_severity: str, issue_confidence: str) -> Severity:
    """bandit's severity, one level lower when bandit itself has low confidence."""
    level = LEVELS.get(issue_severity.upper(), Severity.LOW)
    return LOWER.get(level, level) if issue_confidence.upper() == "LOW" else level


@dataclass
class BanditTool:
    options: Mapping[str, Any] = field(default_factory=dict)
    """``skip``: more bandit test ids not to run (precision-first merging skips those ruff
    does at least as well, see ``ai_conductor.analysis.merge``)."""
    name: str = field(default="bandit", init=False)
    per_file: bool = field(default=True, init=False)
    parallel: bool = field(default=True, init=False)
    in_subprocess: bool = field(default=True, init=False)
    """Its work runs in child processes: the engine runs chunks on threads."""
    python: ToolPython = field(default_factory=current, init=False)
    """The interpreter bandit parses with (set by the engine for each codebase)."""

    def use_python(self, python: ToolPython) -> None:
        self.python = python

    def version(self) -> str | None:
        binary = find_binary("bandit")
        return binary_version(binary, "bandit") if binary else None

    @property
    def skipped(self) -> tuple[str, ...]:
        extra = [str(t) for t in self.options.get("skip", ())]
        return tuple(sorted({*SKIPPED, *extra}))

    def config_key(self) -> str:
        return "skip=" + ",".join(self.skipped) + f";py={self.python.minor}"

    def _argv(self) -> list[str]:
        if not self.python.current:  # a tool environment: bandit importable there
            return [str(self.python.python), "-m", "bandit"]
        binary = find_binary("bandit")
        if binary is None:
            raise AnalysisToolError("bandit is not installed: pip install bandit")
        return [binary]

    def run(self, root: Path, files: list[str]) -> ToolResult:
        argv = [*self._argv(), "-f", "json", "-q", "-s", ",".join(self.skipped), "--"]
        result = ToolResult()
        for batch in batches(files):
            out = run_command("bandit", [*argv, *batch], root, (0, 1))
            try:
                report = json.loads(out)
                for error in report.get("errors", []):
                    where = relative(root, str(error.get("filename", "?")))
                    result.failures[where] = self._reason(str(error.get("reason", "")))
                result.findings.extend(_finding(root, issue) for issue in report["results"])
            except (json.JSONDecodeError, KeyError, TypeError, ValueError, AttributeError) as exc:
                raise AnalysisToolError(f"bandit printed output we cannot read: {exc}") from exc
        return result

    def _reason(self, reason: str) -> str:
        """bandit's reason, short and equal for equal causes (summaries group by it)."""
        if "syntax error" in reason.lower():
            return f"syntax Python {self.python.minor} cannot parse"
        return reason.strip() or "unknown"


def _finding(root: Path, issue: dict[str, Any]) -> Finding:
    rule = str(issue["test_id"])
    line = max(1, int(issue["line_number"]))
    lines = [int(n) for n in issue.get("line_range") or [line]]
    cwe = (issue.get("issue_cwe") or {}).get("id")
    cwe_tags = [f"CWE-{cwe}"] if cwe else []
    column = issue.get("col_offset")
    end_column = issue.get("end_col_offset")
    return Finding(
        tool="bandit",
        rule_id=rule,
        rule_name=str(issue.get("test_name", "")),
        severity=severity(str(issue["issue_severity"]), str(issue["issue_confidence"])),
        category=Category.SECURITY,
        path=relative(root, str(issue["filename"])),
        line=line,
        end_line=max(line, *lines),
        column=int(column) + 1 if isinstance(column, int) else 1,
        end_column=int(end_column) + 1 if isinstance(end_column, int) else None,
        message=str(issue["issue_text"]),
        tags=sorted({*tags_for("bandit", rule, Category.SECURITY), *cwe_tags}),
        help_uri=issue.get("more_info"),
    )
