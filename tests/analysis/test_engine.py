"""The analyzer end to end: real tools, real cache, real history in the audit database."""

from __future__ import annotations

import multiprocessing
import multiprocessing.queues
import os
import re
import shutil
from pathlib import Path

import pytest

from ai_conductor.analysis import FindingStatus, analyze, scan
from ai_conductor.analysis.memory import FindingsMemory
from ai_conductor.errors import UsageError

REPO = Path(__file__).resolve().parents[2]
DEFECTS = REPO / "examples" / "defects"
MARK = re.compile(r"#\s*DEFECT:")

pytestmark = pytest.mark.usefixtures("conductor_home")


@pytest.fixture
def project(tmp_path: Path) -> Path:
    dest = tmp_path / "defects"
    shutil.copytree(DEFECTS, dest)
    return dest


def markers(root: Path) -> set[tuple[str, int]]:
    found = set()
    for path in root.rglob("*.py"):
        for n, line in enumerate(path.read_text().splitlines(), 1):
            if MARK.search(line):
                found.add((path.relative_to(root).as_posix(), n))
    return found


def test_every_planted_defect_is_reported_at_its_line_and_the_control_is_clean(
    project: Path,
) -> None:
    report = analyze(project)
    planted = markers(project)
    assert len(planted) >= 12
    reported = {(f.path, f.line) for f in report.findings}
    assert planted <= reported, f"missed: {sorted(planted - reported)}"
    assert not [f for f in report.findings if f.path == "clean.py"]
    assert all(f.fingerprint for f in report.findings)
    assert {t.name for t in report.tools} == {"ruff", "bandit", "radon", "taint"}


def test_duplicates_across_tools_are_merged(project: Path) -> None:
    report = scan(project)
    passwords = [f for f in report.findings if f.rule_id in ("S105", "B105")]
    assert passwords, "the planted hard-coded password was not found"
    for f in passwords:
        assert f.rule_id == "S105"
        assert "bandit:B105" in f.also_reported_by
    # bandit does not run the tests ruff does at least as well (precision-first merging)
    sql = [f for f in report.findings if f.rule_id in ("S608", "B608")]
    assert [(f.rule_id, f.also_reported_by) for f in sql] == [("S608", [])]
    keys = [(f.path, f.line, f.rule_id) for f in report.findings]
    assert len(keys) == len(set(keys))


def test_fingerprints_survive_whitespace_edits_and_moved_lines(project: Path) -> None:
    before = {f.fingerprint: (f.path, f.rule_id) for f in scan(project).findings}
    for path in project.rglob("*.py"):
        text = path.read_text()
        moved = "\n\n\n" + "\n".join(line.rstrip() + "   " for line in text.splitlines()) + "\n"
        path.write_text(moved)
    after = {f.fingerprint: (f.path, f.rule_id) for f in scan(project).findings}
    assert before == after


def test_history_new_existing_fixed_and_dismissed(project: Path) -> None:
    first = analyze(project)
    assert {f.status for f in first.findings} == {FindingStatus.NEW}
    victim = next(f for f in first.findings if f.rule_id in ("S307", "B307"))  # eval
    path = project / victim.path
    lines = path.read_text().splitlines()
    lines[victim.line - 1] = re.sub(r"eval\(", "int(", lines[victim.line - 1])
    path.write_text("\n".join(lines) + "\n")
    second = analyze(project)
    assert victim.fingerprint in {f.fingerprint for f in second.fixed}
    assert {f.status for f in second.fixed} == {FindingStatus.FIXED}
    assert {f.status for f in second.findings} == {FindingStatus.EXISTING}
    assert second.summary.fixed == len(second.fixed) >= 1

    other = second.findings[0]
    FindingsMemory.open().dismiss(other.fingerprint, "accepted risk in tests")
    third = analyze(project)
    assert other.fingerprint not in {f.fingerprint for f in third.findings}
    assert third.summary.dismissed == 1
    assert other.fingerprint not in {f.fingerprint for f in third.fixed}


def test_unchanged_files_come_from_the_cache(project: Path) -> None:
    cold = scan(project)
    n = cold.files_analyzed
    warm = scan(project)
    for run in warm.tools:
        assert (run.files_analyzed, run.files_from_cache) == (0, n), run
    target = project / "clean.py"
    target.write_text(target.read_text() + "\n\ndef added(value):\n    return eval(value)\n")
    one = scan(project)
    for run in one.tools:
        assert (run.files_analyzed, run.files_from_cache) == (1, n - 1), run
    assert any(f.path == "clean.py" and f.rule_id == "S307" for f in one.findings)
    assert [f.fingerprint for f in warm.findings] == [f.fingerprint for f in cold.findings]


def test_focus_selects_areas(project: Path) -> None:
    report = scan(project, focus=["database"])
    assert report.findings
    assert all("database" in f.tags for f in report.findings)
    with pytest.raises(UsageError, match="unknown focus area"):
        scan(project, focus=["astrology"])


def test_bad_input(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="does not exist"):
        scan(tmp_path / "nope")
    afile = tmp_path / "file.py"
    afile.write_text("x = 1\n")
    with pytest.raises(UsageError, match="not a directory"):
        scan(afile)
    empty = tmp_path / "empty"
    empty.mkdir()
    assert scan(empty).warnings == [f"no Python files found under {empty.resolve()}"]


def test_hostile_files_are_skipped_or_reported_never_crash(tmp_path: Path) -> None:
    root = tmp_path / "hostile"
    root.mkdir()
    outside = tmp_path / "outside.py"
    outside.write_text("import os\nos.system('rm -rf /')\n")
    os.symlink(outside, root / "escape.py")
    (root / "binary.py").write_bytes(b"\x00\x01\x02" * 100)
    (root / "latin1.py").write_bytes("name = 'caf\xe9'\n".encode("latin-1"))
    (root / "broken.py").write_text("def broken(:\n    pass\n")
    (root / "huge.py").write_text("x = 1\n" * 400_000)
    (root / "ok.py").write_text("def ok():\n    return 1\n")
    report = scan(root)
    skipped = {s.path: s.reason for s in report.skipped}
    assert "outside the codebase" in skipped["escape.py"]
    assert skipped["binary.py"] == "binary content"
    assert "not UTF-8" in skipped["latin1.py"]
    assert "larger than" in skipped["huge.py"]
    assert not [f for f in report.findings if f.path == "escape.py"]
    syntax = [f for f in report.findings if f.path == "broken.py"]
    assert syntax
    assert syntax[0].rule_id == "syntax-error"
    assert report.files_analyzed == 2


def test_an_optional_tool_that_cannot_run_is_a_warning(project: Path) -> None:
    """semgrep is installed (make installs it for taint); without a rules file it cannot run.
    A tool that is not installed at all: test_taint.py runs without semgrep."""
    report = scan(project, tools=["ruff", "semgrep"])
    semgrep = next(t for t in report.tools if t.name == "semgrep")
    assert semgrep.available
    assert semgrep.error
    assert any("semgrep needs a local rules file" in w for w in report.warnings)
    assert report.findings


def _scan_in_daemon(root: str, out: multiprocessing.queues.Queue[object]) -> None:
    try:
        report = scan(Path(root), tools=["bandit"])
        out.put(sorted({f.path for f in report.findings}))
    except BaseException as exc:  # reported to the parent, which fails the test
        out.put(f"{type(exc).__name__}: {exc}")


def test_a_daemonic_process_such_as_a_dask_worker_scans_on_threads(tmp_path: Path) -> None:
    """A daemonic process may not start the process pool; the scan must still finish."""
    for n in range(12):  # more than MIN_CHUNK files, so bandit would go to the process pool
        (tmp_path / f"m{n}.py").write_text("import subprocess\nsubprocess.call('ls', shell=True)\n")
    ctx = multiprocessing.get_context("spawn")
    out = ctx.Queue()
    child = ctx.Process(target=_scan_in_daemon, args=(str(tmp_path), out), daemon=True)
    child.start()
    result = out.get(timeout=120)
    child.join(timeout=30)
    assert result == sorted(f"m{n}.py" for n in range(12))
