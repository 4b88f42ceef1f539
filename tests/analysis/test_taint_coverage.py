"""What semgrep could not analyse counts in the taint tool's coverage, like the other tools:
files it could not parse, files it did not scan, rules that timed out, and every file of a
semgrep-core call that failed (while the other calls' results stay). semgrep runs for real."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ai_conductor.analysis import scan
from ai_conductor.analysis.coverage import describe
from ai_conductor.analysis.models import AnalysisReport, ToolRun
from ai_conductor.analysis.tools import load_tool
from ai_conductor.analysis.tools import taint as taint_tool
from ai_conductor.analysis.tools.taint_output import NOT_SCANNED, PARTIAL, TIMEOUT, parse_output
from ai_conductor.settings import Settings

WEB = "from flask import request\nimport os\n\n\ndef run():\n    os.system(request.args['c'])\n"
PLAIN = "import hashlib\n\n\ndef digest(data):\n    return hashlib.md5(data).hexdigest()\n"
CONFLICT = "def f():\n<<<<<<< HEAD\n    return 1\n=======\n    return 2\n>>>>>>> topic\n"


def _taint(report: AnalysisReport) -> ToolRun:
    (run,) = [t for t in report.tools if t.name == "taint"]
    assert run.available, report.warnings
    return run


def test_a_file_semgrep_cannot_parse_and_one_it_did_not_scan_count_as_failed(
    tmp_path: Path,
) -> None:
    (tmp_path / "web.py").write_text(WEB)
    (tmp_path / "conflict.py").write_text(CONFLICT)  # merge-conflict markers left in
    result = load_tool("taint").run(tmp_path, ["web.py", "conflict.py", "gone.py"])
    assert result.failures == {"conflict.py": PARTIAL, "gone.py": NOT_SCANNED}
    assert [(f.path, f.rule_id) for f in result.findings] == [("web.py", "command-injection")]

    report = scan(tmp_path, tools=["taint"], settings=Settings(home=tmp_path / "home"))
    run = _taint(report)
    assert (run.files_total, run.files_failed, run.files_read) == (2, 1, 1)
    assert [(f.path, f.reason) for f in run.failures] == [("conflict.py", PARTIAL)]
    assert describe(run) == f"1 of 2 read, 1 failed: {PARTIAL} (1)"
    again = _taint(scan(tmp_path, tools=["taint"], settings=Settings(home=tmp_path / "home")))
    assert (again.files_from_cache, again.files_failed) == (2, 1)  # exact from the cache too


def test_one_failing_semgrep_call_fails_its_files_and_keeps_the_others(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    code = tmp_path / "code"
    code.mkdir()
    (code / "web.py").write_text(WEB)
    (code / "plain.py").write_text(PLAIN)
    real = taint_tool.semgrep_rules
    bad = {"rules": [{"id": "broken", "languages": ["python"], "severity": "ERROR",
                      "message": "m", "pattern": "foo(("}]}  # fmt: skip

    def rules(group: str = "all") -> str:  # the request-data rules' call gets a broken rule
        return json.dumps(bad) if "web" in group else real(group)

    monkeypatch.setattr(taint_tool, "semgrep_rules", rules)
    settings = Settings(home=tmp_path / "home")
    report = scan(code, tools=["taint"], settings=settings)
    run = _taint(report)
    assert (run.files_total, run.files_failed) == (2, 1)
    (failure,) = run.failures
    assert failure.path == "web.py"
    assert failure.reason.startswith("taint failed on its batch: semgrep-core")
    assert run.error
    assert "a semgrep-core call on 1 files failed" in run.error
    assert [(f.path, f.rule_id) for f in report.findings] == [("plain.py", "weak-hash")]

    monkeypatch.setattr(taint_tool, "semgrep_rules", real)  # fixed: nothing was cached, so
    report = scan(code, tools=["taint"], settings=settings)  # the failed call runs again
    run = _taint(report)
    assert (run.files_analyzed, run.files_failed, run.error) == (2, 0, None)
    assert {(f.path, f.rule_id) for f in report.findings} == {
        ("plain.py", "weak-hash"), ("web.py", "command-injection"),
    }  # fmt: skip


def test_timeouts_and_fatal_errors_in_semgrep_core_output(tmp_path: Path) -> None:
    def error(kind: object, path: str | None, severity: str = "warn") -> dict[str, object]:
        location = {"path": path, "start": {"line": 1, "col": 1}} if path else None
        return {"error_type": kind, "severity": severity, "message": "x", "location": location}

    out = {"results": [], "paths": {"scanned": ["a.py", "b.py", "c.py"]}, "errors": [
        error("Timeout", "a.py"),
        error(["PartialParsing", [{"path": "b.py"}]], "b.py"),
        error("Syntax error", "c.py", "error"),
        error("SomeWarning", "a.py"),
    ]}  # fmt: skip
    result = parse_output("..." + json.dumps(out), tmp_path, ["a.py", "b.py", "c.py"])
    assert result.failures == {
        "a.py": TIMEOUT, "b.py": PARTIAL, "c.py": "semgrep could not analyse it (Syntax error)",
    }  # fmt: skip
    with pytest.raises(Exception, match="rejected the taint rules"):
        parse_output(json.dumps({**out, "errors": [error("Rule parse error", None)]}), tmp_path)
