"""``conductor analyze``: findings of ruff, bandit, radon and taint analysis, a report, a gate."""

from __future__ import annotations

import contextlib
from pathlib import Path
from typing import Annotated, Any

import typer

from ai_conductor.cli._errors import top_level
from ai_conductor.cli._options import FailOn, ForgeOpt, RemoteOpt, ReportFormat, value

commands = top_level()


@commands.command()
def analyze(
    codebase: Annotated[Path, typer.Option(help="Codebase to analyse.")] = Path("."),
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="Write the report to this file.")
    ] = None,
    fmt: Annotated[
        ReportFormat | None,
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
        FailOn,
        typer.Option(
            help="Exit 1 when a reported finding is at least: critical, high, medium, "
            "low; none never fails."
        ),
    ] = FailOn.none,
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
    from ai_conductor.cli._analyze import run_analyze
    from ai_conductor.cli._review import ReviewFlags

    review = ReviewFlags(diff_base, publish, pull, remote, value(forge))
    review.check()
    form, level = value(fmt), fail_on.value
    with _analysis_events(codebase, fmt=form, output=output, focus=focus, new_only=new_only,
                          fail_on=level, tools=tool):  # fmt: skip
        code = run_analyze(
            codebase, output=output, fmt=form, focus=focus or [], new_only=new_only,
            fail_on=level, tools=tool, category=category, min_coverage=min_coverage,
            review=review,
        )  # fmt: skip
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
