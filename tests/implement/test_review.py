"""Reviewable changes: the size limit, splitting by directory, the tidy-up's scope."""

from __future__ import annotations

from pathlib import Path

import pytest

from ai_conductor.analysis import analyze
from ai_conductor.implement import ImplementOptions, implement
from ai_conductor.implement.review import MAX_FILES, MAX_LINES, changed_lines, chunk
from ai_conductor.protocols import RunProgress
from ai_conductor.refine import refine
from tests.implement.test_implement import calc_repo
from tests.refine.conftest import PYTEST_CONFIG, git, make_repo

pytestmark = pytest.mark.usefixtures("conductor_home")

MESSY = """import sys
import os
import json
def f{n}(a,b):
    return a+b
def g{n}(x):
  if x: return os.sep+sys.platform[:0]
  return {{ 'k':[1,2,
   3] }}
"""


def unformatted(root: Path, per_dir: int = 10) -> Path:
    """30 unformatted modules in three packages, no formatter configuration."""
    files = {"pyproject.toml": PYTEST_CONFIG, "tests/test_ok.py": "def test_ok():\n    pass\n"}
    for pkg in ("alpha", "beta", "gamma"):
        files[f"{pkg}/__init__.py"] = ""
        files.update({f"{pkg}/m{n}.py": MESSY.format(n=n) for n in range(per_dir)})
    return make_repo(root, files)


def test_chunks_follow_directories_and_stay_under_the_limit() -> None:
    paths = [f"a/{n}.py" for n in range(15)] + [f"b/{n}.py" for n in range(15)] + ["c/x.py"]
    chunks = chunk(paths)
    assert [label for label, _ in chunks] == ["a", "b-to-c"]
    assert all(len(files) <= MAX_FILES for _, files in chunks)
    assert sorted(p for _, files in chunks for p in files) == sorted(paths)
    heavy = chunk(["a/1.py", "a/2.py", "b/1.py"], {"a/1.py": 400, "a/2.py": 200, "b/1.py": 10})
    assert [files for _, files in heavy] == [["a/1.py"], ["a/2.py"], ["b/1.py"]]
    assert chunk(paths) == chunk(list(reversed(paths)))  # deterministic


def test_a_change_over_the_limit_is_refused_unless_all_files(tmp_path: Path) -> None:
    repo = calc_repo(tmp_path / "calc")
    big = "\n".join(f"# line {n}" for n in range(MAX_LINES + 10))
    edit = {
        "path": "calc/core.py",
        "search": "return eval(text)",
        "replace": "return int(text)\n" + big,
    }
    options = ImplementOptions(backend="fake", backend_options={"script": [[edit]]}, attempts=1,
                               focus=["security"])  # fmt: skip
    (change,) = implement(analyze(repo), repo, options).changes
    assert change.status.value == "discarded"
    assert "too big to review" in change.attempts[0].reason
    assert "--all-files" in change.attempts[0].reason
    options.all_files = True
    (kept,) = implement(analyze(repo), repo, options).changes
    assert kept.status.value == "kept", kept.attempts[-1].reason
    assert changed_lines(Path(kept.patch or "").read_text()) > MAX_LINES


def test_a_rule_group_over_the_limit_is_split_by_directory(tmp_path: Path) -> None:
    repo = unformatted(tmp_path / "big")
    seen: list[RunProgress] = []
    options = ImplementOptions(backend="builtin", group_by="rule", test_command=[],
                               progress=seen.append)  # fmt: skip
    analysis = analyze(repo)
    report = implement(analysis, repo, options)
    f401 = sorted(c.group for c in report.changes if c.group.startswith("rule:ruff:F401"))
    assert len(f401) >= 2
    for c in report.changes:
        assert len({p for a in c.attempts for p in a.touched}) <= MAX_FILES
    last = seen[-1]
    assert (last.phase, last.done, last.total) == ("done", len(report.changes), len(report.changes))
    assert last.kept == sum(c.status.value == "kept" for c in report.changes)
    assert any(p.current and p.attempt == 1 for p in seen)


def test_tidy_of_30_unformatted_files_comes_out_reviewable(tmp_path: Path) -> None:
    repo = unformatted(tmp_path / "big")
    report = refine(repo, types=False)
    results = report.tidy or []
    assert len(results) >= 2
    for r in results:
        assert r.status.value == "kept", r.reason
        assert len(r.touched) <= MAX_FILES
        assert r.lines <= MAX_LINES
        assert r.branch == f"conductor/refine/refine/{r.name}"
    assert sum(len(r.touched) for r in results) == 30
    whole = refine(repo, types=False, all_files=True, workflow_id="whole")
    (one,) = whole.tidy or []
    assert len(one.touched) == 30  # one change of everything: over the limit, asked for


def test_tidy_scope_since_a_ref_and_from_an_analysis(tmp_path: Path) -> None:
    repo = unformatted(tmp_path / "big", per_dir=2)
    base = git(repo, "rev-parse", "HEAD").strip()
    (repo / "beta" / "new.py").write_text(MESSY.format(n=9))
    git(repo, "add", "-A")
    git(repo, "-c", "user.name=t", "-c", "user.email=t@e", "commit", "-qm", "new")
    (since,) = refine(repo, types=False, since=base).tidy or []
    assert since.touched == ["beta/new.py"]
    analysis = analyze(repo)
    analysis.findings = [f for f in analysis.findings if f.path == "alpha/m1.py"]
    report = refine(repo, types=False, analysis=analysis, workflow_id="scoped")
    (scoped,) = report.tidy or []
    assert scoped.touched == ["alpha/m1.py"]
    assert report.tidy_scope == "the 1 file(s) with findings in the analysis"
