"""One history per codebase: the focus filters the report, never the memory; what a run could
not check again is carried, not 'fixed'; --new-only counts what it reports."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from ai_conductor.analysis import FindingStatus, analyze, scan
from ai_conductor.analysis.memory import FindingsMemory
from tests.conftest import BIN, REPO, cli_env

NEW, EXISTING = FindingStatus.NEW, FindingStatus.EXISTING
pytestmark = pytest.mark.usefixtures("conductor_home")


@pytest.fixture
def project(tmp_path: Path) -> Path:
    dest = tmp_path / "defects"
    shutil.copytree(REPO / "examples" / "defects", dest)
    return dest


def test_focus_filters_the_report_not_the_history(project: Path) -> None:
    security = analyze(project, focus=["security"])
    assert security.findings
    assert all(f.category.value == "security" for f in security.findings)
    assert security.codebase_id == str(project.resolve())  # no '?focus=' history of its own
    complexity = analyze(project, focus=["complexity"])
    assert complexity.findings
    assert {f.status for f in complexity.findings} == {EXISTING}  # seen by the first run
    assert complexity.summary.total == len(complexity.findings)
    everything = analyze(project)
    assert {f.status for f in everything.findings} == {EXISTING}
    assert everything.fixed == []
    runs = FindingsMemory.open().runs(codebase_id=str(project.resolve()))
    assert len(runs) == 3
    assert {r.summary.total for r in runs} == {everything.summary.total}  # each stored whole


def test_a_run_of_some_tools_keeps_the_others_findings(project: Path) -> None:
    full = analyze(project)
    bandit_only = {f.fingerprint for f in full.findings if f.tool == "bandit"}
    assert bandit_only
    ruff = analyze(project, tools=["ruff"])
    assert ruff.fixed == []  # bandit did not run: its findings are not 'fixed'
    assert not {f.fingerprint for f in ruff.findings} & bandit_only
    stored = FindingsMemory.open().findings(run_id=ruff.run_id, limit=5000)
    assert bandit_only <= {f.fingerprint for f in stored}  # carried into the stored run
    again = analyze(project)
    assert again.summary.new == 0
    assert again.summary.existing == full.summary.total


def test_a_file_a_tool_cannot_read_keeps_its_findings(project: Path) -> None:
    """bandit cannot parse a file for one run (a syntax error): its bandit-only findings there
    are carried, and come back as existing, not new, when the file is fixed."""
    target = project / "deploy.py"
    original = target.read_text()
    first = analyze(project)
    there = {f.fingerprint for f in first.findings if f.path == "deploy.py" and f.tool == "bandit"}
    assert there
    target.write_text(original + "\ndef broken(:\n    pass\n")
    broken = analyze(project)
    bandit = next(t for t in broken.tools if t.name == "bandit")
    assert [f.path for f in bandit.failures] == ["deploy.py"]
    assert not {f.fingerprint for f in broken.fixed} & there
    target.write_text(original)
    healed = analyze(project)
    assert {f.status for f in healed.findings if f.fingerprint in there} == {EXISTING}


def test_an_old_per_focus_history_is_where_a_codebase_starts(project: Path) -> None:
    """ai-conductor before one-history kept 'path?focus=security'; it is not lost."""
    root = str(project.resolve())
    legacy = scan(project, focus=["security"], codebase_id=f"{root}?focus=security")
    FindingsMemory.open().record(legacy)
    report = analyze(project)
    old = {f.fingerprint for f in legacy.findings}
    assert {f.status for f in report.findings if f.fingerprint in old} == {EXISTING}
    assert {f.status for f in report.findings if f.fingerprint not in old} == {NEW}


def test_new_only_counts_what_it_reports(project: Path, conductor_home: Path) -> None:
    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(BIN / "conductor"), "analyze", "--codebase", str(project), *args],
            capture_output=True, text=True, timeout=600,
            env=cli_env("http://127.0.0.1:9/api", conductor_home, COLUMNS="200"),
        )  # fmt: skip

    first = run("-o", str(project.parent / "first.json"))
    assert first.returncode == 0, first.stderr
    total = json.loads((project.parent / "first.json").read_text())["summary"]["total"]
    (project / "added.py").write_text("def added(value):\n    return eval(value)\n")
    out = project.parent / "new.json"
    second = run("--new-only", "-o", str(out), "--focus", "security")
    assert second.returncode == 0, second.stderr
    report = json.loads(out.read_text())
    assert [f["path"] for f in report["findings"]] == ["added.py"]
    assert report["summary"]["total"] == len(report["findings"]) == report["summary"]["new"] == 1
    assert sum(report["summary"]["by_severity"].values()) == 1
    hidden = report["summary"]["existing"]
    assert 0 < hidden < total  # the security ones of the first run, not listed
    assert re.search(rf"1 reported \(\w+ 1\); --new-only: {hidden} existing not listed",
                     second.stderr)  # fmt: skip
    assert f"1 new, {hidden} existing, 0 fixed" in second.stderr
