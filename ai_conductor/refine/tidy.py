"""Formatting and import order, kept only when verified like any other change.

``ruff check --select I --fix`` and ``ruff format`` run in a worktree on the branch
``conductor/<workflow>/<task>/tidy``. They run *without* ``--isolated``: the project's own ruff
configuration (``[tool.ruff]`` in pyproject.toml, ``ruff.toml``, ``.ruff.toml``: line length, quote
style, isort sections, excludes) is what a project means by "tidy", and ruff's defaults apply
when it has none. ``--select I`` on the command line replaces the project's rule selection, so
only import order is fixed; notebooks are left alone. The gate is the implementer's ``verify()``.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

from ai_conductor.analysis.engine import scan
from ai_conductor.analysis.models import Finding
from ai_conductor.analysis.tools import find_binary
from ai_conductor.errors import ConductorError
from ai_conductor.implement.models import Verification
from ai_conductor.implement.reclaim import claimed
from ai_conductor.implement.verify import verify
from ai_conductor.implement.workspace import Workspace
from ai_conductor.refine.models import TidyResult, TidyStatus
from ai_conductor.settings import Settings

RUFF_TIMEOUT = 600.0
_COMMON = ("--no-cache", "--extend-exclude", "*.ipynb")
CHECK = ("check", "--select", "I", "--fix", "--exit-zero", *_COMMON, ".")
FORMAT = ("format", *_COMMON, ".")


def _ruff(binary: str, args: tuple[str, ...], cwd: Path) -> str | None:
    """Run ruff; its complaint when it exits non-zero or cannot run, else None."""
    try:
        done = subprocess.run(
            [binary, *args], cwd=cwd, stdin=subprocess.DEVNULL, capture_output=True, text=True,
            encoding="utf-8", errors="replace", timeout=RUFF_TIMEOUT, check=False,
        )  # fmt: skip
    except (OSError, subprocess.TimeoutExpired) as exc:
        return f"ruff {args[0]} could not run: {exc}"
    if done.returncode:
        tail = (done.stderr or done.stdout).strip()[-1000:]
        return f"ruff {args[0]} exited {done.returncode}: {tail or 'no output'}"
    return None


def _gate(
    ws: Workspace, touched: list[str], before: list[Finding], tests: list[str] | None,
    timeout: float, settings: Settings,
) -> Verification:  # fmt: skip
    """The implementer's gate with nothing targeted: findings whose lines the formatter
    rewrote count as moved, not new (see ``verify``)."""
    return verify(
        ws.path, touched, [], before, test_command=tests, test_timeout=timeout, settings=settings
    )


def _tidy_in(
    ws: Workspace, binary: str, tests: list[str] | None, timeout: float, settings: Settings,
    patch_file: Path,
) -> TidyResult:  # fmt: skip
    before = scan(ws.path, settings=settings).findings
    problems = [p for p in (_ruff(binary, CHECK, ws.path), _ruff(binary, FORMAT, ws.path)) if p]
    touched = ws.touched()
    if not touched:
        if problems:
            return TidyResult(status=TidyStatus.ERROR, reason="\n".join(problems))
        return TidyResult(status=TidyStatus.UNCHANGED, reason="already tidy: ruff changed nothing")
    patch = ws.diff()
    ws.commit(f"tidy formatting and import order (ruff, {len(touched)} files)")
    verdict = _gate(ws, touched, before, tests, timeout, settings)
    note = "".join(f"\n{p}" for p in problems)  # e.g. a file ruff could not parse: left as is
    if not verdict.passed:
        return TidyResult(
            status=TidyStatus.DISCARDED, reason=verdict.reason + note, touched=touched,
            verification=verdict,
        )  # fmt: skip
    patch_file.parent.mkdir(parents=True, exist_ok=True)
    patch_file.write_text(patch, encoding="utf-8", errors="surrogateescape")
    return TidyResult(
        status=TidyStatus.KEPT, branch=ws.branch, patch=str(patch_file),
        reason=verdict.reason + note, touched=touched, verification=verdict,
    )  # fmt: skip


def tidy(
    root: Path, *, run_id: str, branch: str, tests: list[str] | None, test_timeout: float,
    settings: Settings,
) -> TidyResult:  # fmt: skip
    """Tidy ``root`` in a worktree on ``branch``; keep it only when the gate passes.

    ``tests``: the project's test command; None lets the gate detect one; [] runs none.
    """
    binary = find_binary("ruff")
    if binary is None:
        return TidyResult(status=TidyStatus.ERROR, reason="ruff is not installed: pip install ruff")
    run_dir = settings.home_dir / "worktrees" / run_id
    with claimed(run_dir):
        try:
            ws = Workspace.create(root, branch, run_dir)
        except ConductorError as exc:
            reason = f"no worktree for the tidy-up: {exc}"
            return TidyResult(status=TidyStatus.ERROR, reason=reason)
        result = TidyResult(status=TidyStatus.ERROR)
        try:
            patch_file = settings.home_dir / "patches" / run_id / "tidy.patch"
            result = _tidy_in(ws, binary, tests, test_timeout, settings, patch_file)
        except ConductorError as exc:
            result = TidyResult(status=TidyStatus.ERROR, reason=str(exc))
        finally:
            ws.remove(keep_branch=result.status is TidyStatus.KEPT)
    return result
