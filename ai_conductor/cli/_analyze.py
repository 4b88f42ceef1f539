"""`conductor analyze`: the Prefect-free fast path to the analyzer, with progress and a summary."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table
from rich.text import Text

from ai_conductor.analysis.gate import FAIL_LEVELS as FAIL_LEVELS
from ai_conductor.analysis.gate import gate
from ai_conductor.analysis.models import AnalysisReport
from ai_conductor.cli._output import CountColumn, where_findings_are
from ai_conductor.cli._review import ReviewFlags, post
from ai_conductor.cli._review import narrow as narrow_to_diff


def infer_format(fmt: str | None, output: Path | None) -> str:
    if fmt:
        return fmt
    name = output.name.lower() if output else ""
    if name.endswith((".sarif", ".sarif.json")):
        return "sarif"
    if name.endswith((".md", ".markdown")):
        return "markdown"
    if name.endswith((".html", ".htm")):
        return "html"
    return "json"


def _tool_rows(report: AnalysisReport) -> list[tuple[str, str]]:
    from ai_conductor.analysis.coverage import describe

    rows = []
    for run in report.tools:
        name = f"  {run.name} {run.version or ''}".rstrip()
        if run.python:
            name += f" (Python {'.'.join(run.python.split('.')[:2])})"
        cached = f"; {run.files_from_cache} from cache" if run.available else ""
        rows.append((name, describe(run) + cached))
    return rows


def summary(report: AnalysisReport, *, new_only: bool = False, notes: Sequence[str] = ()) -> Table:
    """One screen: counts by severity and category, history, each tool's coverage, hotspots,
    what a report left out (``notes``) and warnings."""
    s = report.summary
    table = Table(
        title=Text(f"analysis of {report.codebase}"), title_justify="left", show_header=False
    )
    table.add_column(style="bold")
    table.add_column()
    sev = ", ".join(f"{k} {v}" for k, v in s.by_severity.items() if v) or "none"
    cat = ", ".join(f"{k} {v}" for k, v in s.by_category.items() if v) or "none"
    shown = f"{s.total} reported ({sev})"
    if new_only:
        shown += f"; --new-only: {s.existing} existing not listed"
    table.add_row("findings", shown)
    table.add_row("categories", cat)
    table.add_row(
        "history", f"{s.new} new, {s.existing} existing, {s.fixed} fixed, {s.dismissed} dismissed"
    )
    table.add_row(
        "files", f"{report.files_analyzed} analysed, {len(report.skipped)} skipped"
    )  # fmt: skip
    for name, state in _tool_rows(report):
        table.add_row(name, Text(state))
    for spot in report.hotspots[:5]:
        where = f"{spot.path}:{spot.line} {spot.name}"
        table.add_row(
            "hotspot", Text(f"{where} (complexity {spot.complexity}, churn {spot.churn})")
        )
    for note in notes:
        table.add_row("report", Text(note))
    for warning in report.warnings:
        table.add_row("warning", Text(warning))
    return table


def run_analyze(
    codebase: Path,
    *,
    output: Path | None,
    fmt: str | None,
    focus: list[str],
    new_only: bool,
    fail_on: str,
    tools: list[str] | None,
    category: str,
    min_coverage: float | None = None,
    review: ReviewFlags | None = None,
) -> int:
    from ai_conductor._home import check_home
    from ai_conductor.analysis import analyze
    from ai_conductor.analysis.coverage import below, check_min_coverage
    from ai_conductor.analysis.history import narrow
    from ai_conductor.analysis.trend import stored_trend
    from ai_conductor.reports import append_step_summary, render, to_markdown, write_report
    from ai_conductor.settings import get_settings
    from ai_conductor.store import command_events, open_audit_log

    settings = get_settings()
    check_home(settings)
    check_min_coverage(min_coverage)
    err = Console(stderr=True)
    to_stdout = output is None and (fmt is not None or not sys.stdout.isatty())
    fmt = infer_format(fmt, output)
    with Progress(
        TextColumn("{task.description}"), BarColumn(), CountColumn("batches"),
        TimeElapsedColumn(), console=err, transient=True, disable=not err.is_terminal,
    ) as bar:  # fmt: skip
        job = bar.add_task("analyzing", total=None)
        report = analyze(
            codebase,
            focus=focus,
            tools=tools,
            settings=settings,
            progress=lambda stage, done, total: bar.update(job, completed=done, total=total),
        )
    if new_only:
        report = narrow(report, (), new_only=True)
    report = narrow_to_diff(report, codebase, review)  # --diff-base: only the changed lines
    notes: list[str] = []
    trend = stored_trend(report, settings) if fmt == "html" else []
    if output is not None:
        notes = write_report(report, output, fmt, category=category, trend=trend)
    elif to_stdout:  # on a terminal without --format, the summary below is the output
        text, notes = render(report, fmt, category=category, trend=trend)
        typer.echo(text)
    append_step_summary(to_markdown(report), settings)
    err.print(summary(report, new_only=new_only, notes=notes))
    err.print(where_findings_are(report, output=output, to_stdout=to_stdout, width=err.width))
    post(report, codebase, review, err)  # --publish: the pull request's review
    code = 0
    failing = gate(report, fail_on)
    outcome = report.summary.model_dump(mode="json")
    sink = open_audit_log(settings)
    command_events.analysis_finished(sink, report.codebase, report.run_id, outcome, len(failing))
    if failing:
        err.print(f"[bold red]gate failed:[/] {len(failing)} finding(s) at or above {fail_on}")
        code = 1
    for short in below(report, min_coverage):
        err.print(f"[bold red]coverage gate failed:[/] {escape(short)} < {min_coverage:g}%",
                  highlight=False)  # fmt: skip
        code = 1
    return code
