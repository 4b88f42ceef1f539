"""``conductor deploy`` and ``conductor serve`` (without --http): prefect.yaml, checked first.

Exit codes: 0 done; 2 the checks found problems (each listed, nothing deployed or served);
3 ``prefect deploy`` failed, or ``serve`` could not pause a served deployment when it stopped.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from rich.console import Console
from rich.markup import escape

from ai_conductor.deployments import (
    PrefectProject,
    Problem,
    api_url,
    check_project,
    load_flow,
    load_project,
    serve_project,
)

err = Console(stderr=True, highlight=False, soft_wrap=True)

__all__ = ["deploy_argv", "run_deploy", "run_serve"]


def _report(prefect_file: Path, problems: list[Problem]) -> int:
    noun = "problem" if len(problems) == 1 else "problems"
    err.print(f"[bold red]error:[/] {escape(str(prefect_file))}: {len(problems)} {noun}")
    for problem in problems:
        err.print(f"  {escape(problem.render())}")
    return 2


def _say(text: str) -> None:
    err.print(escape(text))


def _summary(project: PrefectProject, names: list[str], verb: str) -> None:
    chosen = project.select(tuple(names))
    err.print(f"ok: {verb} {len(chosen)} deployment(s) of {escape(str(project.path))}")
    rows = []
    for entry in chosen:
        flow, _ = load_flow(project.directory, entry.entrypoint)
        when = ", ".join(s.describe() for s in entry.schedules) or "on demand"
        pool = entry.work_pool.name if entry.work_pool and verb == "deploy" else None
        rows.append((f"{flow.name}/{entry.name}", when + (f"  (pool {pool})" if pool else "")))
    width = max(len(name) for name, _ in rows)
    for name, what in rows:
        err.print(f"  {escape(name.ljust(width))}  {escape(what)}")


def deploy_argv(prefect_file: Path, names: list[str]) -> list[str]:
    """The ``prefect deploy`` command line for ``names`` (default: ``--all``)."""
    chosen = [arg for name in names for arg in ("--name", name)] or ["--all"]
    head = [sys.executable, "-m", "prefect", "--no-prompt", "deploy"]
    return [*head, "--prefect-file", str(prefect_file), *chosen]


def run_deploy(prefect_file: Path, names: list[str], *, check: bool, create_pool: bool) -> int:
    """Check, then run ``prefect --no-prompt deploy`` in the project directory, streaming its
    output; 2 when a check fails, 3 when prefect does."""
    problems = check_project(prefect_file, names=names, create_pool=create_pool, say=_say)
    if problems:
        return _report(prefect_file, problems)
    project = load_project(prefect_file)
    _summary(project, names, "deploy")
    if check:
        return 0
    argv = deploy_argv(project.path, names)
    err.print(f"$ prefect {escape(' '.join(argv[3:]))}  (in {escape(str(project.directory))})")
    sys.stdout.flush()
    returncode = subprocess.run(argv, cwd=project.directory, check=False).returncode
    if returncode != 0:
        err.print(f"[bold red]error:[/] prefect deploy exited with {returncode}")
        return 3
    return 0


def run_serve(prefect_file: Path, names: list[str], *, limit: int | None) -> int:
    """Check, then serve the deployments from the project directory until SIGTERM or Ctrl-C."""
    problems = check_project(prefect_file, names=names, deploy=False)
    if problems:
        return _report(prefect_file, problems)
    project = load_project(prefect_file)
    if api_url() is None:
        err.print(
            "warning: PREFECT_API_URL is not set: Prefect starts a temporary server that lives "
            "only as long as this process (no UI, nothing kept); for a lasting one run "
            "`prefect server start` and set PREFECT_API_URL=http://127.0.0.1:4200/api"
        )
    _summary(project, names, "serve")
    err.print(
        "serving: start runs from the Prefect UI or `prefect deployment run FLOW/DEPLOYMENT`; "
        "stop with Ctrl-C or SIGTERM"
    )
    os.chdir(project.directory)
    stop = serve_project(project, names, limit=limit)
    for name, reason in stop.not_paused.items():
        err.print(f"[bold red]error:[/] {escape(name)} is still active: {escape(reason)}; "
                  "pause it in the Prefect UI, or serve it again and stop it")  # fmt: skip
    if stop.not_paused:
        return 3
    if stop.paused:
        err.print("stopped; the served deployments are paused until served again: "
                  + escape(", ".join(stop.paused)))  # fmt: skip
    else:
        err.print("stopped before any deployment was served")
    return 0
