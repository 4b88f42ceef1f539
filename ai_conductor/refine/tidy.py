"""Formatting and import order, kept only when verified like any other change.

``ruff check --select I --fix`` and ``ruff format`` run in a detached worktree. They run
*without* ``--isolated``: the project's own ruff configuration (``[tool.ruff]``, ``ruff.toml``:
line length, quote style, isort sections, excludes, honoured for named files too through
``--force-exclude``) is what a project means by "tidy", and ruff's defaults apply when it has
none. ``--select I`` replaces the project's rule selection, so only import order is fixed;
notebooks are left alone.

Scope: the files the run's findings are in (an analysis), or the files changed since a git
ref (``--since``), or every Python file. Reviewable: ruff runs once to measure what it would
change; a result over the size limit (:mod:`ai_conductor.implement.review`) is split by
directory into several changes, each verified by the implementer's gate (``verify()``) in the
project's environment and published on its own stable branch (``.../tidy`` when there is
one change, ``.../tidy-<directory>`` when there are several); ``all_files`` keeps one change.
"""

from __future__ import annotations

import subprocess
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from ai_conductor.analysis.engine import scan
from ai_conductor.analysis.models import Finding
from ai_conductor.analysis.tools import find_binary
from ai_conductor.environment import ProjectEnvironment
from ai_conductor.errors import ConductorError
from ai_conductor.implement import branches
from ai_conductor.implement.change import api_check
from ai_conductor.implement.reclaim import claimed
from ai_conductor.implement.review import MAX_FILES, MAX_LINES, changed_lines, chunk
from ai_conductor.implement.verify import verify
from ai_conductor.implement.workspace import Workspace, _git, _text
from ai_conductor.refine.models import TidyResult, TidyStatus
from ai_conductor.settings import Settings

RUFF_TIMEOUT = 600.0
_COMMON = ("--no-cache", "--extend-exclude", "*.ipynb", "--force-exclude")
CHECK = ("check", "--select", "I", "--fix", "--exit-zero", *_COMMON)
FORMAT = ("format", *_COMMON)
PY = (".py", ".pyi")


@dataclass
class TidyJob:
    """What one tidy-up works with (shared by its changes)."""

    root: Path
    run_id: str
    prefix: str
    """Branch prefix ``conductor/<workflow>/<task>``."""
    environment: ProjectEnvironment
    test_timeout: float
    settings: Settings
    files: list[str] | None = None
    """The scope (POSIX paths); None: every Python file."""
    allow_api_changes: bool = False
    all_files: bool = False
    work_id: str = ""
    """Names the worktree and patch directories (default: ``run_id``)."""

    @property
    def work(self) -> str:
        return self.work_id or self.run_id


def _ruff(binary: str, args: tuple[str, ...], cwd: Path, files: Sequence[str]) -> str | None:
    """Run ruff on ``files`` (or ``.``); its complaint when it exits non-zero, else None."""
    try:
        done = subprocess.run(
            [binary, *args, "--", *(files or ["."])], cwd=cwd, stdin=subprocess.DEVNULL,
            capture_output=True, text=True, encoding="utf-8", errors="replace",
            timeout=RUFF_TIMEOUT, check=False,
        )  # fmt: skip
    except (OSError, subprocess.TimeoutExpired) as exc:
        return f"ruff {args[0]} could not run: {exc}"
    if done.returncode:
        tail = (done.stderr or done.stdout).strip()[-1000:]
        return f"ruff {args[0]} exited {done.returncode}: {tail or 'no output'}"
    return None


def _run_ruff(binary: str, ws: Workspace, files: Sequence[str]) -> list[str]:
    return [
        p
        for p in (_ruff(binary, CHECK, ws.path, files), _ruff(binary, FORMAT, ws.path, files))
        if p
    ]


def _weights(ws: Workspace) -> dict[str, int]:
    out = _text(_git(ws.path, "diff", "--cached", "--numstat", "--no-renames", ws.base).stdout)
    weights = {}
    for line in out.splitlines():
        added, removed, path = line.split("\t", 2)
        weights[path] = (int(added) if added.isdigit() else 0) + (
            int(removed) if removed.isdigit() else 0
        )
    return weights


def _plan(job: TidyJob, touched: list[str], weights: dict[str, int]) -> list[tuple[str, list[str]]]:
    """One change, or several by directory when the whole is over the size limit."""
    fits = len(touched) <= MAX_FILES and sum(weights.values()) <= MAX_LINES
    if job.all_files or fits:
        return [("tidy", touched)]
    return [
        (f"tidy-{branches.slug(label.replace('/', '-'))}", files)
        for label, files in chunk(touched, weights)
    ]


def _one(
    job: TidyJob, ws: Workspace, binary: str, name: str, files: list[str], before: list[Finding]
) -> TidyResult:
    branch = f"{job.prefix}/{name}"
    why = branches.problem(job.root, branch)
    if why:
        return TidyResult(name=name, status=TidyStatus.ERROR, reason=why, touched=files)
    problems = _run_ruff(binary, ws, files)
    touched = ws.touched()
    diff = ws.diff()
    note = "".join(f"\n{p}" for p in problems)  # e.g. a file ruff could not parse: left as is
    refused = None if job.allow_api_changes else api_check(ws, touched)
    if refused:
        return TidyResult(name=name, status=TidyStatus.DISCARDED, reason=refused, touched=touched)
    trailers = branches.trailers(job.run_id, f"tidy:{name}", touched)
    commit = ws.commit(f"tidy formatting and import order (ruff, {len(touched)} files)", trailers)
    verdict = verify(ws.path, touched, [], before, environment=job.environment,
                     test_timeout=job.test_timeout, settings=job.settings)  # fmt: skip
    ws.clean()
    lines = changed_lines(diff)
    if not verdict.passed:
        return TidyResult(name=name, status=TidyStatus.DISCARDED, reason=verdict.reason + note,
                          touched=touched, lines=lines, verification=verdict)  # fmt: skip
    published = branches.publish(ws, branch, commit)
    patch_file = job.settings.home_dir / "patches" / job.work / f"{name}.patch"
    patch_file.parent.mkdir(parents=True, exist_ok=True)
    patch_file.write_text(diff, encoding="utf-8", errors="surrogateescape")
    return TidyResult(
        name=name, status=TidyStatus.KEPT, branch=branch, patch=str(patch_file),
        reason=verdict.reason + note, touched=touched, lines=lines, verification=verdict,
        unchanged_since=_since(published), replaced=published.previous,
    )  # fmt: skip


def _since(published: branches.Published) -> str | None:
    if published.status != "unchanged":
        return None
    return published.since_run or "an earlier run"


def _tidy_in(job: TidyJob, ws: Workspace, binary: str) -> list[TidyResult]:
    files = job.files
    if files is not None:
        files = sorted(p for p in set(files) if p.endswith(PY) and (ws.path / p).is_file())
        if not files:
            return [TidyResult(status=TidyStatus.UNCHANGED, reason="no Python files in scope")]
    before = scan(ws.path, settings=job.settings).findings
    problems = _run_ruff(binary, ws, files or [])
    touched = ws.touched()
    if not touched:
        status = TidyStatus.ERROR if problems else TidyStatus.UNCHANGED
        return [
            TidyResult(
                status=status, reason="\n".join(problems) or "already tidy: ruff changed nothing"
            )
        ]
    weights = _weights(ws)
    ws.reset()
    results = []
    for name, part in _plan(job, touched, weights):
        try:
            results.append(_one(job, ws, binary, name, part, before))
        except ConductorError as exc:
            results.append(
                TidyResult(name=name, status=TidyStatus.ERROR, reason=str(exc), touched=part)
            )
        ws.reset()
    return results


def tidy(job: TidyJob) -> list[TidyResult]:
    """Tidy ``job.root`` in a worktree; keep each change only when the gate passes."""
    binary = find_binary("ruff")
    if binary is None:
        return [
            TidyResult(status=TidyStatus.ERROR, reason="ruff is not installed: pip install ruff")
        ]
    run_dir = job.settings.home_dir / "worktrees" / job.work
    with claimed(run_dir):
        try:
            ws = Workspace.create(job.root, run_dir, "tidy")
        except ConductorError as exc:
            return [
                TidyResult(status=TidyStatus.ERROR, reason=f"no worktree for the tidy-up: {exc}")
            ]
        try:
            return _tidy_in(job, ws, binary)
        except ConductorError as exc:
            return [TidyResult(status=TidyStatus.ERROR, reason=str(exc))]
        finally:
            ws.remove()


def since_files(root: Path, ref: str) -> list[str]:
    """Files changed between ``ref`` and HEAD (UsageError for an unknown ref)."""
    from ai_conductor.errors import UsageError

    args = ("--name-only", "--no-renames", "--diff-filter=d", "-z", ref, "HEAD")
    out = _git(root, "diff", *args, error=UsageError)
    return sorted(p for p in _text(out.stdout).split("\0") if p)
