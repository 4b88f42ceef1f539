"""``conductor improve``: analyse, fix and tidy a repository in one run (weekly-improve)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from ai_conductor.cli._errors import top_level
from ai_conductor.cli._options import (
    DraftOpt,
    ForgeOpt,
    JsonOpt,
    LabelOpt,
    PublishOpt,
    RemoteOpt,
    VerboseOpt,
    publishing,
)

commands = top_level()


@commands.command()
def improve(
    codebase: Annotated[
        str, typer.Option(help="A directory, or a git URL to clone into a temporary directory.")
    ] = ".",
    branch: Annotated[
        str | None, typer.Option(help="Branch to clone and open the pull request against.")
    ] = None,
    spec: Annotated[
        Path, typer.Option(help="The improve workflow (analyze, implementer and refiner tasks).")
    ] = Path("workflows/improve.yaml"),
    publish: PublishOpt = False,
    remote: RemoteOpt = "origin",
    draft: DraftOpt = False,
    forge: ForgeOpt = None,
    label: LabelOpt = None,
    as_json: JsonOpt = False,
    verbose: VerboseOpt = False,
) -> None:
    """Analyse, fix and tidy a repository in one run; with --publish, one pull request.

    What the weekly-improve deployment runs: a git URL is cloned into a temporary directory
    (hooks off; a URL's own user:token is used for git only, never written into the clone),
    the workflow runs fresh (analyze -> fix -> refine, each change verified), and the kept
    changes of every implementer and refiner task are pushed as one branch
    conductor/<workflow>/<task>+<task>, one commit per change, and one pull request is opened
    or updated. The clone is removed at the end. Needs Prefect (a temporary server starts when
    PREFECT_API_URL is unset). See `conductor implement --help` for --publish.
    """
    from ai_conductor.cli._improve import run_improve

    flags = publishing(publish, remote, draft, forge, label)
    from ai_conductor.flows.improve import ImproveRequest

    request = ImproveRequest(
        codebase=codebase, branch=branch, spec_path=str(spec), publish=flags.publish,
        remote=flags.remote, draft=flags.draft, forge=flags.forge,
        **({"labels": flags.labels} if flags.labels else {}),
    )  # fmt: skip
    raise typer.Exit(run_improve(request, as_json=as_json, verbose=verbose))
