"""A one-screen Markdown summary of an analysis (terminal, PR comment, GitHub job summary)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from pathlib import Path

from ai_conductor.analysis.coverage import describe
from ai_conductor.analysis.models import AnalysisReport, Category, Finding, Severity
from ai_conductor.reports.priority import by_priority, cut_by_category
from ai_conductor.reports.trace import trace_line
from ai_conductor.settings import Settings

MAX_CELL = 300
MAX_FAILURES = 20
"""Unreadable files listed per tool (all of them are in analysis.json)."""


def cell(value: object) -> str:
    """Text safe inside a Markdown table cell: ``|`` escaped, newlines as ``<br>``, trimmed."""
    text = str(value).strip()
    if len(text) > MAX_CELL:
        text = text[: MAX_CELL - 1] + "…"
    return "<br>".join(line.strip() for line in text.replace("|", "\\|").splitlines())


class Cell(str):
    """A table cell already made safe (by :func:`cell`)."""


def _table(header: Sequence[str], rows: Iterable[Sequence[object]]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += [
        "| " + " | ".join(v if isinstance(v, Cell) else cell(v) for v in row) + " |" for row in rows
    ]
    return [*lines, ""]


def _message(finding: Finding) -> Cell:
    """The message, and under it a taint finding's source -> sink trace as code."""
    trace = trace_line(finding)
    if not trace:
        return Cell(cell(finding.message))
    shown = f"`{trace}`" if "`" not in trace else trace
    return Cell(f"{cell(finding.message)}<br>trace: {cell(shown)}")


def _location(finding: Finding) -> str:
    where = f"{finding.path}:{finding.line}"
    return where if "`" in where else f"`{where}`"


def _counts(report: AnalysisReport) -> tuple[dict[str, int], dict[str, int], dict[str, int]]:
    s = report.summary
    findings = report.findings
    by_sev = s.by_severity or dict(Counter(f.severity.value for f in findings))
    by_cat = s.by_category or dict(Counter(f.category.value for f in findings))
    status = Counter(f.status.value for f in findings)
    states = {
        "new": s.new or status["new"],
        "existing": s.existing or status["existing"],
        "fixed": s.fixed or len(report.fixed),
        "dismissed": s.dismissed,
    }
    return by_sev, by_cat, states


def _findings_rows(findings: list[Finding], limit: int) -> list[str]:
    rows = by_priority(findings)
    lines = _table(
        ["severity", "status", "rule", "location", "message"],
        [
            (f.severity.value, f.status.value, f"{f.tool}/{f.rule_id}", _location(f), _message(f))
            for f in rows[:limit]
        ],
    )
    if len(rows) > limit:
        lines += [f"... and {len(rows) - limit} more: {cut_by_category(rows[limit:])}", ""]
    return lines


def _coverage(report: AnalysisReport) -> list[str]:
    rows = [
        (run.name, run.version or "", run.python or "", describe(run), run.files_from_cache)
        for run in report.tools
    ]
    lines = ["## Coverage", ""]
    lines += _table(["tool", "version", "python", "files read", "from cache"], rows)
    for run in report.tools:
        if run.failures:
            shown = [f"`{f.path}`: {f.reason}" for f in run.failures[:MAX_FAILURES]]
            more = len(run.failures) - len(shown)
            lines += [f"{run.name} could not read:", ""] + [f"- {cell(s)}" for s in shown]
            lines += [f"- ... and {more} more (all in analysis.json)"] if more else []
            lines.append("")
    return lines


def to_markdown(report: AnalysisReport, *, limit: int = 50) -> str:
    """Title, counts, hotspots, each tool's coverage, the ``limit`` first findings (security
    first, then the most severe), fixed findings, warnings."""
    by_sev, by_cat, states = _counts(report)
    name = Path(report.codebase).name or report.codebase
    lines = [f"# Code audit: {cell(name)} ({report.finished_at:%Y-%m-%d})", ""]
    total = report.summary.total or len(report.findings)
    lines += [f"**{total}** findings in **{report.files_analyzed}** files.", ""]
    hidden = states["existing"] - sum(f.status.value == "existing" for f in report.findings)
    if hidden > 0:
        lines += [f"New findings only: **{hidden}** existing findings are not listed.", ""]
    lines += _table(["status", "count"], states.items())
    lines += _table(["severity", "count"], [(s.value, by_sev.get(s.value, 0)) for s in Severity])
    lines += _table(["category", "count"], [(c.value, by_cat.get(c.value, 0)) for c in Category])
    if report.hotspots:
        hot = sorted(report.hotspots, key=lambda h: (-h.score, -h.complexity, h.path))[:10]
        lines += ["## Hotspots", ""]
        lines += _table(
            ["path", "name", "complexity", "churn"],
            [(h.path, h.name or "(file)", f"{h.complexity} ({h.rank})", h.churn) for h in hot],
        )
    if report.tools:
        lines += _coverage(report)
    if report.findings:
        lines += ["## Findings", "", *_findings_rows(report.findings, limit)]
    if report.fixed:
        lines += ["## Fixed since last run", "", *_findings_rows(report.fixed, limit)]
    problems = report.warnings
    if problems:
        lines += ["## Warnings", ""] + [f"- {cell(p)}" for p in problems] + [""]
    return "\n".join(lines)


def append_step_summary(markdown: str, settings: Settings) -> Path | None:
    """Append to GitHub's job summary when ``settings.github_step_summary`` is set."""
    target = settings.github_step_summary
    if target is None:
        return None
    with target.open("a", encoding="utf-8") as fh:
        fh.write(markdown if markdown.endswith("\n") else markdown + "\n")
        fh.write("\n")
    return target
