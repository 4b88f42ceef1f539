"""`conductor implement`: verified changes for the findings of an analysis.json."""

from __future__ import annotations

import json
import shlex
import sys
from pathlib import Path

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table
from rich.text import Text

from ai_conductor.analysis.models import Severity
from ai_conductor.cli._progress import live_progress
from ai_conductor.cli._publish import PublishFlags, print_published, run_publish
from ai_conductor.errors import UsageError
from ai_conductor.implement.models import ChangeResult, ImplementReport


def _result(c: ChangeResult) -> str:
    if c.unchanged_since:
        return f"{c.status.value}, unchanged since run {c.unchanged_since[:12]}"
    if c.replaced:
        return f"{c.status.value}, replaced {c.replaced[:12]}"
    return c.status.value


def changes_table(report: ImplementReport) -> Table:
    table = Table(title=f"implement ({report.backend}) in {report.codebase}", title_justify="left")
    for col in ("change", "findings", "result", "attempts", "branch / reason"):
        table.add_column(col, overflow="fold")
    for c in report.changes:
        last = c.attempts[-1].reason if c.attempts else c.summary
        where = c.branch or last
        table.add_row(
            Text(c.group), str(len(c.findings)), _result(c), str(len(c.attempts)), Text(where)
        )
    return table


def run_implement(
    analysis_path: Path,
    *,
    codebase: Path | None,
    focus: list[str],
    backend: str,
    apply: bool,
    attempts: int,
    test_command: str | None,
    test_timeout: float,
    min_severity: str,
    as_json: bool,
    backend_options: dict[str, object] | None = None,
    budget: tuple[int | None, float | None, float | None] = (None, None, None),
    group_by: str = "file",
    concurrency: int = 2,
    test_env: str = "auto",
    allow_api_changes: bool = False,
    all_files: bool = False,
    publishing: PublishFlags | None = None,
) -> int:
    from ai_conductor.implement import ImplementOptions, implement
    from ai_conductor.implement.budget import Budget
    from ai_conductor.reports import load_analysis

    try:
        level = Severity(min_severity)
    except ValueError:
        raise UsageError(
            f"--min-severity {min_severity!r}: choose one of {', '.join(s.value for s in Severity)}"
        ) from None
    analysis = load_analysis(analysis_path)
    options = ImplementOptions(
        backend=backend, focus=focus, min_severity=level, attempts=attempts, apply=apply,
        test_command=shlex.split(test_command) if test_command is not None else None,
        test_timeout=test_timeout, backend_options=dict(backend_options or {}),
        budget=Budget(max_tokens=budget[0], max_cost_usd=budget[1], max_seconds=budget[2]),
        group_by=group_by, concurrency=concurrency, test_env=test_env,
        allow_api_changes=allow_api_changes, all_files=all_files,
    )  # fmt: skip
    with live_progress(as_json, "implement") as observer:
        options.progress = observer
        report = implement(analysis, codebase, options)
    if publishing is not None and publishing.publish:
        from ai_conductor.publish.notes import from_implement

        root = Path(report.codebase)
        publication = from_implement(report, analysis, root, workflow_id=options.workflow_id,
                                     task_id=options.task_id)  # fmt: skip
        report.published = run_publish(root, publication, publishing)
    if as_json or not sys.stdout.isatty():
        typer.echo(json.dumps(report.model_dump(mode="json"), indent=2))
    err = Console(stderr=True)
    err.print(changes_table(report))
    if report.environment is not None:
        env = report.environment
        err.print(Text(f"tests ran in: {env.describe()} ({env.reason})"), highlight=False)
    for warning in report.warnings:
        err.print(f"[yellow]warning:[/] {escape(warning)}", highlight=False)
    kept = sum(c.status.value == "kept" for c in report.changes)
    note = f"applied {len(report.applied)} to the checkout" if apply else "checkout untouched"
    err.print(f"{kept} of {len(report.changes)} change(s) verified and kept; {note}")
    if report.stopped:
        err.print(f"[bold yellow]stopped early:[/] {escape(report.stopped)}")
    if report.published is not None:
        print_published(err, report.published)
    for group, why in report.not_applied.items():
        err.print(f"[bold red]error:[/] {escape(group)}: {escape(why)}", highlight=False)
    if report.not_applied:
        err.print("the refused changes stay on their branches; their patches are listed above")
        return 2
    if (
        report.changes
        and not report.stopped
        and all(c.status.value == "error" for c in report.changes)
    ):
        err.print("[bold red]error:[/] every change failed before it could be verified "
                  "(see the reasons above); nothing was kept")  # fmt: skip
        return 3
    return 0
