"""``conductor deploy``: check prefect.yaml and the Prefect server, then ``prefect deploy``."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from ai_conductor.cli._errors import top_level

commands = top_level()

PrefectFileOpt = Annotated[
    Path,
    typer.Option(
        "--prefect-file",
        help="The deployments file; entrypoints and relative paths start in its directory.",
    ),
]
DeploymentNameOpt = Annotated[
    list[str] | None,
    typer.Option(
        "--name",
        "-n",
        help="Only this deployment (repeatable), e.g. --name nightly-audit. Default: all.",
        show_default=False,
    ),
]


@commands.command()
def deploy(
    prefect_file: PrefectFileOpt = Path("prefect.yaml"),
    name: DeploymentNameOpt = None,
    check: Annotated[
        bool, typer.Option("--check", help="Only run the checks; deploy nothing.")
    ] = False,
    create_pool: Annotated[
        bool,
        typer.Option(
            "--create-pool",
            help="Create missing work pools (type process, e.g. conductor-process) first.",
        ),
    ] = False,
) -> None:
    """Check prefect.yaml and the Prefect server, then `prefect --no-prompt deploy --all`.

    Checks, all reported at once (exit 2, nothing deployed): the file is YAML with unique
    deployment names; each entrypoint imports as a Prefect flow; its parameters are valid for
    the flow (complete when a schedule starts runs); crons and timezones are valid; no
    `{{ prefect.blocks.* }}` or secret-named `{{ $VAR }}` placeholder (prefect deploy would
    store the secret in the deployment: name blocks in CONDUCTOR_*_BLOCK settings instead);
    PREFECT_API_URL is set and answers (a server: `prefect server start`, or Prefect Cloud:
    `prefect cloud login`); each deployment's work pool exists (or --create-pool). Then
    prefect deploys them (--name: only those) from the directory of prefect.yaml, its output
    streamed; exit 3 if it fails. Runs need a worker: `prefect worker start --pool
    conductor-process` on a host with this checkout at the same path.
    """
    from ai_conductor.cli._deploy import run_deploy

    code = run_deploy(prefect_file, name or [], check=check, create_pool=create_pool)
    raise typer.Exit(code)
