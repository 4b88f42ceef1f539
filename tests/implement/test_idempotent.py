"""Stable branches: a re-run with the same result adds nothing; a different one replaces the
branch (the old tip kept); a branch someone else committed on is never replaced."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from ai_conductor.analysis import analyze
from ai_conductor.implement import ImplementOptions, implement
from ai_conductor.implement.branches import names
from ai_conductor.refine import refine
from tests.implement.test_implement import calc_repo
from tests.refine.conftest import git

pytestmark = pytest.mark.usefixtures("conductor_home")
FIX = {"path": "calc/core.py", "search": "return eval(text)", "replace": "return int(text)"}
OTHER = {"path": "calc/core.py", "search": "return eval(text)", "replace": "return int(text, 10)"}


def branches(repo: Path) -> list[str]:
    return git(repo, "branch", "--list", "--format=%(refname:short)").split()


def fake(script: list[list[dict[str, str]]]) -> ImplementOptions:
    return ImplementOptions(backend="fake", backend_options={"script": script}, focus=["security"])


def test_a_second_identical_run_adds_no_branch(tmp_path: Path) -> None:
    repo = calc_repo(tmp_path / "calc")
    analysis = analyze(repo)
    first = implement(analysis, repo, ImplementOptions(backend="builtin"))
    before = branches(repo)
    second = implement(analysis, repo, ImplementOptions(backend="builtin"))
    assert branches(repo) == before  # no "-2" branch
    (one,), (two,) = first.changes, second.changes
    assert one.branch == two.branch == "conductor/implement/implement/file-calc-core.py"
    assert (one.unchanged_since, two.unchanged_since) == (None, first.run_id)
    tip = git(repo, "log", "-1", "--format=%(trailers)", two.branch or "")
    assert f"Conductor-Run: {first.run_id}" in tip  # the branch was left as it was
    assert "Conductor-Findings:" in tip
    assert git(repo, "status", "--porcelain") == ""


def test_a_different_result_replaces_the_branch_and_keeps_the_old_tip(tmp_path: Path) -> None:
    repo = calc_repo(tmp_path / "calc")
    analysis = analyze(repo)
    (one,) = implement(analysis, repo, fake([[FIX]])).changes
    old = git(repo, "rev-parse", one.branch or "").strip()
    (two,) = implement(analysis, repo, fake([[OTHER]])).changes
    assert (two.status.value, two.branch, two.replaced) == ("kept", one.branch, old)
    assert "int(text, 10)" in git(repo, "show", f"{two.branch}:calc/core.py")
    assert git(repo, "rev-parse", f"refs/conductor/previous/{one.branch}").strip() == old
    assert Path(one.patch or "").is_file()  # the old result stays in its patch file too


def test_a_branch_someone_committed_on_is_never_replaced(tmp_path: Path) -> None:
    repo = calc_repo(tmp_path / "calc")
    analysis = analyze(repo)
    (one,) = implement(analysis, repo, fake([[FIX]])).changes
    branch = one.branch or ""
    subprocess.run(["git", "checkout", "-q", branch], cwd=repo, check=True)
    (repo / "NOTES.md").write_text("mine\n")
    subprocess.run(["git", "add", "-A"], cwd=repo, check=True)
    subprocess.run(["git", "-c", "user.name=me", "-c", "user.email=me@e", "commit", "-qm", "mine"],
                   cwd=repo, check=True)  # fmt: skip
    subprocess.run(["git", "checkout", "-q", "main"], cwd=repo, check=True)
    mine = git(repo, "rev-parse", branch).strip()
    (two,) = implement(analysis, repo, fake([[OTHER]])).changes
    assert two.status.value == "error"
    assert "was not made by the conductor: not replacing it" in two.summary
    assert two.attempts == []  # refused before any work
    assert git(repo, "rev-parse", branch).strip() == mine


def test_branch_components_are_stable_and_distinct() -> None:
    long = "file:" + "x" * 100
    got = names([long + "a.py", long + "b.py", "file:a b.py", "file:a-b.py", "rule:ruff:F401"])
    assert len(set(got.values())) == 5
    assert got["rule:ruff:F401"] == "rule-ruff-F401"
    assert got == names(reversed(list(got)))  # the same whatever the order


def test_refine_reuses_its_tidy_branch(tmp_path: Path) -> None:
    from tests.refine.conftest import PYTEST_CONFIG, make_repo
    from tests.refine.test_refine import MESSY, TESTS

    files = {"pkg/__init__.py": "", "pkg/core.py": MESSY, "tests/test_core.py": TESTS,
             "pyproject.toml": PYTEST_CONFIG}  # fmt: skip
    repo = make_repo(tmp_path / "messy", files)
    first = refine(repo, types=False)
    second = refine(repo, types=False)
    (a,), (b,) = first.tidy or [], second.tidy or []
    assert (a.branch, b.branch) == ("conductor/refine/refine/tidy",) * 2
    assert b.unchanged_since == first.run_id
    assert branches(repo) == ["conductor/refine/refine/tidy", "main"]
