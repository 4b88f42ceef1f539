"""Worktrees a killed run left behind, found and removed by the next run on the same host.

Each run that makes worktrees (implement, refine's tidy-up) works in its own directory
``$CONDUCTOR_HOME/worktrees/<run_id>`` and writes an owner file there: its pid, the process's
start time (so a reused pid is not mistaken for the owner) and the host name. The directory is
removed when the run ends. A SIGKILLed run cannot clean up: its worktrees stay registered in
the user's repository and its branches stay. :func:`claimed` first calls
:func:`reclaim_stale`, which removes every run directory whose owner is a dead process on this
host: ``git worktree remove --force``, the branch deleted unless its tip is a kept change
(a commit the conductor made, subject ``conductor: ...``), then the directory. Directories of
other hosts (a shared home) and without an owner file (older versions) are left alone.
"""

from __future__ import annotations

import json
import logging
import shutil
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

from ai_conductor._process import process_alive, this_process
from ai_conductor.implement.workspace import KEPT_PREFIX, _git, _text

log = logging.getLogger(__name__)
OWNER = ".owner.json"


def _drop_worktree(tree: Path) -> None:
    out = _git(tree, "rev-parse", "--path-format=absolute", "--git-common-dir", check=False)
    common = _text(out.stdout).strip()
    if out.returncode or not common:
        return
    repo = Path(common).parent
    branch = _text(_git(tree, "symbolic-ref", "--short", "-q", "HEAD", check=False).stdout)
    subject = _text(_git(tree, "log", "-1", "--format=%s", check=False).stdout)
    _git(repo, "worktree", "remove", "--force", str(tree), check=False)
    shutil.rmtree(tree, ignore_errors=True)
    _git(repo, "worktree", "prune", check=False)
    if branch.strip() and not subject.startswith(KEPT_PREFIX):
        _git(repo, "branch", "-q", "-D", branch.strip(), check=False)


def reclaim_stale(root: Path) -> list[str]:
    """Remove the run directories under ``root`` whose owner died; returns their names."""
    reclaimed: list[str] = []
    if not root.is_dir():
        return reclaimed
    for run_dir in sorted(p for p in root.iterdir() if p.is_dir() and not p.is_symlink()):
        try:
            owner = json.loads((run_dir / OWNER).read_text())
        except (OSError, ValueError):
            continue  # no owner file: an older version's, or a run still setting up
        if not isinstance(owner, dict) or process_alive(owner):
            continue
        for tree in sorted(run_dir.iterdir()):
            if (tree / ".git").is_file():  # a worktree (an owned copy has a .git directory)
                _drop_worktree(tree)
        shutil.rmtree(run_dir, ignore_errors=True)
        reclaimed.append(run_dir.name)
        log.warning("removed the worktrees of run %s (its process %s died)", run_dir.name,
                    owner.get("pid"))  # fmt: skip
    return reclaimed


@contextmanager
def claimed(run_dir: Path) -> Iterator[list[str]]:
    """Own ``run_dir`` for the block (after reclaiming dead runs' directories beside it);
    yields the names reclaimed. The directory is removed at the end if nothing is left in it."""
    reclaimed = reclaim_stale(run_dir.parent)
    run_dir.mkdir(parents=True, exist_ok=True)
    (run_dir / OWNER).write_text(json.dumps(this_process()))
    try:
        yield reclaimed
    finally:
        (run_dir / OWNER).unlink(missing_ok=True)
        with suppress(OSError):
            run_dir.rmdir()
