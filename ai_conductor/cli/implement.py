"""``conductor implement``: verified changes for the findings of an analysis.json."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from ai_conductor.cli._errors import top_level
from ai_conductor.cli._options import (
    AllowApiOpt,
    DraftOpt,
    ForgeOpt,
    GroupBy,
    JsonOpt,
    LabelOpt,
    PublishOpt,
    RemoteOpt,
    Severity,
    TestEnv,
    TestEnvOpt,
    key_values,
    publishing,
)

commands = top_level()


@commands.command()
def implement(
    analysis: Annotated[
        Path, typer.Option(help="analysis.json from `conductor analyze`.", show_default=False)
    ],
    codebase: Annotated[
        Path | None, typer.Option(help="Codebase to change (default: the analysed one).")
    ] = None,
    focus: Annotated[
        list[str] | None, typer.Option(help="Only findings in these areas (repeatable).")
    ] = None,
    backend: Annotated[
        str,
        typer.Option(
            help="builtin (ruff's safe fixes, offline), openai (any OpenAI-compatible endpoint: "
            "OpenAI, Azure, Ollama, vLLM, llama.cpp, LM Studio, OpenRouter), anthropic, "
            "command (a coding agent CLI: --preset cursor|roo|claude|aider|codex) or fake."
        ),
    ] = "builtin",
    model: Annotated[str | None, typer.Option(help="Model for openai/anthropic.")] = None,
    base_url: Annotated[
        str | None, typer.Option(help="Endpoint for openai, e.g. http://127.0.0.1:11434/v1.")
    ] = None,
    preset: Annotated[str | None, typer.Option(help="Agent CLI for --backend command.")] = None,
    backend_option: Annotated[
        list[str] | None,
        typer.Option(
            help="KEY=VALUE handed to the backend (repeatable; VALUE is JSON when it parses), "
            "e.g. timeout=120, price_input_per_mtok=0.15, structured=json_object."
        ),
    ] = None,
    max_tokens: Annotated[
        int | None, typer.Option(min=1, help="Budget: stop after this many LLM tokens.")
    ] = None,
    max_cost: Annotated[
        float | None, typer.Option(min=0, help="Budget: stop after this many US dollars.")
    ] = None,
    max_seconds: Annotated[
        float | None, typer.Option(min=1, help="Budget: stop starting attempts after this.")
    ] = None,
    apply: Annotated[
        bool, typer.Option("--apply", help="Apply verified patches to the checkout.")
    ] = False,
    attempts: Annotated[int, typer.Option(min=1, max=10, help="Attempts per change.")] = 3,
    test_command: Annotated[
        str | None,
        typer.Option(
            help="The project's test command, run as given (default: pytest in the project's "
            "environment when the project uses it; '' none)."
        ),
    ] = None,
    test_timeout: Annotated[float, typer.Option(min=1, help="Seconds the tests may take.")] = 600,
    min_severity: Annotated[Severity, typer.Option(help="Lowest severity to fix.")] = Severity.low,
    group_by: Annotated[
        GroupBy, typer.Option(help="One change per 'file' (patches never overlap) or per 'rule'.")
    ] = GroupBy.file,
    concurrency: Annotated[
        int, typer.Option(min=1, max=32, help="Changes worked on at once (one worktree each).")
    ] = 2,
    test_env: TestEnvOpt = TestEnv.auto,
    allow_api_changes: AllowApiOpt = False,
    all_files: Annotated[
        bool,
        typer.Option(
            "--all-files",
            help="Lift the size limit of one change (20 files, 500 changed lines): bigger "
            "changes are kept instead of refused, rule groups are not split by directory.",
        ),
    ] = False,
    publish: PublishOpt = False,
    remote: RemoteOpt = "origin",
    draft: DraftOpt = False,
    forge: ForgeOpt = None,
    label: LabelOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Propose changes for an analysis' findings and keep only verified ones.

    Each change is made in its own git worktree on a branch conductor/<workflow>/<task>/<file>
    (a non-git codebase is copied into a temporary repository). The gate re-runs the analyzer
    (the targeted findings must be gone and nothing new at or above medium may appear) and the
    project's tests; failures are fed back to the backend for the next attempt. Kept changes
    stay on their branch with a patch file under $CONDUCTOR_HOME/patches; your checkout is
    changed only with --apply, which refuses when touched files have local changes. Every
    attempt is in the audit log (`conductor logs --action attempt`). LLM replies are untrusted:
    malformed replies are retried then rejected, edits outside the worktree refused, nothing a
    model says is executed; 429/5xx are retried with backoff behind a circuit breaker; a spent
    budget (--max-tokens/--max-cost/--max-seconds) stops the run cleanly ("stopped" in the
    report). API keys come from OPENAI_API_KEY / ANTHROPIC_API_KEY.

    The tests run in the project's own environment, never the conductor's: --test-command as
    given; else the project's .venv/ or venv/; else its tool when the lock file is there and
    the tool installed (uv.lock: uv run; poetry.lock, hatch, pdm.lock: that tool's environment);
    else an isolated environment built once per dependency set under $CONDUCTOR_HOME/envs
    (pyproject dependencies, test extras and groups, requirements*.txt; plus pytest when the
    tests use it) and reused; --test-env tox|nox runs those. A failed build exits 3 naming the
    command. The report says which environment ran the tests and why.

    Safe to merge: a change that removes a public module-level name (an import, def, class or
    assignment outside tests and _private modules; __all__ when present) is discarded unless
    --allow-api-changes; the builtin backend keeps an unused import of such a module as an
    explicit re-export (import x as x). A change over 20 files or 500 changed lines is refused
    unless --all-files. Branch names are stable: a re-run with the same findings and the same
    result leaves the branch as it is ("unchanged since run X"); a different result replaces
    it (the old tip stays under refs/conductor/previous/ and in its patch file); a branch
    whose tip someone else committed is never replaced. Progress is shown on a terminal.

    --publish delivers the kept changes as one pull request: each verified change becomes its
    own commit (its message names the findings it fixes) on the branch
    conductor/<workflow>/<task> of --remote (default origin), based on the checked-out branch
    (else the remote's default); the pull request is opened (--draft) or, on later runs, the
    open one is updated; its body is the review (findings, what was discarded and why, how it
    was verified, budget, audit run id). Nothing kept: nothing is pushed. A remote branch with
    commits the conductor did not make is never overwritten (exit 2). The forge comes from the
    remote's URL or --forge; tokens from GITHUB_TOKEN / GITLAB_TOKEN / GITEA_TOKEN (see
    docs/publishing.md), passed to git per command, never written to disk.
    """
    from ai_conductor.cli._implement import run_implement

    flags = publishing(publish, remote, draft, forge, label)
    backend_options = key_values(backend_option or [], "--backend-option")
    named = {"model": model, "base_url": base_url, "preset": preset}
    backend_options |= {k: v for k, v in named.items() if v}
    code = run_implement(
        analysis, codebase=codebase, focus=focus or [], backend=backend, apply=apply,
        attempts=attempts, test_command=test_command, test_timeout=test_timeout,
        min_severity=min_severity.value, as_json=as_json, backend_options=backend_options,
        budget=(max_tokens, max_cost, max_seconds), group_by=group_by.value,
        concurrency=concurrency, test_env=test_env.value, allow_api_changes=allow_api_changes,
        all_files=all_files, publishing=flags,
    )  # fmt: skip
    raise typer.Exit(code)
