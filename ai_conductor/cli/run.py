"""``conductor run`` (alias ``orchestrate``): a workflow spec as a Prefect flow."""

from __future__ import annotations

from pathlib import Path

import typer

from ai_conductor.cli._errors import top_level
from ai_conductor.cli._options import CodebaseOpt, ConfigOpt, FreshOpt, JsonOpt, VerboseOpt

commands = top_level()


def _run(config: Path, codebase: Path | None, fresh: bool, as_json: bool, verbose: bool) -> None:
    from ai_conductor.cli._run import run_command

    raise typer.Exit(run_command(config, codebase, fresh=fresh, as_json=as_json, verbose=verbose))


@commands.command()
def run(
    config: ConfigOpt,
    codebase: CodebaseOpt = None,
    fresh: FreshOpt = False,
    as_json: JsonOpt = False,
    verbose: VerboseOpt = False,
) -> None:
    """Run a workflow spec as a Prefect flow.

    Tasks start when their dependencies finish and receive their outputs; independent tasks run
    in parallel (settings.max_parallel_tasks). Tasks that completed in an earlier run with the
    same spec, inputs, upstream results and codebase content are reused, not re-executed, so
    re-running after a crash resumes where it stopped. Without PREFECT_API_URL, the first run
    starts a shared Prefect server in the background (several seconds, once) and later runs
    reuse it: see `conductor server --help`.
    """
    _run(config, codebase, fresh, as_json, verbose)


@commands.command("orchestrate")
def orchestrate(
    config: ConfigOpt,
    codebase: CodebaseOpt = None,
    fresh: FreshOpt = False,
    as_json: JsonOpt = False,
    verbose: VerboseOpt = False,
) -> None:
    """Alias of `run`."""
    _run(config, codebase, fresh, as_json, verbose)


@commands.command("cherry_aite", hidden=True)
def cherry_aite(config: ConfigOpt, codebase: CodebaseOpt = None) -> None:
    """The seed guide's spelling of `run`."""
    _run(config, codebase, False, False, False)
