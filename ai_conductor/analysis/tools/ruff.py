"""ruff: pyflakes, bugbear, bandit-style security, performance and modernisation rules.

Runs ``ruff check --isolated --no-cache --output-format json`` once on all files (ruff is
multi-threaded): ``--isolated`` ignores the codebase's own configuration so results do not
depend on it, ``--no-cache`` never writes ``.ruff_cache`` into the user's codebase.
Complexity (C90) is radon's job and is not selected.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ai_conductor.analysis.models import Finding
from ai_conductor.analysis.rules import ruff_rule, tags_for
from ai_conductor.analysis.tools import batches, binary_version, find_binary, relative, run_command
from ai_conductor.analysis.tools.base import ToolResult
from ai_conductor.errors import AnalysisToolError

RULES = ("E4", "E7", "E9", "F", "B", "S", "PERF", "BLE", "UP", "ASYNC", "SIM", "PLE")
IGNORED = ("S101",)
"""``assert`` is how tests are written; reporting every one would bury the real findings."""
SYNTAX_CODES = {None, "E999", "invalid-syntax", "syntax-error"}
IO_ERROR = "E902"


@dataclass
class RuffTool:
    options: Mapping[str, Any] = field(default_factory=dict)
    """Unused for now: the rule selection is fixed (see ``RULES``)."""
    name: str = field(default="ruff", init=False)
    per_file: bool = field(default=True, init=False)
    parallel: bool = field(default=False, init=False)

    def _binary(self) -> str | None:
        return find_binary("ruff")

    def version(self) -> str | None:
        binary = self._binary()
        return binary_version(binary, "ruff") if binary else None

    def config_key(self) -> str:
        return "select=" + ",".join(RULES) + ";ignore=" + ",".join(IGNORED)

    def run(self, root: Path, files: list[str]) -> ToolResult:
        binary = self._binary()
        if binary is None:
            raise AnalysisToolError("ruff is not installed: pip install ruff")
        result = ToolResult()
        argv = [binary, "check", "--isolated", "--no-cache", "--output-format", "json",
                "--select", ",".join(RULES), "--ignore", ",".join(IGNORED),
                "--exit-zero", "--"]  # fmt: skip
        for batch in batches(files):
            out = run_command("ruff", [*argv, *batch], cwd=root)
            try:
                diagnostics = json.loads(out or "[]")
            except json.JSONDecodeError as exc:
                raise AnalysisToolError(f"ruff printed output that is not JSON: {exc}") from exc
            _collect(root, diagnostics, result)
        return result


def _collect(root: Path, diagnostics: list[dict[str, Any]], result: ToolResult) -> None:
    syntax_seen: set[str] = set()
    for item in diagnostics:
        try:
            path = relative(root, item["filename"])
            code = item.get("code")
            if code == IO_ERROR:  # a file ruff could not read: counted against its coverage
                result.failures[path] = f"unreadable: {item['message']}"
                continue
            syntax = code in SYNTAX_CODES
            if syntax and path in syntax_seen:
                continue  # the first syntax error of a file; later ones are usually fallout
            if syntax:
                syntax_seen.add(path)
            result.findings.append(_finding(path, "syntax-error" if syntax else str(code), item))
        except (KeyError, TypeError, ValueError) as exc:
            raise AnalysisToolError(f"ruff printed an unexpected diagnostic {item!r}") from exc


def _finding(path: str, code: str, item: dict[str, Any]) -> Finding:
    category, severity = ruff_rule(code)
    start, end = item["location"], item.get("end_location") or item["location"]
    fix = item.get("fix") or {}
    line = max(1, int(start["row"]))
    return Finding(
        tool="ruff",
        rule_id=code,
        rule_name=item.get("name") or ("invalid-syntax" if code == "syntax-error" else ""),
        severity=severity,
        category=category,
        path=path,
        line=line,
        end_line=max(line, int(end["row"])),
        column=max(1, int(start["column"])),
        end_column=max(1, int(end["column"])),
        message=str(item["message"]),
        fixable=fix.get("applicability") == "safe",
        tags=tags_for("ruff", code, category),
        help_uri=item.get("url"),
    )
