"""``conductor mcp`` (MCP over stdio) and ``conductor serve`` (the prefect.yaml deployments on
their schedules, or with --http the HTTP API and MCP over HTTP)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from ai_conductor.cli._errors import top_level
from ai_conductor.cli.deploy import DeploymentNameOpt, PrefectFileOpt

commands = top_level()


@commands.command()
def mcp() -> None:
    """Serve the conductor's MCP tools over stdio, for Cursor, Roo Code, Claude and others.

    Tools: analyze, run_workflow, implement, get_run, list_runs, cancel_run, list_findings,
    dismiss_finding, search_context, validate_spec; resources: workflow specs and run reports.
    Long runs return a run id at once; poll get_run. Paths are confined to
    CONDUCTOR_ALLOWED_ROOTS (default: the current directory).
    """
    from ai_conductor.cli._mcp import run_mcp_stdio

    run_mcp_stdio()


@commands.command()
def serve(
    http: Annotated[
        bool, typer.Option("--http", help="Serve the HTTP API and MCP over HTTP instead.")
    ] = False,
    host: Annotated[
        str, typer.Option(help="With --http: address to bind (non-loopback needs a token).")
    ] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=1, max=65535, help="With --http: port.")] = 8080,
    prefect_file: PrefectFileOpt = Path("prefect.yaml"),
    name: DeploymentNameOpt = None,
    limit: Annotated[
        int | None,
        typer.Option(
            min=1, help="Flow runs executed at once (default: no limit).", show_default=False
        ),
    ] = None,
) -> None:
    """Run the prefect.yaml deployments here, on their schedules, without a work pool.

    Prefect's `serve` registers each deployment (parameters, cron schedules with their
    timezone, tags) on the Prefect API of PREFECT_API_URL, then executes its scheduled runs and
    the runs you start from the UI or `prefect deployment run FLOW/DEPLOYMENT`, as
    subprocesses started in the directory of prefect.yaml. The same checks as `conductor deploy
    --check` run first (exit 2 with every problem). Stop with Ctrl-C or SIGTERM: the served
    deployments are then paused (no late runs pile up) until served again. Without
    PREFECT_API_URL Prefect starts a temporary server for this process only.

    With --http: serve the HTTP API (/tasks, /runs, /docs, /healthz, /metrics) and MCP at /mcp
    instead. Every endpoint but /healthz needs `Authorization: Bearer $CONDUCTOR_API_TOKEN`
    when a token is set; without one the server refuses to bind a non-loopback address. Runs
    execute in this process (bounded by CONDUCTOR_MAX_PARALLEL_TASKS) or, with PREFECT_API_URL
    and deployments, as Prefect flow runs; their state lives in the audit log.
    """
    if not http:
        from ai_conductor.cli._deploy import run_serve

        code = run_serve(prefect_file, name or [], limit=limit)
        raise typer.Exit(code)
    from ai_conductor.cli._serve_http import run_http

    code = run_http(host, port)
    raise typer.Exit(code)
