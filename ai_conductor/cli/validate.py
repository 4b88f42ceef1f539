"""``conductor validate``: check a workflow spec without running it."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from ai_conductor.cli._errors import top_level

commands = top_level()


@commands.command()
def validate(
    spec: Annotated[Path, typer.Argument(help="Workflow spec, YAML or JSON.", show_default=False)],
) -> None:
    """Check a workflow spec without running it: prints "ok" or every problem with its line.

    Warnings (stderr) name what validates but probably is not meant, e.g. a sentence that a
    {...} mapping split at its commas into keys with null values; the spec still runs.
    """
    from ai_conductor.cli._run import load_warned

    model = load_warned(spec)
    n = len(model.tasks)
    note = "" if n else " (no tasks: settings and agents only)"
    if model.warnings:
        note += f" ({len(model.warnings)} warning(s) above)"
    typer.echo(f"ok: {spec} defines workflow {model.workflow_id!r} with {n} task(s){note}")
