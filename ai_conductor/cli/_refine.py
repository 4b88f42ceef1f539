"""`conductor refine`: verified tidy-up, type report and stack review, summarised on stderr."""

from __future__ import annotations

import json
import shlex
import sys
from pathlib import Path

import typer
from rich.console import Console
from rich.markup import escape
from rich.padding import Padding
from rich.table import Table
from rich.text import Text

from ai_conductor.cli._progress import live_progress
from ai_conductor.cli._publish import PublishFlags, print_published, run_publish
from ai_conductor.refine.models import RefineReport


def _tidy_line(report: RefineReport) -> str:
    if report.tidy is None:
        return "skipped (--no-tidy)"
    lines = []
    for t in report.tidy:
        if t.status.value == "kept":
            since = f", unchanged since run {t.unchanged_since[:12]}" if t.unchanged_since else ""
            lines.append(f"{t.name}: kept on branch {t.branch} ({len(t.touched)} file(s), "
                         f"{t.lines} line(s){since}; patch {t.patch})")  # fmt: skip
        else:
            first = t.reason.strip().splitlines()[0] if t.reason.strip() else ""
            lines.append(f"{t.name}: {t.status.value}" + (f": {first}" if first else ""))
    if any(t.status.value == "kept" for t in report.tidy):
        lines.append("applied to the checkout" if report.applied else "checkout untouched")
    scope = f"scope: {report.tidy_scope}\n" if report.tidy_scope else ""
    return scope + "\n".join(lines)


def summary(report: RefineReport) -> Table:
    table = Table(title=Text(f"refine {report.codebase}"), title_justify="left", show_header=False)
    table.add_column(style="bold")
    table.add_column(overflow="fold")
    table.add_row("tidy", Text(_tidy_line(report)))
    if report.environment is not None:
        env = report.environment
        table.add_row("environment", Text(f"{env.describe()} ({env.reason})"))
    types = report.type_report
    if types is None:
        table.add_row("types", "skipped (--no-types)")
    else:
        codes = ", ".join(f"{k} {v}" for k, v in types.by_code.items())
        text = f"{types.errors} mypy error(s)" + (f" ({codes})" if codes else "")
        table.add_row("types", Text(text + (f"; {types.note}" if types.note else "")))
    if report.stack is not None:
        table.add_row("stack", f"{report.stack.name}: {len(report.stack.findings)} finding(s)")
    return table


_STYLE = {"critical": "bold red", "high": "red", "medium": "yellow", "low": "cyan"}


def print_stack(err: Console, report: RefineReport) -> None:
    """One block per finding (what, then the recommendation): readable at any width."""
    if report.stack is None or not report.stack.findings:
        return
    err.print(Text(f"stack review ({report.stack.name})", style="bold"))
    for f in report.stack.findings:
        what, _, rec = f.message.partition(". Recommendation: ")
        sev = f.severity.value
        err.print(Text.assemble((f"{sev:<8}", _STYLE.get(sev, "")), f" {f.rule_id}  ",
                                (f"{f.path}:{f.line}", "dim")))  # fmt: skip
        err.print(Padding(Text(what), (0, 0, 0, 2)))
        if rec:
            err.print(Padding(Text.assemble(("recommendation: ", "green"), rec), (0, 0, 0, 2)))


def run_refine(
    codebase: Path,
    *,
    stack: str | None,
    apply: bool,
    no_tidy: bool,
    no_types: bool,
    test_command: str | None,
    test_timeout: float,
    as_json: bool,
    backend: str | None = None,
    backend_options: dict[str, object] | None = None,
    test_env: str = "auto",
    analysis: Path | None = None,
    since: str | None = None,
    all_files: bool = False,
    allow_api_changes: bool = False,
    publishing: PublishFlags | None = None,
) -> int:
    from ai_conductor.errors import UsageError
    from ai_conductor.refine import refine
    from ai_conductor.reports import load_analysis

    if backend is not None and stack is None:
        raise UsageError("--backend gives advice on stack findings: add --stack NAME")
    found = load_analysis(analysis) if analysis is not None else None
    with live_progress(as_json, "refine") as observer:
        report = refine(
            codebase, stack=stack, apply=apply, tidy_code=not no_tidy, types=not no_types,
            test_command=shlex.split(test_command) if test_command is not None else None,
            test_timeout=test_timeout, backend=backend, backend_options=backend_options,
            test_env=test_env, analysis=found, since=since, all_files=all_files,
            allow_api_changes=allow_api_changes, progress=observer,
        )  # fmt: skip
    if publishing is not None and publishing.publish:
        from ai_conductor.publish.notes import from_refine

        root = Path(report.codebase)
        publication = from_refine(report, root, workflow_id="refine", task_id="refine")
        report.published = run_publish(root, publication, publishing)
    if as_json or not sys.stdout.isatty():
        typer.echo(json.dumps(report.model_dump(mode="json"), indent=2))
    err = Console(stderr=True)
    err.print(summary(report))
    print_stack(err, report)
    for warning in report.warnings:
        err.print(f"[yellow]warning:[/] {escape(warning)}", highlight=False)
    if report.published is not None:
        print_published(err, report.published)
    if report.stack is not None and report.stack.advice_backend:
        err.print(f"advice by {report.stack.advice_backend}: {report.stack.tokens} token(s)")
    if report.not_applied:
        err.print(f"[bold red]error:[/] {escape(report.not_applied)}", highlight=False)
        return 2
    return 0
