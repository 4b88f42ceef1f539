"""Coverage, honestly: every file a tool could not read is counted, exactly, across chunks, crashed
chunks and the cache; the gate (--min-coverage) and every report say so."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from ai_conductor.analysis import scan
from ai_conductor.analysis.chunking import attribute
from ai_conductor.analysis.coverage import below, describe
from ai_conductor.analysis.models import ToolRun
from ai_conductor.settings import Settings
from tests._sarif import sarif_validator
from tests.analysis._newsyntax import CrashyTool, modern_paths, write_codebase
from tests.conftest import BIN, cli_env

GRAMMAR = "{}.{}".format(*sys.version_info[:2])
SYNTAX = f"syntax Python {GRAMMAR} cannot parse"
CURRENT = {"analysis_python": "current", "analysis_workers": 2}


def settings(home: Path, **over: object) -> Settings:
    return Settings(home=home, **{**CURRENT, **over})  # type: ignore[arg-type]


def test_failures_are_exact_across_chunks_and_the_cache(tmp_path: Path) -> None:
    """13 of 40 files use 3.12 syntax; parsed with this interpreter (told to use no other),
    bandit and radon fail on exactly those 13, wherever the chunks split them."""
    root = write_codebase(tmp_path / "code", modern=13, classic=27)
    modern = modern_paths(root)
    home = tmp_path / "home"
    cold = scan(root, settings=settings(home))
    for name in ("bandit", "radon"):
        run = next(t for t in cold.tools if t.name == name)
        assert (run.files_total, run.files_failed, run.files_read) == (40, 13, 27), run
        assert {f.path for f in run.failures} == modern
        assert {f.reason for f in run.failures} == {SYNTAX}
        assert run.python == ".".join(map(str, sys.version_info[:3]))
        assert describe(run) == f"27 of 40 read, 13 failed: {SYNTAX} (13)"
    ruff = next(t for t in cold.tools if t.name == "ruff")
    assert (ruff.files_failed, ruff.python) == (0, None)  # ruff's own parser reads 3.12

    warm = scan(root, settings=settings(home))  # the whole result, from the cache
    (root / "pkg_b" / "m020.py").write_text("x = 1\n")  # one file changed: per-file cache
    partial = scan(root, settings=settings(home))
    for report, analysed in ((warm, 0), (partial, 1)):
        for name in ("bandit", "radon"):
            run = next(t for t in report.tools if t.name == name)
            assert (run.files_analyzed, run.files_from_cache) == (analysed, 40 - analysed)
            assert (run.files_failed, {f.path for f in run.failures}) == (13, modern)


def test_a_crashed_chunk_counts_every_file_it_held(tmp_path: Path, conductor_home: Path) -> None:
    root = tmp_path / "code"
    root.mkdir()
    for i in range(30):
        (root / f"f{i:02d}.py").write_text(f"x = {i}\n")
    (root / "boom.py").write_text("y = 1\n")
    tool = "tests.analysis._newsyntax:CrashyTool"
    CrashyTool.seen.clear()
    report = scan(root, tools=[tool], settings=settings(conductor_home))
    (run,) = report.tools
    crashed = next(chunk for chunk in CrashyTool.seen if "boom.py" in chunk)
    assert len(CrashyTool.seen) == 2  # two workers, two chunks: one crashed, one did not
    assert {f.path for f in run.failures} == set(crashed)
    assert run.files_failed == len(crashed) < 31
    assert run.files_read == 31 - len(crashed)
    assert {f.reason for f in run.failures} == {"crashy failed: crashy exploded"}
    assert run.error == "crashy exploded"
    assert any("crashy: crashy exploded" in w for w in report.warnings)

    CrashyTool.seen.clear()  # a crashed chunk is not cached: its files run again, only they
    again = scan(root, tools=[tool], settings=settings(conductor_home))
    assert {p for chunk in CrashyTool.seen for p in chunk} == set(crashed)
    assert again.tools[0].files_from_cache == 31 - len(crashed)
    crashed_again = next(chunk for chunk in CrashyTool.seen if "boom.py" in chunk)
    assert {f.path for f in again.tools[0].failures} == set(crashed_again)


def test_coverage_gate() -> None:
    full = ToolRun(name="ruff", files_analyzed=10)
    half = ToolRun(name="bandit", files_analyzed=6, files_from_cache=4, files_failed=5)
    missing = ToolRun(name="semgrep", available=False)
    assert (full.coverage(), half.coverage(), missing.coverage()) == (100.0, 50.0, 0.0)
    assert ToolRun(name="empty").coverage() == 100.0  # nothing to read


def run_cli(home: Path, *args: str, **env: str) -> tuple[int, str, str]:
    import subprocess

    done = subprocess.run(
        [str(BIN / "conductor"), "analyze", *args], capture_output=True, text=True,
        timeout=600, env=cli_env("http://127.0.0.1:9/api", home, COLUMNS="200", **env),
    )  # fmt: skip
    return done.returncode, done.stdout, done.stderr


def test_cli_min_coverage_summary_sarif_and_markdown(tmp_path: Path) -> None:
    root = write_codebase(tmp_path / "code", modern=2, classic=1)
    home = tmp_path / "home"
    sarif = tmp_path / "a.sarif"
    code, _, err = run_cli(home, "--codebase", str(root), "-o", str(sarif), "--min-coverage",
                           "90", CONDUCTOR_ANALYSIS_PYTHON="current")  # fmt: skip
    assert code == 1, err
    assert f"1 of 3 read, 2 failed: {SYNTAX} (2)" in err  # the summary table, per tool
    assert f"coverage gate failed: bandit read 33.3% (1 of 3 read, 2 failed: {SYNTAX}" in err
    assert "radon read 33.3%" in err
    assert "CONDUCTOR_ANALYSIS_PYTHON=current" in err  # why: the note names the setting
    notes = json.loads(sarif.read_text())["runs"][0]["invocations"][0]["toolExecutionNotifications"]
    texts = [n["message"]["text"] for n in notes]
    assert f"bandit (Python {'.'.join(map(str, sys.version_info[:3]))}): 1 of 3 read, " \
        f"2 failed: {SYNTAX} (2)" in texts  # fmt: skip
    per_file = [n for n in notes if n.get("locations")]
    assert sorted(
        n["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] for n in per_file
    ) == sorted([*modern_paths(root)] * 2)  # bandit and radon
    sarif_validator().validate(json.loads(sarif.read_text()))  # the OASIS schema, always

    md = tmp_path / "a.md"
    code, _, err = run_cli(home, "--codebase", str(root), "-o", str(md), "--min-coverage",
                           "33", CONDUCTOR_ANALYSIS_PYTHON="current")  # fmt: skip
    assert code == 0, err
    text = md.read_text()
    assert "## Coverage" in text
    python = ".".join(map(str, sys.version_info[:3]))
    assert f" | {python} | 1 of 3 read, 2 failed: {SYNTAX} (2) | 3 |" in text
    for path in modern_paths(root):
        assert f"`{path}`: {SYNTAX}" in text

    code, _, err = run_cli(home, "--codebase", str(root), "--min-coverage", "150")
    assert code == 2
    assert "--min-coverage 150: give a percentage from 0 to 100" in err
    assert "Traceback" not in err


def test_below_names_the_tools_under_the_bar() -> None:
    from ai_conductor.analysis.models import AnalysisReport, FileFailure

    failure = FileFailure(path="a.py", reason="syntax Python 3.11 cannot parse")
    run = ToolRun(name="bandit", files_analyzed=4, files_failed=1, failures=[failure])
    report = AnalysisReport(run_id="r", codebase="/c", codebase_id="/c",
                            started_at="2025-01-01T00:00:00Z", finished_at="2025-01-01T00:00:00Z",
                            tools=[run, ToolRun(name="ruff", files_analyzed=4)])  # fmt: skip
    assert below(report, None) == []
    assert below(report, 75) == []
    assert below(report, 80) == [
        "bandit read 75.0% (3 of 4 read, 1 failed: syntax Python 3.11 cannot parse (1))"
    ]


@pytest.mark.usefixtures("conductor_home")
def test_old_analysis_json_still_loads(tmp_path: Path) -> None:
    """1.1 only adds fields: a 1.0 file (no files_failed, failures, python) reads as before."""
    from ai_conductor.reports import load_analysis

    old = {
        "schema_version": "1.0", "run_id": "r", "codebase": "/c", "codebase_id": "/c",
        "started_at": "2025-03-04T12:00:00Z", "finished_at": "2025-03-04T12:00:07Z",
        "tools": [{"name": "bandit", "version": "1.7.9", "available": True,
                   "files_analyzed": 42, "files_from_cache": 40, "duration_s": 1.2,
                   "error": None}],
    }  # fmt: skip
    path = tmp_path / "analysis.json"
    path.write_text(json.dumps(old))
    (run,) = load_analysis(path).tools
    assert (run.files_failed, run.failures, run.python, run.files_total) == (0, [], None, 82)


def test_a_plugins_error_naming_a_file_is_that_files_failure(tmp_path: Path) -> None:
    """vulture (whole-program) only says so in a message: the file is counted, and cached."""
    pytest.importorskip("vulture")
    root = tmp_path / "code"
    root.mkdir()
    (root / "broken.py").write_text("def broken(:\n    pass\n")
    (root / "ok.py").write_text("def used():\n    return 1\n\n\nused()\n")
    for attempt in range(2):
        report = scan(root, tools=["vulture"], settings=settings(tmp_path / "home"))
        (run,) = report.tools
        assert [f.path for f in run.failures] == ["broken.py"], attempt
        assert "invalid syntax" in run.failures[0].reason
        assert (run.files_total, run.files_failed, run.error) == (2, 1, None)
        assert not any("vulture" in w for w in report.warnings)
    assert run.files_from_cache == 2  # the second scan: read back, failure included

    named, general = attribute(
        ["semgrep: app/x.py: Syntax error at line 1", f"v: {root}/ok.py:3: bad", "both a.py b.py",
         "no file at all"],
        ["app/x.py", "ok.py", "a.py", "b.py"], root,
    )  # fmt: skip
    assert named == {"app/x.py": "semgrep: app/x.py: Syntax error at line 1",
                     "ok.py": f"v: {root}/ok.py:3: bad"}  # fmt: skip
    assert general == ["both a.py b.py", "no file at all"]
