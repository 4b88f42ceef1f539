"""semgrep (optional): your pattern rules from a LOCAL rules file, never the registry (offline).

The built-in taint rules run through the `taint` tool; this one runs rules you write.

Give the rules with the tool option ``config`` (a YAML file or a folder of them). No rules
are bundled: without ``config`` the run fails with a message saying so. Without a login,
semgrep's ``extra.lines`` is the literal "requires login": we never read it.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ai_conductor._paths import expand_user
from ai_conductor.analysis.models import Category, Finding, Severity
from ai_conductor.analysis.rules import tags_for
from ai_conductor.analysis.tools import batches, find_binary, relative, run_command
from ai_conductor.analysis.tools.base import ToolResult
from ai_conductor.errors import AnalysisToolError

SEVERITIES = {
    "CRITICAL": Severity.CRITICAL, "ERROR": Severity.HIGH, "HIGH": Severity.HIGH,
    "WARNING": Severity.MEDIUM, "MEDIUM": Severity.MEDIUM,
    "INFO": Severity.LOW, "LOW": Severity.LOW, "INVENTORY": Severity.INFO,
}  # fmt: skip


def _semgrep() -> str | None:
    return find_binary("semgrep")


@dataclass
class SemgrepTool:
    options: Mapping[str, Any] = field(default_factory=dict)
    """``config``: path of the local rules file or folder (required to run)."""
    name: str = field(default="semgrep", init=False)
    per_file: bool = field(default=True, init=False)
    parallel: bool = field(default=False, init=False)

    def version(self) -> str | None:
        # `semgrep --version` waits ~100 s for the network offline; semgrep-core answers at once
        from ai_conductor.analysis.tools.taint import core_version, semgrep_core

        binary, core = _semgrep(), semgrep_core()
        return core_version(core) if binary and core else None

    def _rules(self) -> Path | None:
        config = self.options.get("config")
        return expand_user(str(config)).resolve() if config else None

    def config_key(self) -> str:
        rules = self._rules()
        if rules is None:
            return "config=none"
        files = sorted(rules.rglob("*.y*ml")) if rules.is_dir() else [rules]
        digest = hashlib.sha256()
        for path in files:
            digest.update(path.read_bytes() if path.is_file() else b"missing")
        return f"config={rules};rules={digest.hexdigest()[:16]}"

    def run(self, root: Path, files: list[str]) -> ToolResult:
        binary, rules = _semgrep(), self._rules()
        if binary is None:
            raise AnalysisToolError(
                "semgrep is not installed: python -m ai_conductor.analysis.taint.install"
            )
        if rules is None or not rules.exists():
            raise AnalysisToolError(
                "semgrep needs a local rules file (registry rules need the network): "
                "set the tool option config=PATH/rules.yaml"
            )
        result = ToolResult()
        argv = [binary, "scan", "--config", str(rules), "--json", "--metrics=off",
                "--disable-version-check", "--quiet", "--"]  # fmt: skip
        for batch in batches(files):
            out = run_command("semgrep", [*argv, *batch], cwd=root, ok_codes=(0, 1, 2))
            try:
                data = json.loads(out)
            except json.JSONDecodeError as exc:
                raise AnalysisToolError(f"semgrep printed output that is not JSON: {exc}") from exc
            parsed = parse_output(data, root)
            result.findings.extend(parsed.findings)
            result.errors.extend(parsed.errors)
        return result


def parse_output(data: Mapping[str, Any], root: Path) -> ToolResult:
    """Findings and errors of semgrep's ``--json`` output."""
    result = ToolResult()
    try:
        for error in data.get("errors", []):
            where = error.get("path") or error.get("spans", [{}])[0].get("file", "")
            result.errors.append(f"semgrep: {where}: {error.get('message', error.get('type'))}")
        result.findings.extend(_finding(root, item) for item in data["results"])
    except (KeyError, TypeError, ValueError, AttributeError, IndexError) as exc:
        raise AnalysisToolError(f"semgrep printed output we cannot read: {exc!r}") from exc
    return result


def location(root: Path, item: Mapping[str, Any]) -> dict[str, Any]:
    """Where a result of semgrep's JSON output is: the ``Finding`` fields path, line, end_line,
    column and end_column (semgrep and the taint tool both read results this way)."""
    start, end = item["start"], item.get("end") or item["start"]
    line = max(1, int(start["line"]))
    return {
        "path": relative(root, str(item["path"])),
        "line": line,
        "end_line": max(line, int(end["line"])),
        "column": max(1, int(start.get("col", 1))),
        "end_column": int(end["col"]) if "col" in end else None,
    }


def _finding(root: Path, item: Mapping[str, Any]) -> Finding:
    extra = item.get("extra") or {}
    metadata = extra.get("metadata") or {}
    rule = str(item["check_id"])
    category = Category.SECURITY if metadata.get("category") == "security" else Category.BUG
    cwes = metadata.get("cwe") or []
    cwe_ids = [str(c).split(":")[0].strip() for c in ([cwes] if isinstance(cwes, str) else cwes)]
    cwe_tags = [c for c in cwe_ids if c.startswith("CWE-")]
    return Finding(
        tool="semgrep",
        rule_id=rule,
        rule_name=rule.rsplit(".", 1)[-1],
        severity=SEVERITIES.get(str(extra.get("severity", "")).upper(), Severity.MEDIUM),
        category=category,
        **location(root, item),
        message=str(extra.get("message", rule)).strip(),
        tags=sorted({*tags_for("semgrep", rule, category), *cwe_tags}),
        help_uri=(metadata.get("references") or [None])[0] or metadata.get("source"),
    )
