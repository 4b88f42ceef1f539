"""`conductor improve`: the weekly-improve flow, here: clone (or use a directory), analyse, fix,
tidy, and with --publish open or update one pull request."""

from __future__ import annotations

import json
import sys
from typing import Any

import typer
from rich.console import Console
from rich.markup import escape


def run_improve(request: Any, *, as_json: bool, verbose: bool) -> int:
    from ai_conductor._home import check_home
    from ai_conductor._prefect_env import quiet_prefect_defaults
    from ai_conductor.errors import ConductorError, OrchestrationError, WorkflowFailed
    from ai_conductor.flows.improve import improve_flow
    from ai_conductor.spec import load_spec

    load_spec(request.spec_path)  # a bad spec fails here, before Prefect starts (exit 2)
    check_home()
    quiet_prefect_defaults(verbose=verbose)
    err = Console(stderr=True)
    try:
        summary: dict[str, Any] = improve_flow(request)
    except WorkflowFailed as exc:
        err.print(f"[bold red]error:[/] {escape(str(exc))}", highlight=False)
        for outcome in exc.result.tasks.values():
            if outcome.error:
                err.print(f"  {escape(outcome.task_id)}: {escape(outcome.error)}", highlight=False)
        return 3
    except ConductorError:
        raise
    except Exception as exc:  # Prefect's own failures (API unreachable, crashed flow run)
        raise OrchestrationError(
            f"the improve flow did not run: {type(exc).__name__}: {exc}"
        ) from exc
    if as_json or not sys.stdout.isatty():
        typer.echo(json.dumps(summary, indent=2))
    published = summary.get("published") or {}
    if summary.get("pull_request"):
        err.print(f"[bold]pull request {published.get('status')}:[/] {summary['pull_request']}",
                  highlight=False)  # fmt: skip
    elif request.publish:
        err.print(f"published nothing: {escape(published.get('note') or 'no verified change')}",
                  highlight=False)  # fmt: skip
    for group, why in (published.get("left_out") or {}).items():
        err.print(f"[yellow]left out:[/] {escape(group)}: {escape(why)}", highlight=False)
    err.print(f"run {summary['run_id']}: {summary['status']} (conductor logs --run "
              f"{summary['run_id']})", highlight=False)  # fmt: skip
    return 0
