"""Worktrees of a SIGKILLed run are removed by the next run on the host; live runs', other
hosts' and kept changes' are not. The killed runs are real processes killed with SIGKILL."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
from pathlib import Path

from ai_conductor.implement.reclaim import OWNER, claimed, reclaim_stale
from tests.implement.test_workspace import git, make_repo

KILLED_RUN = """
import os, signal, sys
from pathlib import Path
from ai_conductor.implement.branches import publish
from ai_conductor.implement.reclaim import claimed
from ai_conductor.implement.workspace import Workspace

repo, run_dir, branch, keep = Path(sys.argv[1]), Path(sys.argv[2]), sys.argv[3], sys.argv[4]
with claimed(run_dir):
    ws = Workspace.create(repo, run_dir, branch.rsplit("/", 1)[-1])
    (ws.path / "app.py").write_text("x = 'half done'\\n")
    sha = ws.commit("a change", {"Conductor-Run": "killed"})
    if keep == "1":
        publish(ws, branch, sha)
    os.kill(os.getpid(), signal.SIGKILL)
"""


def killed_run(repo: Path, run_dir: Path, branch: str, *, keep: bool = False) -> None:
    argv = [sys.executable, "-c", KILLED_RUN, str(repo), str(run_dir), branch, str(int(keep))]
    proc = subprocess.run(argv, capture_output=True, text=True, timeout=120)
    assert proc.returncode == -signal.SIGKILL, proc.stderr


def worktrees(repo: Path) -> list[str]:
    out = git(repo, "worktree", "list", "--porcelain").splitlines()
    return [line.split(" ", 1)[1] for line in out if line.startswith("worktree ")]


def test_a_killed_runs_worktrees_are_reclaimed_by_the_next_run(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "repo")
    root = tmp_path / "home" / "worktrees"
    killed_run(repo, root / "run1", "conductor/wf/fix/a")
    assert len(worktrees(repo)) == 2  # the checkout and run1's stale worktree
    killed_run(repo, root / "run2", "conductor/wf/fix/b", keep=True)  # reclaims run1 first
    assert [Path(p).parent.name for p in worktrees(repo)[1:]] == ["run2"]
    assert {p.name for p in root.iterdir()} == {"run2"}

    with claimed(root / "run3") as reclaimed:
        assert reclaimed == ["run2"]
        assert (root / "run3" / OWNER).is_file()
    assert worktrees(repo) == [str(repo)]
    assert not root.exists() or list(root.iterdir()) == []  # run3 removed itself too
    branches = git(repo, "branch", "--list", "conductor/*", "--format=%(refname:short)").split()
    assert branches == ["conductor/wf/fix/b"], "the published change's branch stays"
    assert git(repo, "status", "--porcelain") == ""


def test_live_other_host_and_unowned_directories_are_left_alone(tmp_path: Path) -> None:
    root = tmp_path / "worktrees"
    with claimed(root / "mine"):  # this process: alive
        other = root / "other-host"
        other.mkdir()
        (other / OWNER).write_text(json.dumps({"pid": 1, "host": "elsewhere.example"}))
        (root / "no-owner").mkdir()  # an older version's directory
        reused = root / "reused-pid"  # our pid, but a different process start: a dead owner
        reused.mkdir()
        (reused / OWNER).write_text(json.dumps({"pid": os.getpid(), "started": "1",
                                                "host": socket.gethostname()}))  # fmt: skip
        assert reclaim_stale(root) == ["reused-pid"]
        assert {p.name for p in root.iterdir()} == {"mine", "other-host", "no-owner"}
