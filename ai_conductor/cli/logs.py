"""``conductor logs``: the audit log, newest first; ``logs replay`` writes the spool."""

from __future__ import annotations

import dataclasses
import json
import re
import sys
from datetime import UTC, datetime, timedelta
from typing import Annotated

import typer
from rich.console import Console

from ai_conductor.cli._errors import CommandGroup
from ai_conductor.cli._options import JsonOpt
from ai_conductor.errors import UsageError

err = Console(stderr=True)

_SINCE = re.compile(r"^(\d+)([smhd])$")


def parse_since(value: str) -> datetime:
    """'30m', '2h', '7d' (ago) or an ISO-8601 timestamp."""
    match = _SINCE.match(value.strip())
    if match:
        unit = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days"}[match[2]]
        return datetime.now(UTC) - timedelta(**{unit: int(match[1])})
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise UsageError(
            f"--since {value!r}: use a duration like 30m, 2h, 7d or an ISO timestamp"
        ) from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


logs_app = typer.Typer(cls=CommandGroup, invoke_without_command=True)


@logs_app.command("replay")
def logs_replay(as_json: JsonOpt = False) -> None:
    """Write events spooled while the database was unreachable into the audit log.

    Idempotent: events already in the database (by event id) are skipped; lines that cannot be
    read or that the database refuses are kept aside in a .rejected.jsonl file, never lost.
    The writer also replays on its own after its next successful write.
    """
    from ai_conductor.settings import get_settings
    from ai_conductor.store import replay_spool

    result = replay_spool(get_settings())
    data = dataclasses.asdict(result)
    if as_json or not sys.stdout.isatty():
        typer.echo(json.dumps(data, indent=2))
    err.print(
        f"replayed {result.replayed} event(s), {result.duplicates} already stored, "
        f"{result.left} left in the spool, {result.rejected} kept aside"
        + (f" ({result.rejected_file})" if result.rejected else "")
    )
    if result.left:
        raise typer.Exit(3)


@logs_app.callback()
def logs(
    ctx: typer.Context,
    workflow: Annotated[str | None, typer.Option(help="Only this workflow id.")] = None,
    task: Annotated[str | None, typer.Option(help="Only this task id.")] = None,
    run_id: Annotated[
        str | None,
        typer.Option(
            "--run",
            help="Only this run: its id, or the start of it (the 8 characters "
            "the tables show); an ambiguous start is an error.",
        ),
    ] = None,
    status: Annotated[str | None, typer.Option(help="Only this status (e.g. failed).")] = None,
    action: Annotated[str | None, typer.Option(help="Only this action (e.g. reused).")] = None,
    since: Annotated[str | None, typer.Option(help="Newer than 30m, 2h, 7d or ISO time.")] = None,
    limit: Annotated[int, typer.Option(min=1, max=100_000, help="At most this many rows.")] = 50,
    as_json: JsonOpt = False,
) -> None:
    """Show the audit log (coordination_logs), newest first; `logs replay` writes the spool.

    A table on a terminal, tab-separated lines when piped, a JSON array with --json. Workflow
    runs, audit flows, server runs, implement and refine attempts, maintenance jobs, standalone
    `conductor analyze` runs (workflow analyze:PATH) and finding dismissals (workflow findings)
    are all here.
    """
    if ctx.invoked_subcommand is not None:
        return
    from ai_conductor._home import check_home
    from ai_conductor.settings import get_settings
    from ai_conductor.store import open_audit_log

    settings = get_settings()
    if settings.database_url is None:  # the embedded SQLite log lives in the home
        check_home(settings)
    audit = open_audit_log(settings)
    rows = audit.query(
        workflow_id=workflow,
        task_id=task,
        run_id=audit.resolve_run(run_id) if run_id else None,
        status=status,
        action=action,
        since=parse_since(since) if since else None,
        limit=limit,
    )
    data = [r.model_dump(mode="json", by_alias=True) for r in rows]
    if as_json:
        typer.echo(json.dumps(data, indent=2))
        return
    from ai_conductor.cli._render import log_lines, log_table

    if sys.stdout.isatty():
        Console().print(log_table(data))
    else:  # piped: one tab-separated line per event, for grep and awk
        for line in log_lines(data):
            typer.echo(line)
