"""`conductor run`: validate, run with a live view on a terminal, JSON when piped."""

from __future__ import annotations

import json
import sys
import warnings
from pathlib import Path

import typer
from rich.console import Console
from rich.live import Live
from rich.markup import escape

from ai_conductor.errors import SpecWarning
from ai_conductor.spec import WorkflowSpec, load_spec


def load_warned(config: Path) -> WorkflowSpec:
    """Load and validate ``config``; its warnings go to stderr (file, line, how to fix)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SpecWarning)  # printed below, once, in our format
        spec = load_spec(config)
    err = Console(stderr=True)
    for warning in spec.warnings:
        err.print(f"[yellow]warning:[/] {escape(warning)}", highlight=False, soft_wrap=True)
    return spec


def run_command(
    config: Path, codebase: Path | None, *, fresh: bool, as_json: bool, verbose: bool
) -> int:
    """Run the spec at ``config``; return the exit code (0 completed, 3 failed)."""
    from ai_conductor._home import check_home
    from ai_conductor._prefect_env import quiet_prefect_defaults

    spec = load_warned(config)
    check_home()
    quiet_prefect_defaults(verbose=verbose)
    from ai_conductor._prefect import use_shared_server
    from ai_conductor.api import run_spec
    from ai_conductor.cli._render import RunView
    from ai_conductor.settings import get_settings
    from ai_conductor.store import open_audit_log

    use_shared_server(get_settings(), _started)

    live_view = sys.stdout.isatty() and not as_json
    if not live_view:
        result = run_spec(spec, codebase=codebase, fresh=fresh)
        typer.echo(json.dumps(result.model_dump(mode="json"), indent=2))
        return 0 if result.ok else 3
    view = RunView(spec)
    unsubscribe = open_audit_log(get_settings()).subscribe(view.on_event)
    console = Console()
    try:
        with Live(view, console=console, refresh_per_second=8):
            result = run_spec(spec, codebase=codebase, fresh=fresh)
    finally:
        unsubscribe()
    for outcome in result.tasks.values():
        if outcome.status.value == "failed":
            console.print(f"[red]{escape(outcome.task_id)}[/]: {escape(outcome.error or '')}",
                          highlight=False)  # fmt: skip
    style = "green" if result.ok else "bold red"
    console.print(f"[{style}]{escape(result.summary_line())}[/]", highlight=False)
    return 0 if result.ok else 3


def _started(url: str) -> None:
    ui = url.removesuffix("/api")
    Console(stderr=True).print(
        f"started a shared Prefect server for local runs (UI {ui}); later runs reuse it, "
        "`conductor server stop` stops it",
        highlight=False,
        soft_wrap=True,
    )
