"""Reading semgrep-core's ``-json`` output: findings with their traces, and every file it could
not fully analyse.

Coverage counts a file as failed (``ToolResult.failures``, one short reason per cause) when
semgrep-core reports for it a syntax error, a partial parse (part of the file was skipped), a
rule that timed out or ran out of memory, or when it did not scan it at all (missing from
``paths.scanned``: a file that vanished, say). Findings in the parts it did read are kept.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from ai_conductor.analysis.models import Category, Finding, TraceStep
from ai_conductor.analysis.rules import tags_for
from ai_conductor.analysis.taint import RuleInfo, rule_infos
from ai_conductor.analysis.tools import relative
from ai_conductor.analysis.tools.base import ToolResult
from ai_conductor.analysis.tools.semgrep import location
from ai_conductor.errors import AnalysisToolError

NOT_SCANNED = "semgrep-core did not scan it"
PARTIAL = "semgrep could parse only part of it"
TIMEOUT = "a taint rule timed out on it"


def parse_output(out: str, root: Path, targets: Sequence[str] = ()) -> ToolResult:
    """Findings and per-file failures of semgrep-core's ``-json`` output (progress dots first);
    ``targets``: the files it was given (those it did not scan failed)."""
    start = out.find("{")
    try:
        data = json.loads(out[start:]) if start >= 0 else None
        if not isinstance(data, dict):
            raise ValueError("no JSON object")
        result = ToolResult()
        infos = rule_infos()
        for error in data.get("errors", []):
            _error(error, root, result)
        for item in data["results"]:
            result.findings.append(_finding(root, item, infos[str(item["check_id"])]))
        scanned = (data.get("paths") or {}).get("scanned")
        if targets and isinstance(scanned, list):
            seen = {relative(root, str(p)) for p in scanned}
            for rel in targets:
                if rel not in seen:
                    result.failures.setdefault(rel, NOT_SCANNED)
    except (KeyError, TypeError, ValueError, IndexError) as exc:
        raise AnalysisToolError(f"semgrep-core printed output we cannot read: {exc!r}") from exc
    return result


def _kind(error: Mapping[str, Any]) -> str:
    """``Timeout``, ``Syntax error``; ``["PartialParsing", [...]]`` -> ``PartialParsing``."""
    kind = error.get("error_type", "error")
    return str(kind[0] if isinstance(kind, list) and kind else kind)


def _error(error: Mapping[str, Any], root: Path, result: ToolResult) -> None:
    """An error about one file makes it failed (coverage counts it); one about the rules or
    the targets file means this call is broken and raises. Warnings count too when they say
    part of the file was not analysed (a partial parse, a rule that timed out)."""
    where = (error.get("location") or {}).get("path")
    kind = _kind(error)
    message = (str(error.get("message") or kind).splitlines() or [kind])[0]
    if where is None or "Rule" in kind or kind == "Fatal error":
        raise AnalysisToolError(f"semgrep-core rejected the taint rules or targets: {message}")
    severe = str(error.get("severity", "error")).lower() == "error"
    if kind == "PartialParsing":
        reason = PARTIAL
    elif kind == "Timeout":
        reason = TIMEOUT
    elif severe or kind == "OutOfMemory":
        reason = f"semgrep could not analyse it ({kind})"
    else:
        return
    result.failures.setdefault(relative(root, str(where)), reason)


def _finding(root: Path, item: Mapping[str, Any], info: RuleInfo) -> Finding:
    extra = item.get("extra") or {}
    category = Category.SECURITY
    number = info.cwe.removeprefix("CWE-")
    cwe = [info.cwe] if info.cwe else []
    return Finding(
        tool="taint",
        rule_id=info.id,
        rule_name=info.cwe_title,
        severity=info.severity,
        category=category,
        **location(root, item),
        message=str(extra.get("message", info.id)).strip(),
        tags=sorted({*tags_for("taint", info.id, category), *cwe}),
        help_uri=f"https://cwe.mitre.org/data/definitions/{number}.html" if cwe else None,
        trace=trace(root, extra.get("dataflow_trace")),
    )


def _loc(root: Path, kind: str, loc: Mapping[str, Any], code: str) -> TraceStep:
    start, end = loc["start"], loc.get("end") or loc["start"]
    return TraceStep(
        kind=kind, path=relative(root, str(loc["path"])), line=max(1, int(start["line"])),
        column=max(1, int(start.get("col", 1))), end_line=int(end["line"]),
        end_column=int(end["col"]) if "col" in end else None, code=code,
    )  # fmt: skip


def _point(value: Any) -> tuple[Mapping[str, Any], str] | None:
    """The (location, code) of a ``["CliLoc", [loc, code]]`` or ``["CliCall", ...]`` node."""
    if not isinstance(value, list) or len(value) != 2:
        return None
    tag, body = value
    if tag == "CliLoc":
        return body[0], str(body[1])
    if tag == "CliCall":  # [[call location, code], intermediate vars, inner node]
        return body[0][0], str(body[0][1])
    return None


def trace(root: Path, flow: Mapping[str, Any] | None) -> list[TraceStep]:
    """Source, intermediate variables and sink of semgrep's ``dataflow_trace``."""
    if not flow:
        return []
    steps: list[TraceStep] = []
    source = _point(flow.get("taint_source"))
    if source:
        steps.append(_loc(root, "source", *source))
    for var in flow.get("intermediate_vars") or []:
        steps.append(_loc(root, "step", var["location"], str(var.get("content", ""))))
    sink = _point(flow.get("taint_sink"))
    if sink:
        steps.append(_loc(root, "sink", *sink))
    return steps
