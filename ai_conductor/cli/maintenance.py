"""``conductor maintenance``: Airbyte sync, Weaviate initialization, context sync, pruning.

Help text here is the user documentation.
"""

from __future__ import annotations

import json
import sys
from typing import TYPE_CHECKING, Annotated, Any, cast

import typer
from rich.console import Console
from rich.table import Table
from rich.text import Text

from ai_conductor.cli._errors import group
from ai_conductor.errors import ConductorError

if TYPE_CHECKING:
    from ai_conductor._prefect import State

maintenance_app = group(
    "Maintenance jobs, each also a Prefect flow of the same name for deployments.\n\n"
    "A command runs as a Prefect flow run (artifact, UI history) when a Prefect API is "
    "configured (PREFECT_API_URL) or with --prefect; otherwise it calls the library directly "
    "and skips starting a temporary Prefect server. Every run writes a 'maintenance' row to the "
    "audit log. Output: a summary on stderr; JSON on stdout when piped or with --json."
)
err = Console(stderr=True)

JsonOpt = Annotated[bool, typer.Option("--json", help="Print the result as JSON on stdout.")]
PrefectOpt = Annotated[
    bool | None,
    typer.Option(
        "--prefect/--no-prefect",
        help="Run as a Prefect flow run (default: only when a Prefect API is configured).",
        show_default=False,
    ),
]


def use_prefect(flag: bool | None) -> bool:
    """An explicit --prefect/--no-prefect, else whether a Prefect API URL is configured."""
    if flag is not None:
        return flag
    from ai_conductor._prefect import api_configured

    return api_configured()


def run_maintenance(name: str, params: dict[str, Any], *, prefect: bool) -> dict[str, Any]:
    """Run one maintenance operation, as its flow or directly; raise its ConductorError."""
    if not prefect:
        from ai_conductor.maintenance.operations import OPERATIONS
        from ai_conductor.settings import get_settings

        return OPERATIONS[name](get_settings(), **params)
    from ai_conductor._prefect_env import quiet_prefect_defaults

    quiet_prefect_defaults()
    from ai_conductor.flows.maintenance import FLOWS

    state = cast("State[dict[str, Any]]", FLOWS[name](**params, return_state=True))
    outcome = state.result(raise_on_failure=False)
    if state.is_completed() and isinstance(outcome, dict):
        return outcome
    if isinstance(outcome, ConductorError):
        raise outcome
    raise ConductorError(f"the {name} flow run ended {state.name}: {state.message or outcome}")


def summary(name: str, data: dict[str, Any]) -> Table:
    from ai_conductor.maintenance.operations import TITLES

    table = Table(title=Text(TITLES[name]), title_justify="left", show_header=False)
    table.add_column(style="bold")
    table.add_column()
    for key, value in data.items():
        shown = json.dumps(value, default=str) if isinstance(value, dict | list) else str(value)
        table.add_row(key, Text(shown))
    return table


def _show(name: str, data: dict[str, Any], as_json: bool) -> None:
    if as_json or not sys.stdout.isatty():
        typer.echo(json.dumps(data, indent=2, default=str))
    err.print(summary(name, data))


def _execute(name: str, params: dict[str, Any], *, prefect: bool | None, as_json: bool) -> None:
    try:
        data = run_maintenance(name, params, prefect=use_prefect(prefect))
    except ConductorError as exc:
        partial = getattr(exc, "result", None)  # a sync job that ran but did not succeed
        if partial is not None and hasattr(partial, "model_dump"):
            _show(name, partial.model_dump(mode="json"), as_json)
        raise
    _show(name, data, as_json)


@maintenance_app.command("weaviate-init")
def weaviate_init(as_json: JsonOpt = False, prefect: PrefectOpt = None) -> None:
    """Create the context collection in Weaviate (CONDUCTOR_CONTEXT_STORE=weaviate).

    Idempotent: an existing collection is left as it is. With the embedded store there is
    nothing to initialize and the command says so.
    """
    _execute("weaviate-init", {}, prefect=prefect, as_json=as_json)


@maintenance_app.command("airbyte-sync")
def airbyte_sync(
    connection_id: Annotated[
        str | None,
        typer.Option(
            "--connection-id", help="Airbyte connection (default: AIRBYTE_CONNECTION_ID)."
        ),
    ] = None,
    timeout: Annotated[
        float, typer.Option("--timeout", min=1, help="Seconds to wait; then cancel the job.")
    ] = 3600.0,
    poll_interval: Annotated[
        float, typer.Option("--poll-interval", min=0.1, help="Seconds between status checks.")
    ] = 10.0,
    as_json: JsonOpt = False,
    prefect: PrefectOpt = None,
) -> None:
    """Trigger an Airbyte connection's sync and wait for the job to finish.

    Uses Airbyte's public API (AIRBYTE_SERVER_URL: https://api.airbyte.com/v1 by default, or
    http(s)://HOST/api/public/v1 self-hosted) with AIRBYTE_CLIENT_ID + AIRBYTE_CLIENT_SECRET or
    AIRBYTE_API_KEY, or the AirbyteCredentials block named in CONDUCTOR_AIRBYTE_BLOCK. Exit 3
    when the job fails, is cancelled, is incomplete or runs past --timeout (it is cancelled).
    """
    params = {"connection_id": connection_id, "timeout": timeout, "poll_interval": poll_interval}
    _execute("airbyte-sync", params, prefect=prefect, as_json=as_json)


@maintenance_app.command("context-sync")
def context_sync(as_json: JsonOpt = False, prefect: PrefectOpt = None) -> None:
    """Copy findings and fixes from the audit database into the context store."""
    _execute("context-sync", {}, prefect=prefect, as_json=as_json)


@maintenance_app.command("prune")
def prune(
    older_than: Annotated[
        int,
        typer.Option(
            "--older-than",
            min=0,
            help="Delete history older than this many days.",
            show_default=False,
        ),
    ],
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Only count what would be deleted.")
    ] = False,
    as_json: JsonOpt = False,
    prefect: PrefectOpt = None,
) -> None:
    """Delete audit-log history (and the results it refers to) older than --older-than days."""
    params = {"older_than_days": older_than, "dry_run": dry_run}
    _execute("prune", params, prefect=prefect, as_json=as_json)
