"""``conductor findings`` (list, dismiss, undismiss) against a SQLite CONDUCTOR_HOME."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from ai_conductor.analysis.memory import FindingsMemory, classify
from ai_conductor.analysis.models import Severity
from ai_conductor.cli.findings import findings_app
from ai_conductor.settings import reload_settings
from ai_conductor.store import close_all
from tests.store.test_findings_memory import finding, fp, report

A, B, C = fp("a1b2c3d4"), fp("b2c3d4e5"), fp("c3d4e5f6")


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A fresh CONDUCTOR_HOME whose database holds two runs of ``tmp_path / 'proj'``."""
    home = tmp_path / "home"
    monkeypatch.setenv("CONDUCTOR_HOME", str(home))
    monkeypatch.delenv("CONDUCTOR_DATABASE_URL", raising=False)
    monkeypatch.delenv("CONDUCTOR_DATABASE_BLOCK", raising=False)
    close_all()
    reload_settings()
    project = tmp_path / "proj"
    project.mkdir()
    memory = FindingsMemory.open()
    cb = str(project.resolve())
    for rep in (
        report("r1", [finding(A), finding(B)], at=0, cb=cb),
        report("r2", [finding(B), finding(C, severity=Severity.LOW)], at=1, cb=cb),
    ):
        previous = memory.previous_findings(rep.codebase_id, before_run=rep.run_id)
        memory.record(classify(rep, previous, memory.dismissed()))
    memory.record(report("x1", [finding(fp("99"))], at=-5, cb="git@host:x.git#main"))
    yield home
    close_all()
    reload_settings()


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(findings_app, list(args))
    return result.exit_code, result.stdout, result.stderr


def test_help_documents_the_commands() -> None:
    code, out, _ = run("--help")
    assert code == 0
    for word in ("list", "dismiss", "undismiss", "fingerprint"):
        assert word in out


def test_list_piped_is_tab_separated(home: Path) -> None:
    code, out, _ = run("list")
    assert code == 0
    header, *lines = out.splitlines()
    assert header.split("\t")[:3] == ["fingerprint", "severity", "status"]
    rows = [line.split("\t") for line in lines]
    assert [(r[0], r[1], r[2]) for r in rows] == [(B, "high", "existing"), (C, "low", "new")]
    assert rows[0][4] == "ruff:S608"
    assert rows[0][5] == "app/db.py:10"


def test_list_json_and_filters(home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    code, out, _ = run("list", "--json", "--severity", "low")
    assert code == 0
    assert [f["fingerprint"] for f in json.loads(out)] == [C]
    _, out, _ = run("list", "--json", "--status", "existing")
    assert [f["fingerprint"] for f in json.loads(out)] == [B]
    _, out, _ = run("list", "--json", "--status", "fixed")
    assert [(f["fingerprint"], f["status"]) for f in json.loads(out)] == [(A, "fixed")]
    _, out, _ = run("list", "--json", "--run", "r1")
    assert [f["fingerprint"] for f in json.loads(out)] == [A, B]
    _, out, _ = run("list", "--json", "--codebase", "git@host:x.git#main")
    assert [f["fingerprint"] for f in json.loads(out)] == [fp("99")]
    monkeypatch.chdir(tmp_path)
    _, out, _ = run("list", "--json", "--codebase", "proj", "--limit", "1")  # a relative path
    assert [f["fingerprint"] for f in json.loads(out)] == [B]
    _, out, _ = run("list", "--json", "--codebase", "/no/such/place")
    assert json.loads(out) == []


def test_list_bad_severity_exits_2(home: Path) -> None:
    code, out, err = run("list", "--severity", "urgent")
    assert code == 2
    assert "error:" in err
    assert "urgent" in err
    assert "Traceback" not in out + err


def test_dismiss_by_prefix_then_list_and_undismiss(home: Path) -> None:
    code, out, _ = run("dismiss", B[:8], "--reason", "false positive", "--by", "alice")
    assert code == 0, out
    assert f"dismissed {B}" in out
    assert "ruff:S608 at app/db.py:10" in out
    assert "false positive" in out
    _, out, _ = run("list", "--dismissed", "--json")
    (item,) = json.loads(out)
    assert (item["fingerprint"], item["reason"], item["dismissed_by"]) == (
        B,
        "false positive",
        "alice",
    )
    assert item["finding"]["fingerprint"] == B
    code, out, _ = run("list", "--dismissed")
    assert code == 0
    assert out.splitlines()[1].split("\t")[:4][2:] == ["alice", "false positive"]
    code, out, _ = run("dismiss", B, "--reason", "trusted input")
    assert code == 0
    _, out, _ = run("list", "--dismissed", "--json")
    assert [d["reason"] for d in json.loads(out)] == ["trusted input"]
    code, out, _ = run("undismiss", B[:10])
    assert code == 0
    assert f"undismissed {B}" in out
    code, out, err = run("undismiss", B)
    assert code == 2
    assert "error:" in err
    assert "not dismissed" in err
    _, out, _ = run("list", "--dismissed", "--json")
    assert json.loads(out) == []


def test_dismiss_errors_exit_2(home: Path) -> None:
    code, _, err = run("dismiss", A[:5], "--reason", "x")
    assert code == 2
    assert "at least 8" in err
    code, _, err = run("dismiss", "deadbeefcafe", "--reason", "x")
    assert code == 2
    assert "no stored finding" in err
    code, _, err = run("dismiss", A, "--reason", "  ")
    assert code == 2
    assert "reason" in err
    code, _, _ = run("dismiss", A)  # --reason is required
    assert code == 2


def test_ambiguous_prefixes_list_candidates(home: Path) -> None:
    memory = FindingsMemory.open()
    memory.record(report("r3", [finding("abcdef01aa"), finding("abcdef01bb")], at=2))
    code, _, err = run("dismiss", "abcdef01", "--reason", "x")
    assert code == 2
    assert "ambiguous" in err
    assert "abcdef01aa" in err
    assert "abcdef01bb" in err
    code, out, _ = run("dismiss", "abcdef01a", "--reason", "x")
    assert code == 0
    assert "dismissed abcdef01aa" in out
    memory.dismiss("abcdef0299", "y")
    memory.dismiss("abcdef0288", "y")
    code, _, err = run("undismiss", "abcdef02")
    assert code == 2
    assert "ambiguous" in err
    code, _, _ = run("undismiss", "abcdef029")
    assert code == 0


def test_dismiss_a_full_fingerprint_never_stored(home: Path) -> None:
    unseen = fp("f00d")
    code, out, _ = run("dismiss", unseen, "--reason", "known noise")
    assert code == 0
    assert "not in any stored run" in out
    _, out, _ = run("list", "--dismissed", "--json")
    assert [(d["fingerprint"], d["finding"]) for d in json.loads(out)] == [(unseen, None)]


def test_undismiss_unknown_exits_2(home: Path) -> None:
    code, out, err = run("undismiss", "0123456789abcdef")
    assert code == 2
    assert "'0123456789abcdef' is not dismissed" in err
    assert out == ""


def test_unreachable_database_exits_3(home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CONDUCTOR_DATABASE_URL", "postgresql+psycopg2://postgres@127.0.0.1:1/x")
    reload_settings()
    code, _, err = run("list")
    assert code == 3
    assert "error:" in err
    assert "127.0.0.1" in err


def test_a_terminal_gets_tables(home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("ai_conductor.cli.findings._terminal", lambda: True)
    code, out, _ = run("list")
    assert code == 0
    assert "2 finding(s)" in out
    assert B[:10] in out
    assert "existing" in out
    run("dismiss", C, "--reason", "noise", "--by", "bob")
    code, out, _ = run("list", "--dismissed")
    assert code == 0
    assert "1 dismissal(s)" in out
    assert "noise" in out
    run("undismiss", C)
    code, out, err = run("list", "--dismissed")
    assert (code, out) == (0, "")
    assert "nothing is dismissed" in err
    code, out, err = run("list", "--run", "nope")
    assert (code, out) == (0, "")
    assert "no findings match" in err
