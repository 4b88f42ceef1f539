"""Workspace: isolated worktrees, hooks never run, diffs, resets, commits and applying patches."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from ai_conductor.errors import UsageError
from ai_conductor.implement.workspace import Workspace, apply_patch

GIT = ["git", "-c", "user.name=t", "-c", "user.email=t@t", "-c", "commit.gpgsign=false"]


def git(cwd: Path, *args: str) -> str:
    return subprocess.run([*GIT, *args], cwd=cwd, check=True, capture_output=True, text=True).stdout


def make_repo(path: Path) -> Path:
    path.mkdir()
    (path / "app.py").write_text("x = 1\n")
    (path / "old.py").write_text("y = 2\n")
    git(path, "init", "-q")
    git(path, "add", "-A")
    git(path, "commit", "-q", "-m", "init")
    return path


def status(path: Path) -> str:
    return git(path, "status", "--porcelain", "--untracked-files=all")


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    return make_repo(tmp_path / "repo")


def edit(ws: Workspace) -> None:
    (ws.path / "app.py").write_text("x = 42\n")
    (ws.path / "new.py").write_text("z = 3\n")
    (ws.path / "old.py").unlink()


def test_worktree_isolation_through_the_lifecycle(repo: Path, tmp_path: Path) -> None:
    (repo / "app.py").write_text("x = 'local edit'\n")  # uncommitted user change
    before = status(repo)
    branches_before = git(repo, "branch", "--list")
    ws = Workspace.create(repo, tmp_path / "ws", "file-app-py")
    assert ws.repo == repo.resolve()
    assert ws.path.name == "file-app-py"
    assert ws.base == git(repo, "rev-parse", "HEAD").strip()
    assert (ws.path / "app.py").read_text() == "x = 1\n"  # starts at HEAD, not the local edit
    assert git(ws.path, "rev-parse", "--abbrev-ref", "HEAD").strip() == "HEAD"  # detached
    edit(ws)
    assert status(repo) == before
    assert ws.touched() == ["app.py", "new.py", "old.py"]
    diff = ws.diff()
    assert "+x = 42" in diff
    assert "new file mode" in diff
    assert "deleted file mode" in diff
    ws.reset()
    assert ws.touched() == []
    assert ws.diff() == ""
    edit(ws)
    sha = ws.commit("fix app", {"Conductor-Run": "r1"})
    assert git(repo, "log", "-1", "--format=%s", sha).strip() == "conductor: fix app"
    assert "Conductor-Run: r1" in git(repo, "log", "-1", "--format=%(trailers)", sha)
    assert ws.touched() == ["app.py", "new.py", "old.py"]  # still measured against base
    (ws.path / "artifact.txt").write_text("left by the tests\n")
    ws.clean()
    assert not (ws.path / "artifact.txt").exists()
    assert git(ws.path, "rev-parse", "HEAD").strip() == sha  # the commit stays
    assert ws.original("app.py") == "x = 1\n"
    assert ws.original("new.py") is None
    assert status(repo) == before
    ws.remove()
    ws.remove()  # idempotent
    assert not ws.path.exists()
    assert git(repo, "branch", "--list") == branches_before  # a workspace makes no branch
    assert status(repo) == before
    assert (repo / "app.py").read_text() == "x = 'local edit'\n"


def test_hooks_never_run(repo: Path, tmp_path: Path) -> None:
    marker = tmp_path / "hook-ran"
    for hook in ("pre-commit", "post-checkout", "post-commit", "commit-msg"):
        script = repo / ".git" / "hooks" / hook
        script.write_text(f"#!/bin/sh\necho {hook} >> '{marker}'\n")
        script.chmod(0o755)
    ws = Workspace.create(repo, tmp_path / "ws", "hooks")
    edit(ws)
    ws.commit("change")
    ws.reset()
    ws.remove()
    assert not marker.exists()


def test_two_workspaces_get_distinct_directories(repo: Path, tmp_path: Path) -> None:
    first = Workspace.create(repo, tmp_path / "ws", "x")
    second = Workspace.create(repo, tmp_path / "ws", "x")
    assert first.path != second.path
    for ws in (first, second):
        ws.remove()


def test_a_subdirectory_is_refused(repo: Path, tmp_path: Path) -> None:
    (repo / "pkg").mkdir()
    with pytest.raises(UsageError, match="repository root"):
        Workspace.create(repo / "pkg", tmp_path / "ws", "a")


def test_non_git_directory_is_copied_into_a_fresh_repo(tmp_path: Path) -> None:
    src = tmp_path / "plain"
    (src / "pkg").mkdir(parents=True)
    (src / "pkg" / "mod.py").write_text("a = 1\n")
    for skipped in (".venv", "node_modules", "__pycache__", "x.egg-info"):
        (src / skipped).mkdir()
        (src / skipped / "junk.py").write_text("junk\n")
    outside = tmp_path / "secret.txt"
    outside.write_text("secret\n")
    (src / "escape").symlink_to(outside)
    (src / "inside").symlink_to("pkg/mod.py")
    ws = Workspace.create(src, tmp_path / "ws", "plain")
    assert ws.repo != src
    assert ws.owns_repo
    assert not (src / ".git").exists()
    files = sorted(
        p.relative_to(ws.path).as_posix() for p in ws.path.rglob("*") if ".git" not in p.parts
    )
    assert files == ["inside", "pkg", "pkg/mod.py"]
    (ws.path / "pkg" / "mod.py").write_text("a = 2\n")
    assert ws.touched() == ["pkg/mod.py"]
    patch = ws.diff()
    ws.remove()
    assert not ws.repo.exists()
    apply_patch(src, patch)
    assert (src / "pkg" / "mod.py").read_text() == "a = 2\n"


def test_apply_patch_onto_a_clean_checkout(repo: Path, tmp_path: Path) -> None:
    ws = Workspace.create(repo, tmp_path / "ws", "apply")
    edit(ws)
    patch = ws.diff()
    ws.remove()
    apply_patch(repo, patch)
    assert (repo / "app.py").read_text() == "x = 42\n"
    assert (repo / "new.py").read_text() == "z = 3\n"
    assert not (repo / "old.py").exists()


def test_apply_patch_refuses_local_changes_and_conflicts(repo: Path, tmp_path: Path) -> None:
    ws = Workspace.create(repo, tmp_path / "ws", "apply")
    edit(ws)
    patch = ws.diff()
    ws.remove()
    (repo / "app.py").write_text("x = 'mine'\n")
    before = status(repo)
    with pytest.raises(UsageError, match=r"app\.py"):
        apply_patch(repo, patch)
    assert status(repo) == before
    assert (repo / "app.py").read_text() == "x = 'mine'\n"
    assert (repo / "old.py").exists()
    assert not (repo / "new.py").exists()
    # committed (not local) divergence: passes the status check, fails git apply --check
    git(repo, "commit", "-q", "-am", "diverge")
    with pytest.raises(UsageError, match="patch"):
        apply_patch(repo, patch)
    assert status(repo) == ""
    assert (repo / "old.py").exists()
    assert not (repo / "new.py").exists()
