"""The ``conductor`` command line. Help text here is the user documentation.

Exit codes: 0 success; 1 the run finished but a quality gate failed; 2 bad usage or bad input;
3 the run itself failed.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import os
import re
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape

from ai_conductor._cli_help import ConductorGroup
from ai_conductor.errors import ConductorError, UsageError

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


def _mount_subcommands() -> None:
    from ai_conductor._cli_findings import findings_app
    from ai_conductor._cli_maintenance import maintenance_app
    from ai_conductor._cli_metrics import metrics_app
    from ai_conductor._cli_prefect_server import server_app

    app.add_typer(findings_app, name="findings")
    app.add_typer(maintenance_app, name="maintenance")
    app.add_typer(metrics_app, name="metrics")
    app.add_typer(context_app, name="context")
    app.add_typer(server_app, name="server")


context_app = typer.Typer(
    help="The context store: analysis summaries, findings and changes, searchable.",
    no_args_is_help=True,
)


@context_app.command("search")
def context_search(
    query: Annotated[str, typer.Argument(help="Words to look for.", show_default=False)],
    workflow: Annotated[str | None, typer.Option(help="Only this workflow id.")] = None,
    k: Annotated[int, typer.Option("--k", "-k", min=1, max=1000, help="Results.")] = 10,
    as_json: Annotated[bool, typer.Option("--json", help="JSON on stdout.")] = False,
) -> None:
    """Search the context store (embedded full-text by default; Weaviate when configured).

    What is in it: analysis summaries, findings and dismissals, kept and rejected changes with
    their reasons (`conductor maintenance context-sync` copies them from the audit log).
    """
    from ai_conductor._cli_context import run_search

    raise typer.Exit(run_search(query, workflow=workflow, k=k, as_json=as_json))


_mount_subcommands()

ConfigOpt = Annotated[
    Path, typer.Option("--config", "-c", help="Workflow spec, YAML or JSON.", show_default=False)
]
CodebaseOpt = Annotated[
    Path | None,
    typer.Option(help="Codebase to run against (default: the spec's 'codebase', else '.')."),
]


def _fail(exc: ConductorError) -> typer.Exit:
    err.print(f"[bold red]error:[/] {escape(str(exc))}", highlight=False, soft_wrap=True)
    return typer.Exit(exc.exit_code)


def _run(config: Path, codebase: Path | None, fresh: bool, as_json: bool, verbose: bool) -> None:
    from ai_conductor._cli_run import run_command

    try:
        code = run_command(config, codebase, fresh=fresh, as_json=as_json, verbose=verbose)
    except ConductorError as exc:
        raise _fail(exc) from None
    raise typer.Exit(code)


FreshOpt = Annotated[
    bool, typer.Option("--fresh", help="Ignore results of earlier runs; execute every task.")
]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print the result as JSON (no live view).")]
VerboseOpt = Annotated[bool, typer.Option("--verbose", "-v", help="Show Prefect's own logs.")]
TestEnvOpt = Annotated[
    str,
    typer.Option(
        help="Where the tests run: auto (explicit command > .venv/venv > uv/poetry/hatch/pdm > "
        "an isolated environment built under $CONDUCTOR_HOME/envs), isolated, tox or nox."
    ),
]
PublishOpt = Annotated[
    bool,
    typer.Option(
        "--publish",
        help="Push the kept changes (one commit each) to one branch conductor/<workflow>/<task> "
        "on --remote and open a pull request, or update the open one (see docs/publishing.md).",
    ),
]
RemoteOpt = Annotated[str, typer.Option(help="The git remote --publish pushes to.")]
DraftOpt = Annotated[bool, typer.Option("--draft", help="Open the pull request as a draft.")]
ForgeOpt = Annotated[
    str | None,
    typer.Option(help="github, gitlab or gitea (Forgejo too); default: from the remote's URL."),
]
LabelOpt = Annotated[
    list[str] | None,
    typer.Option("--label", help="Label of the pull request (repeatable; default ai-conductor)."),
]


def _publishing(publish: bool, remote: str, draft: bool, forge: str | None,
                labels: list[str] | None) -> Any:  # fmt: skip
    from ai_conductor._cli_publish import PublishFlags

    if not publish and (draft or forge or labels or remote != "origin"):
        raise UsageError("--remote, --draft, --forge and --label go with --publish")
    if forge is not None and forge not in ("github", "gitlab", "gitea"):
        raise UsageError(f"--forge {forge!r}: choose github, gitlab or gitea")
    return PublishFlags(publish, remote, draft, forge, labels or [])


AllowApiOpt = Annotated[
    bool,
    typer.Option(
        "--allow-api-changes",
        help="Keep changes that remove public module-level names (discarded by default).",
    ),
]


@app.command()
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


@app.command("orchestrate")
def orchestrate(
    config: ConfigOpt,
    codebase: CodebaseOpt = None,
    fresh: FreshOpt = False,
    as_json: JsonOpt = False,
    verbose: VerboseOpt = False,
) -> None:
    """Alias of `run`."""
    _run(config, codebase, fresh, as_json, verbose)


@app.command("cherry_aite", hidden=True)
def cherry_aite(config: ConfigOpt, codebase: CodebaseOpt = None) -> None:
    """The seed guide's spelling of `run`."""
    _run(config, codebase, False, False, False)


@app.command()
def analyze(
    codebase: Annotated[Path, typer.Option(help="Codebase to analyse.")] = Path("."),
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="Write the report to this file.")
    ] = None,
    fmt: Annotated[
        str | None,
        typer.Option(
            "--format",
            "-f",
            help="json (analysis.json, the input of `implement`), sarif (GitHub code scanning), "
            "markdown or html (one self-contained page: filters, hotspots, trend). Default: "
            "from --output's extension, else json.",
        ),
    ] = None,
    focus: Annotated[
        list[str] | None,
        typer.Option(
            help="Report only these areas (repeatable): security, performance, complexity, "
            "database, api, algorithms, bugs, style. The history stays one per codebase."
        ),
    ] = None,
    new_only: Annotated[
        bool,
        typer.Option(
            "--new-only",
            help="Report only findings new since the last run (the summary counts the "
            "existing ones it leaves out).",
        ),
    ] = False,
    fail_on: Annotated[
        str,
        typer.Option(
            help="Exit 1 when a reported finding is at least: critical, high, medium, "
            "low; none never fails."
        ),
    ] = "none",
    tool: Annotated[
        list[str] | None,
        typer.Option(
            help="Run only these tools (repeatable): ruff, bandit, radon, taint, vulture, "
            "semgrep, or package.module:Class. Default: ruff, bandit, radon, taint."
        ),
    ] = None,
    category: Annotated[
        str, typer.Option(help="SARIF automationDetails category (one per analysis in CI).")
    ] = "ai-conductor",
    min_coverage: Annotated[
        float | None,
        typer.Option(
            "--min-coverage",
            metavar="PCT",
            help="Exit 1 when a tool could read less than PCT% of the files (a file it cannot "
            "parse, a crashed run, a tool that is not installed).",
            show_default=False,
        ),
    ] = None,
    diff_base: Annotated[
        str | None,
        typer.Option(
            help="Report only findings on lines changed since this git ref (committed or not; "
            "new files count whole), e.g. origin/main in a pull request."
        ),
    ] = None,
    publish: Annotated[
        bool,
        typer.Option(
            "--publish",
            help="With --diff-base: post the findings as one pull-request review (inline "
            "comments on changed lines plus a summary); a re-run updates it.",
        ),
    ] = False,
    pull: Annotated[
        int | None,
        typer.Option(
            min=1,
            help="The pull request to review (default: the CI job's, else the open one "
            "of the checked-out branch).",
        ),
    ] = None,
    remote: RemoteOpt = "origin",
    forge: ForgeOpt = None,
) -> None:
    """Analyse a codebase with ruff, bandit, radon and taint analysis: lint, security,
    complexity, hotspots.

    Taint analysis (Semgrep CE with ai-conductor's own rules for Flask, Django, FastAPI and the
    standard library) follows request data to SQL, shell, eval, deserialisation, file paths,
    URLs, HTML, redirects, XML parsers, LDAP and XPath, and checks cookie flags, session writes
    and weak hashes; each finding has its CWE and source -> sink trace. It is intra-procedural
    (one function at a time). Where several tools check the same thing the more precise verdict
    is kept: a ruff/bandit finding that data flow shows only constants reach is dropped.
    Without semgrep (python -m ai_conductor.analysis.taint.install) a warning says so.

    Findings are merged across tools, fingerprinted (stable when lines move), compared with the
    previous run of the same codebase (new / existing / fixed) and stored: one history per
    codebase, whatever --focus (which only filters the report). Dismissed findings stay out.
    Unchanged files are not re-analysed (per-file cache under $CONDUCTOR_HOME).

    bandit and radon parse with the interpreter they run under: they run under one that can
    parse the project (its minimum Python from requires-python, ruff's target-version,
    .python-version or its .venv; found in the project's environment, as python3.X on PATH or
    in pyenv; a small tool environment is built for it once, from the configured package
    index). CONDUCTOR_ANALYSIS_PYTHON=current keeps the running interpreter. Every file a
    tool could not read is counted and named, with the reason (summary, reports).

    A one-screen summary goes to stderr; the report goes to --output, or to stdout when
    --format is given or stdout is piped. With GITHUB_STEP_SUMMARY set, the Markdown summary
    is appended to it. Runs without Prefect: use `conductor run` or the audit flow for that.

    Pull requests: --diff-base REF keeps the findings on lines changed since REF (the working
    tree against REF; new files count whole), and the gate applies to those only. --publish
    posts them as one review on the pull request (--pull N, else GITHUB_REF refs/pull/N/merge or
    CI_MERGE_REQUEST_IID, else the open one of the checked-out branch): inline comments where
    the line is in the diff, a summary of all; re-running edits it in place, removes comments
    that no longer apply and adds new ones, never a second summary. Forge and token as for
    `conductor implement --publish`.

    The run is recorded in the audit log (`conductor logs --workflow analyze:PATH`).
    """
    from ai_conductor._cli_analyze import FAIL_LEVELS, run_analyze
    from ai_conductor._cli_review import ReviewFlags
    from ai_conductor.reports import FORMATS

    try:
        review = ReviewFlags(diff_base, publish, pull, remote, forge)
        review.check()
        if fmt is not None and fmt not in FORMATS:
            raise UsageError(f"--format {fmt!r}: choose one of {', '.join(FORMATS)}")
        if fail_on not in FAIL_LEVELS:
            raise UsageError(f"--fail-on {fail_on!r}: choose one of {', '.join(FAIL_LEVELS)}")
        with _analysis_events(codebase, fmt=fmt, output=output, focus=focus, new_only=new_only,
                              fail_on=fail_on, tools=tool):  # fmt: skip
            code = run_analyze(
                codebase, output=output, fmt=fmt, focus=focus or [], new_only=new_only,
                fail_on=fail_on, tools=tool, category=category, min_coverage=min_coverage,
                review=review,
            )  # fmt: skip
    except ConductorError as exc:
        raise _fail(exc) from None
    raise typer.Exit(code)


def _analysis_events(codebase: Path, **params: Any) -> contextlib.AbstractContextManager[None]:
    """The standalone analysis in the audit log: started now, failed on an error (a finished
    one records its outcome itself), so `conductor logs` shows it."""
    from ai_conductor._home import check_home
    from ai_conductor.settings import get_settings
    from ai_conductor.store import command_events, open_audit_log

    settings = get_settings()
    check_home(settings)
    shown = {k: command_events.shown_codebase(v) if isinstance(v, Path) else v
             for k, v in params.items() if v is not None}  # fmt: skip
    meta = {"codebase": command_events.shown_codebase(codebase), **shown}
    return command_events.analysis_run(open_audit_log(settings), codebase, meta)


@app.command()
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
    min_severity: Annotated[str, typer.Option(help="Lowest severity to fix.")] = "low",
    group_by: Annotated[
        str, typer.Option(help="One change per 'file' (patches never overlap) or per 'rule'.")
    ] = "file",
    concurrency: Annotated[
        int, typer.Option(min=1, max=32, help="Changes worked on at once (one worktree each).")
    ] = 2,
    test_env: TestEnvOpt = "auto",
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
    from ai_conductor._cli_implement import run_implement

    try:
        publishing = _publishing(publish, remote, draft, forge, label)
        backend_options = _key_values(backend_option or [], "--backend-option")
        named = {"model": model, "base_url": base_url, "preset": preset}
        backend_options |= {k: v for k, v in named.items() if v}
        code = run_implement(
            analysis, codebase=codebase, focus=focus or [], backend=backend, apply=apply,
            attempts=attempts, test_command=test_command, test_timeout=test_timeout,
            min_severity=min_severity, as_json=as_json, backend_options=backend_options,
            budget=(max_tokens, max_cost, max_seconds), group_by=group_by,
            concurrency=concurrency, test_env=test_env, allow_api_changes=allow_api_changes,
            all_files=all_files, publishing=publishing,
        )  # fmt: skip
    except ConductorError as exc:
        raise _fail(exc) from None
    raise typer.Exit(code)


def _key_values(items: list[str], flag: str) -> dict[str, object]:
    """``KEY=VALUE`` pairs; VALUE decoded as JSON when it parses, else kept as text."""
    out: dict[str, object] = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise UsageError(f"{flag} {item!r}: expected KEY=VALUE, e.g. {flag} timeout=120")
        try:
            out[key.strip()] = json.loads(value)
        except ValueError:
            out[key.strip()] = value
    return out


@app.command()
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
    test_env: TestEnvOpt = "auto",
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
    from ai_conductor._cli_refine import run_refine

    try:
        publishing = _publishing(publish, remote, draft, forge, label)
        options = _key_values(backend_option or [], "--backend-option")
        options |= {k: v for k, v in {"model": model, "base_url": base_url}.items() if v}
        code = run_refine(
            codebase, stack=stack, apply=apply, no_tidy=no_tidy, no_types=no_types,
            test_command=test_command, test_timeout=test_timeout, as_json=as_json,
            backend=backend, backend_options=options, test_env=test_env, analysis=analysis,
            since=since, all_files=all_files, allow_api_changes=allow_api_changes,
            publishing=publishing,
        )  # fmt: skip
    except ConductorError as exc:
        raise _fail(exc) from None
    raise typer.Exit(code)


@app.command()
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
    from ai_conductor._cli_improve import run_improve

    try:
        flags = _publishing(publish, remote, draft, forge, label)
        from ai_conductor.flows.improve import ImproveRequest

        request = ImproveRequest(
            codebase=codebase, branch=branch, spec_path=str(spec), publish=flags.publish,
            remote=flags.remote, draft=flags.draft, forge=flags.forge,
            **({"labels": flags.labels} if flags.labels else {}),
        )  # fmt: skip
        code = run_improve(request, as_json=as_json, verbose=verbose)
    except ConductorError as exc:
        raise _fail(exc) from None
    raise typer.Exit(code)


@app.command()
def validate(
    spec: Annotated[Path, typer.Argument(help="Workflow spec, YAML or JSON.", show_default=False)],
) -> None:
    """Check a workflow spec without running it: prints "ok" or every problem with its line.

    Warnings (stderr) name what validates but probably is not meant, e.g. a sentence that a
    {...} mapping split at its commas into keys with null values; the spec still runs.
    """
    from ai_conductor._cli_run import load_warned

    try:
        model = load_warned(spec)
    except ConductorError as exc:
        raise _fail(exc) from None
    n = len(model.tasks)
    note = "" if n else " (no tasks: settings and agents only)"
    if model.warnings:
        note += f" ({len(model.warnings)} warning(s) above)"
    typer.echo(f"ok: {spec} defines workflow {model.workflow_id!r} with {n} task(s){note}")


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


logs_app = typer.Typer(invoke_without_command=True)
app.add_typer(logs_app, name="logs")


@logs_app.command("replay")
def logs_replay(as_json: JsonOpt = False) -> None:
    """Write events spooled while the database was unreachable into the audit log.

    Idempotent: events already in the database (by event id) are skipped; lines that cannot be
    read or that the database refuses are kept aside in a .rejected.jsonl file, never lost.
    The writer also replays on its own after its next successful write.
    """
    from ai_conductor.settings import get_settings
    from ai_conductor.store import replay_spool

    try:
        result = replay_spool(get_settings())
    except ConductorError as exc:
        raise _fail(exc) from None
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

    try:
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
    except ConductorError as exc:
        raise _fail(exc) from None
    data = [r.model_dump(mode="json", by_alias=True) for r in rows]
    if as_json:
        typer.echo(json.dumps(data, indent=2))
        return
    from ai_conductor._render import log_lines, log_table

    if sys.stdout.isatty():
        Console().print(log_table(data))
    else:  # piped: one tab-separated line per event, for grep and awk
        for line in log_lines(data):
            typer.echo(line)


@app.command()
def mcp() -> None:
    """Serve the conductor's MCP tools over stdio, for Cursor, Roo Code, Claude and others.

    Tools: analyze, run_workflow, implement, get_run, list_runs, cancel_run, list_findings,
    dismiss_finding, search_context, validate_spec; resources: workflow specs and run reports.
    Long runs return a run id at once; poll get_run. Paths are confined to
    CONDUCTOR_ALLOWED_ROOTS (default: the current directory).
    """
    from ai_conductor._cli_serve import run_mcp_stdio

    try:
        run_mcp_stdio()
    except ConductorError as exc:
        raise _fail(exc) from None


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


@app.command()
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
        from ai_conductor._cli_deploy import run_serve

        try:
            code = run_serve(prefect_file, name or [], limit=limit)
        except ConductorError as exc:
            raise _fail(exc) from None
        raise typer.Exit(code)
    from ai_conductor._cli_serve_http import run_http

    try:
        code = run_http(host, port)
    except ConductorError as exc:
        raise _fail(exc) from None
    raise typer.Exit(code)


@app.command()
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
    from ai_conductor._cli_deploy import run_deploy

    try:
        code = run_deploy(prefect_file, name or [], check=check, create_pool=create_pool)
    except ConductorError as exc:
        raise _fail(exc) from None
    raise typer.Exit(code)


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
