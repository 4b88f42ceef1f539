"""`conductor analyze`: the Prefect-free fast path to the analyzer, with progress and a summary."""

from __future__ import annotations

import sys
from pathlib import Path

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table
from rich.text import Text

from ai_conductor._cli_output import CountColumn, where_findings_are
from ai_conductor._cli_review import ReviewFlags, narrow, post
from ai_conductor.analysis.models import AnalysisReport, FindingStatus, Severity

FAIL_LEVELS = ("critical", "high", "medium", "low", "none")


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


def gate(report: AnalysisReport, fail_on: str) -> list[str]:
    """Fingerprints of reported findings at or above ``fail_on`` (empty: the gate passes)."""
    if fail_on == "none":
        return []
    level = Severity(fail_on).rank
    return [f.fingerprint for f in report.findings if f.severity.rank >= level]


def summary(report: AnalysisReport) -> Table:
    """One screen: counts by severity and category, history, tools, top hotspots."""
    s = report.summary
    table = Table(
        title=Text(f"analysis of {report.codebase}"), title_justify="left", show_header=False
    )
    table.add_column(style="bold")
    table.add_column()
    sev = ", ".join(f"{k} {v}" for k, v in s.by_severity.items() if v) or "none"
    cat = ", ".join(f"{k} {v}" for k, v in s.by_category.items() if v) or "none"
    table.add_row("findings", f"{len(report.findings)} reported ({sev})")
    table.add_row("categories", cat)
    table.add_row(
        "history", f"{s.new} new, {s.existing} existing, {s.fixed} fixed, {s.dismissed} dismissed"
    )
    table.add_row(
        "files", f"{report.files_analyzed} analysed, {len(report.skipped)} skipped"
    )  # fmt: skip
    for run in report.tools:
        state = (
            "not installed" if not run.available
            else f"{run.files_analyzed} analysed, {run.files_from_cache} from cache"
        )  # fmt: skip
        table.add_row(f"  {run.name} {run.version or ''}".rstrip(), state)
    for spot in report.hotspots[:5]:
        where = f"{spot.path}:{spot.line} {spot.name}"
        table.add_row(
            "hotspot", Text(f"{where} (complexity {spot.complexity}, churn {spot.churn})")
        )
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
    review: ReviewFlags | None = None,
) -> int:
    from ai_conductor._home import check_home
    from ai_conductor.analysis import analyze
    from ai_conductor.analysis.trend import stored_trend
    from ai_conductor.reports import append_step_summary, render, to_markdown, write_report
    from ai_conductor.settings import get_settings

    settings = get_settings()
    check_home(settings)
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
        report = report.model_copy(
            update={"findings": [f for f in report.findings if f.status is FindingStatus.NEW]}
        )
    report = narrow(report, codebase, review)  # --diff-base: only the changed lines
    warnings: list[str] = []
    trend = stored_trend(report, settings) if fmt == "html" else []
    if output is not None:
        warnings = write_report(report, output, fmt, category=category, trend=trend)
    elif to_stdout:  # on a terminal without --format, the summary below is the output
        text, warnings = render(report, fmt, category=category, trend=trend)
        typer.echo(text)
    for warning in warnings:
        err.print(f"[yellow]warning:[/] {escape(warning)}", highlight=False)
    append_step_summary(to_markdown(report), settings)
    err.print(summary(report))
    err.print(where_findings_are(report, output=output, to_stdout=to_stdout, width=err.width))
    post(report, codebase, review, err)  # --publish: the pull request's review
    failing = gate(report, fail_on)
    if failing:
        err.print(f"[bold red]gate failed:[/] {len(failing)} finding(s) at or above {fail_on}")
        return 1
    return 0
