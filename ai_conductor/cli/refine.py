"""``conductor refine``: verified tidy-up, a type report and a review of the technology stack."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from ai_conductor.cli._errors import top_level
from ai_conductor.cli._options import (
    AllowApiOpt,
    DraftOpt,
    ForgeOpt,
    JsonOpt,
    LabelOpt,
    PublishOpt,
    RemoteOpt,
    TestEnv,
    TestEnvOpt,
    key_values,
    publishing,
)

commands = top_level()


@commands.command()
def refine(
    codebase: Annotated[Path, typer.Option(help="Codebase to refine.")] = Path("."),
    stack: Annotated[
        str | None,
        typer.Option(
            help="Review dependencies and configuration for a stack: python, "
            "python_postgres, python_postgres_weaviate."
        ),
    ] = None,
    apply: Annotated[
        bool, typer.Option("--apply", help="Apply the verified tidy-up to the checkout.")
    ] = False,
    no_tidy: Annotated[bool, typer.Option("--no-tidy", help="Skip formatting/imports.")] = False,
    no_types: Annotated[bool, typer.Option("--no-types", help="Skip the mypy report.")] = False,
    test_command: Annotated[
        str | None, typer.Option(help="The project's test command (default: detected).")
    ] = None,
    test_timeout: Annotated[float, typer.Option(min=1, help="Seconds the tests may take.")] = 600,
    backend: Annotated[
        str | None,
        typer.Option(help="LLM backend (openai, anthropic) advising on --stack findings."),
    ] = None,
    model: Annotated[str | None, typer.Option(help="Model for --backend.")] = None,
    base_url: Annotated[str | None, typer.Option(help="Endpoint for --backend openai.")] = None,
    backend_option: Annotated[
        list[str] | None, typer.Option(help="KEY=VALUE handed to the backend (repeatable).")
    ] = None,
    test_env: TestEnvOpt = TestEnv.auto,
    analysis: Annotated[
        Path | None,
        typer.Option(help="Tidy only the files with findings in this analysis.json."),
    ] = None,
    since: Annotated[
        str | None, typer.Option(help="Tidy only the files changed between this git ref and HEAD.")
    ] = None,
    all_files: Annotated[
        bool,
        typer.Option(
            "--all-files", help="Tidy every file as one change, however big (no size limit)."
        ),
    ] = False,
    allow_api_changes: AllowApiOpt = False,
    publish: PublishOpt = False,
    remote: RemoteOpt = "origin",
    draft: DraftOpt = False,
    forge: ForgeOpt = None,
    label: LabelOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Tidy formatting and imports, report type errors, review the technology stack.

    The tidy-up (ruff import order + format) is verified like any change and kept on a branch;
    type errors come from mypy; --stack reviews unpinned, unused or missing dependencies
    (deptry), Python version targets and configuration smells, each with a recommendation.

    With --backend, a model adds a recommendation fitted to the project to each stack finding
    (it sees the findings and pyproject.toml / requirements.txt / setup.cfg; its reply is
    shown as text, never executed).

    Reviewable by default: the tidy-up covers the files of --analysis, or those changed
    --since REF, or every Python file; a result over 20 files or 500 changed lines is split by
    directory into several verified changes (branches .../tidy-<directory>); --all-files makes
    one change of everything. Branches are stable and reused when nothing changed. The tests
    and the type check run in the project's environment (see `conductor implement --help`).
    --publish pushes the kept tidy-up changes on conductor/refine/refine and opens or updates
    one pull request, as `conductor implement --publish` does.
    """
    from ai_conductor.cli._refine import run_refine

    flags = publishing(publish, remote, draft, forge, label)
    options = key_values(backend_option or [], "--backend-option")
    options |= {k: v for k, v in {"model": model, "base_url": base_url}.items() if v}
    code = run_refine(
        codebase, stack=stack, apply=apply, no_tidy=no_tidy, no_types=no_types,
        test_command=test_command, test_timeout=test_timeout, as_json=as_json,
        backend=backend, backend_options=options, test_env=test_env.value, analysis=analysis,
        since=since, all_files=all_files, allow_api_changes=allow_api_changes,
        publishing=flags,
    )  # fmt: skip
    raise typer.Exit(code)
