"""The ``conductor`` root command: ``--version``, the command groups mounted in help order, and
:func:`main`, which turns what escapes a command into an exit code.

Exit codes: 0 success; 1 the run finished but a quality gate failed; 2 bad usage or bad input;
3 the run itself failed.
"""

from __future__ import annotations

import os
import sys
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape

from ai_conductor.cli._help import ConductorGroup

app = typer.Typer(
    cls=ConductorGroup,
    name="conductor",
    help="Audit codebases and improve them with AI agents, orchestrated by Prefect.\n\n"
    "Exit codes: 0 success, 1 quality gate failed, 2 bad usage or input, 3 the run failed.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
err = Console(stderr=True)


def _print_version(value: bool) -> None:
    if value:
        from ai_conductor._version import package_version

        typer.echo(f"conductor {package_version()}")
        raise typer.Exit()


@app.callback()
def _options(
    version: Annotated[
        bool,
        typer.Option(
            "--version", callback=_print_version, is_eager=True,
            help="Print the installed version (the package metadata's) and exit.",
        ),
    ] = False,
) -> None:  # fmt: skip
    """Audit codebases and improve them with AI agents, orchestrated by Prefect."""


def _mount() -> None:
    """Every command, in the order ``conductor --help`` lists them: the commands, then groups."""
    from ai_conductor.cli import (
        analyze,
        context,
        deploy,
        findings,
        implement,
        improve,
        logs,
        maintenance,
        metrics,
        refine,
        run,
        serve,
        server,
        validate,
    )

    for module in (run, analyze, implement, refine, improve, validate, serve, deploy):
        app.add_typer(module.commands)
    app.add_typer(findings.findings_app, name="findings")
    app.add_typer(maintenance.maintenance_app, name="maintenance")
    app.add_typer(metrics.metrics_app, name="metrics")
    app.add_typer(context.context_app, name="context")
    app.add_typer(server.server_app, name="server")
    app.add_typer(logs.logs_app, name="logs")


_mount()


def main(argv: list[str] | None = None) -> Any:
    """Entry point of the ``conductor`` script."""
    try:
        return app(args=argv, prog_name="conductor", standalone_mode=True)
    except KeyboardInterrupt:
        err.print("interrupted")
        sys.exit(130)
    except OSError as exc:  # e.g. --output into a read-only folder: the input is wrong
        err.print(f"[bold red]error:[/] {escape(str(exc))}", highlight=False, soft_wrap=True)
        sys.exit(2)
    except Exception as exc:  # a bug, not the user's fault: one line, exit 3, never 1 (gate)
        err.print(
            f"[bold red]internal error:[/] {escape(type(exc).__name__)}: {escape(str(exc))} "
            "(please report it; set CONDUCTOR_DEBUG=1 for the traceback)",
            highlight=False,
            soft_wrap=True,
        )
        if os.environ.get("CONDUCTOR_DEBUG"):
            raise
        sys.exit(3)
