"""Memory across analysis runs (migration 0003, FindingsMemory, classify) on both databases."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, create_engine, inspect, text

from ai_conductor.analysis.memory import Dismissal, FindingsMemory, classify
from ai_conductor.analysis.models import (
    AnalysisReport,
    Category,
    Finding,
    FindingStatus,
    Severity,
    Summary,
    ToolRun,
)
from ai_conductor.errors import StoreError, UsageError
from ai_conductor.settings import Settings
from ai_conductor.store import (
    HEAD,
    AuditLog,
    close_all,
    create_engine_for,
    current_revision,
    head_revision,
    upgrade,
)

T0 = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)
CB = "/src/project"
NEW, EXISTING, FIXED = FindingStatus.NEW, FindingStatus.EXISTING, FindingStatus.FIXED


def fp(name: str) -> str:
    """A 32-hex fingerprint that starts with ``name`` (hex digits only)."""
    return (name + "0" * 32)[:32]


def finding(fingerprint: str, **over: Any) -> Finding:
    fields: dict[str, Any] = {
        "tool": "ruff",
        "rule_id": "S608",
        "severity": Severity.HIGH,
        "category": Category.SECURITY,
        "path": "app/db.py",
        "line": 10,
        "end_line": 10,
        "message": f"possible SQL injection ({fingerprint[:6]})",
        "fingerprint": fingerprint,
    }
    fields.update(over)
    return Finding(**fields)


def report(run_id: str, findings: list[Finding], *, at: int = 0, cb: str = CB) -> AnalysisReport:
    return AnalysisReport(
        run_id=run_id,
        codebase=cb,
        codebase_id=cb,
        started_at=T0 + timedelta(hours=at),
        finished_at=T0 + timedelta(hours=at, minutes=1),
        focus=["security"],
        tools=[ToolRun(name="ruff", version="0.6.0", files_analyzed=3)],
        findings=findings,
    )


def dismissal(fingerprint: str) -> Dismissal:
    return Dismissal(fingerprint=fingerprint, reason="false positive", created_at=T0)


@pytest.fixture
def engine(db_url: str) -> Iterator[Engine]:
    engine = create_engine_for(db_url)
    upgrade(engine)
    yield engine
    engine.dispose()


@pytest.fixture
def memory(engine: Engine) -> FindingsMemory:
    return FindingsMemory(engine)


def remember(memory: FindingsMemory, rep: AnalysisReport) -> AnalysisReport:
    """What the analyzer does: classify against the previous run and dismissals, then store."""
    previous = memory.previous_findings(rep.codebase_id, before_run=rep.run_id)
    out = classify(rep, previous, memory.dismissed())
    memory.record(out)
    return out


# -- migration ----------------------------------------------------------------------------------


def test_head_creates_the_three_tables(engine: Engine) -> None:
    assert current_revision(engine) == head_revision() == HEAD == "0004_event_id"
    insp = inspect(engine)
    assert {"analysis_runs", "findings", "dismissals"} <= set(insp.get_table_names())
    runs = {c["name"]: c for c in insp.get_columns("analysis_runs")}
    assert set(runs) == {
        "id",
        "codebase_id",
        "codebase",
        "started_at",
        "finished_at",
        "focus",
        "summary",
        "tools",
    }
    assert not runs["codebase_id"]["nullable"]
    assert insp.get_pk_constraint("analysis_runs")["constrained_columns"] == ["id"]
    cols = {c["name"]: c for c in insp.get_columns("findings")}
    assert set(cols) >= {"id", "run_id", "fingerprint", "severity", "status", "path", "data"}
    assert not cols["fingerprint"]["nullable"]
    (fk,) = insp.get_foreign_keys("findings")
    assert fk["referred_table"] == "analysis_runs"
    assert fk["options"].get("ondelete", "").upper() == "CASCADE"
    assert {i["name"] for i in insp.get_indexes("findings")} >= {
        "idx_findings_run_id",
        "idx_findings_fingerprint",
    }
    (runs_index,) = insp.get_indexes("analysis_runs")
    assert runs_index["column_names"] == ["codebase_id", "finished_at"]
    dis = {c["name"]: c for c in insp.get_columns("dismissals")}
    assert set(dis) == {"fingerprint", "reason", "dismissed_by", "created_at", "snapshot"}
    assert not dis["reason"]["nullable"]
    assert not dis["created_at"]["nullable"]
    assert insp.get_pk_constraint("dismissals")["constrained_columns"] == ["fingerprint"]


def test_upgrade_from_0002_keeps_audit_rows(db_url: str, tmp_path: Path) -> None:
    engine = create_engine_for(db_url)
    try:
        upgrade(engine, "0002_run_id")
        assert current_revision(engine) == "0002_run_id"
        assert not inspect(engine).has_table("findings")
        with engine.begin() as conn:
            conn.execute(
                text(
                    "INSERT INTO coordination_logs (workflow_id, action, status, run_id) "
                    "VALUES ('wf', 'started', 'running', 'r1')"
                )
            )
        upgrade(engine)
        assert current_revision(engine) == HEAD
        log = AuditLog(db_url, spool_dir=tmp_path)
        try:
            (row,) = log.query(run_id="r1")
            assert (row.workflow_id, row.status) == ("wf", "running")
        finally:
            log.close()
        memory = FindingsMemory(engine)
        remember(memory, report("r1", [finding(fp("a1"))]))
        assert memory.previous_findings(CB) == [finding(fp("a1"))]
    finally:
        engine.dispose()


def test_unmigrated_database_raises_store_error(tmp_path: Path) -> None:
    engine = create_engine(f"sqlite:///{tmp_path / 'blank.db'}")
    try:
        with pytest.raises(StoreError, match="findings memory at sqlite"):
            FindingsMemory(engine).runs()
    finally:
        engine.dispose()


def test_open_uses_the_audit_database(tmp_path: Path) -> None:
    close_all()
    try:
        memory = FindingsMemory.open(Settings(home=tmp_path))
        assert memory.runs() == []
        assert (tmp_path / "conductor.db").exists()
    finally:
        close_all()


# -- classify (pure) ----------------------------------------------------------------------------


def test_classify_without_previous_run_marks_everything_new() -> None:
    rep = report("r1", [finding(fp("a1")), finding(fp("b2"), severity=Severity.LOW)])
    rep.findings[0].status = EXISTING
    out = classify(rep, None, {})
    assert [f.status for f in out.findings] == [NEW, NEW]
    assert out.fixed == []
    assert out.summary == Summary(
        total=2, by_severity={"high": 1, "low": 1}, by_category={"security": 2}, new=2
    )
    assert rep.findings[0].status is EXISTING  # the input is not modified


def test_classify_new_existing_fixed_and_dismissed() -> None:
    a, b, c, d, g = fp("aa"), fp("bb"), fp("cc"), fp("dd"), fp("ee")
    previous = [
        finding(a, line=3),  # gone: fixed
        finding(a, line=30),  # duplicate fingerprint: fixed once
        finding(b),  # still there: existing
        finding(c),  # still there but dismissed: removed, not fixed
        finding(g),  # gone and dismissed: not listed as fixed
        finding("", message="no fingerprint"),  # never matched
        finding(fp("f0"), status=FIXED),  # fixed in the previous run already
    ]
    current = [
        finding(b, line=12, severity=Severity.CRITICAL),
        finding(c),
        finding(d, category=Category.BUG, severity=Severity.MEDIUM),
        finding("", message="no fingerprint either"),
    ]
    rep = report("r2", current)
    out = classify(rep, previous, {c: dismissal(c), g: dismissal(g)})
    assert [(f.fingerprint, f.status) for f in out.findings] == [
        (b, EXISTING),
        (d, NEW),
        ("", NEW),
    ]
    assert [(f.fingerprint, f.line, f.status) for f in out.fixed] == [(a, 3, FIXED)]
    assert out.summary == Summary(
        total=3,
        by_severity={"critical": 1, "high": 1, "medium": 1},
        by_category={"security": 2, "bug": 1},
        new=2,
        existing=1,
        fixed=1,
        dismissed=1,
    )
    assert len(rep.findings) == 4
    assert previous[0].status is NEW


# -- storing runs -------------------------------------------------------------------------------


def test_two_runs_previous_findings_and_statuses(memory: FindingsMemory) -> None:
    a, b, c = fp("a1"), fp("b2"), fp("c3")
    assert memory.previous_findings(CB) is None
    first = remember(memory, report("r1", [finding(a), finding(b)], at=0))
    assert first.summary.new == 2
    assert [f.fingerprint for f in memory.previous_findings(CB) or []] == [a, b]
    second = remember(memory, report("r2", [finding(b), finding(c)], at=1))
    assert [(f.fingerprint, f.status) for f in second.findings] == [(b, EXISTING), (c, NEW)]
    assert [(f.fingerprint, f.status) for f in second.fixed] == [(a, FIXED)]
    assert (second.summary.new, second.summary.existing, second.summary.fixed) == (1, 1, 1)
    latest = memory.previous_findings(CB)
    assert [(f.fingerprint, f.status) for f in latest or []] == [(b, EXISTING), (c, NEW)]
    assert [f.fingerprint for f in memory.previous_findings(CB, before_run="r2") or []] == [a, b]
    assert memory.previous_findings(CB, before_run="r1") is None
    assert memory.previous_findings("/other/project") is None
    third = remember(memory, report("r3", [finding(c)], at=2))
    assert [f.fingerprint for f in third.fixed] == [b]  # a was fixed in r2 already


def test_record_stores_fixed_and_summary_and_replaces_a_run(memory: FindingsMemory) -> None:
    remember(memory, report("r1", [finding(fp("a1")), finding(fp("b2"))], at=0))
    remember(memory, report("r2", [finding(fp("b2"), message="moved\x00")], at=1))
    assert [f.fingerprint for f in memory.findings(status="fixed")] == [fp("a1")]
    (current,) = memory.findings()
    assert current.message == "moved"  # NUL dropped: PostgreSQL refuses it
    (run2, run1) = memory.runs()
    assert (run2.run_id, run2.codebase_id, run2.focus) == ("r2", CB, ["security"])
    assert run2.summary.fixed == 1
    assert run2.tools[0].version == "0.6.0"
    assert run2.finished_at == T0 + timedelta(hours=1, minutes=1)
    assert run1.run_id == "r1"
    again = report("r2", [finding(fp("c3"))], at=1)
    memory.record(again)  # same run_id: replaced, not duplicated
    assert [f.fingerprint for f in memory.findings(run_id="r2", status=None)] == [fp("c3")]
    assert memory.findings(run_id="r2", status="fixed") == []
    assert len(memory.runs()) == 2
    with pytest.raises(UsageError, match="run_id"):
        memory.record(report("x" * 65, []))


def test_many_findings_in_one_batch(memory: FindingsMemory) -> None:
    many = [finding(f"{i:032x}", line=i + 1) for i in range(1500)]
    memory.record(report("big", many))
    assert len(memory.findings(limit=5000)) == 1500
    assert len(memory.previous_findings(CB) or []) == 1500


# -- dismissals ---------------------------------------------------------------------------------


def test_dismiss_undismiss_and_redismiss(memory: FindingsMemory) -> None:
    a = fp("a1")
    with pytest.raises(UsageError, match="reason"):
        memory.dismiss(a, "  ")
    with pytest.raises(UsageError, match="fingerprint"):
        memory.dismiss("f" * 65, "why")
    first = memory.dismiss(a, "false positive", by="alice", finding=finding(a))
    assert (first.fingerprint, first.reason, first.dismissed_by) == (a, "false positive", "alice")
    assert first.finding == finding(a)
    assert first.created_at.tzinfo is not None
    again = memory.dismiss(a, "input is trusted")
    assert again.reason == "input is trusted"
    assert again.dismissed_by == "alice"
    assert again.finding == finding(a)  # the snapshot is kept
    assert again.created_at == first.created_at
    assert list(memory.dismissed()) == [a]
    assert memory.dismissed()[a] == again
    assert memory.undismiss(a) is True
    assert memory.undismiss(a) is False
    assert memory.dismissed() == {}


def test_concurrent_dismissals_of_one_fingerprint(db_url: str) -> None:
    engines = [create_engine_for(db_url) for _ in range(4)]
    upgrade(engines[0])
    errors: list[BaseException] = []

    def dismiss(i: int) -> None:
        try:
            FindingsMemory(engines[i]).dismiss(fp("a1"), f"reason {i}", by=f"user{i}")
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=dismiss, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    try:
        assert errors == []
        (only,) = FindingsMemory(engines[0]).dismissed().values()
        assert only.reason.startswith("reason ")
    finally:
        for e in engines:
            e.dispose()


def test_dismissed_findings_stay_out_of_later_reports(memory: FindingsMemory) -> None:
    a, b = fp("a1"), fp("b2")
    remember(memory, report("r1", [finding(a), finding(b)], at=0))
    memory.dismiss(a, "accepted risk")
    second = remember(memory, report("r2", [finding(a), finding(b)], at=1))
    assert [f.fingerprint for f in second.findings] == [b]
    assert (second.summary.dismissed, second.summary.fixed, second.fixed) == (1, 0, [])
    third = remember(memory, report("r3", [finding(b)], at=2))
    assert third.fixed == []  # a vanished while dismissed: not reported as fixed
    memory.undismiss(a)
    fourth = remember(memory, report("r4", [finding(a), finding(b)], at=3))
    assert [(f.fingerprint, f.status) for f in fourth.findings] == [(a, NEW), (b, EXISTING)]


# -- queries ------------------------------------------------------------------------------------


def test_find_by_prefix(memory: FindingsMemory) -> None:
    remember(memory, report("r1", [finding("abcdef01" + "0" * 24, message="old")], at=0))
    remember(
        memory,
        report(
            "r2",
            [finding("abcdef01" + "0" * 24, message="new"), finding("abcdef02" + "0" * 24)],
            at=1,
        ),
    )
    hit = memory.find("abcdef01")
    assert hit is not None
    assert hit.message == "new"  # the latest run's
    assert memory.find("abcdef01" + "0" * 24) == hit
    assert memory.find("999999") is None
    assert memory.find("%%%%%%") is None  # no LIKE wildcards
    with pytest.raises(UsageError, match="at least 6"):
        memory.find("abcde")
    with pytest.raises(UsageError, match="ambiguous") as info:
        memory.find("abcdef")
    assert "abcdef01" in str(info.value)
    assert "abcdef02" in str(info.value)


def test_findings_filters(memory: FindingsMemory) -> None:
    assert memory.findings() == []
    remember(
        memory,
        report("o1", [finding(fp("99"), path="other.py")], at=5, cb="git@host:x.git#main"),
    )
    remember(memory, report("r1", [finding(fp("a1")), finding(fp("b2"))], at=0))
    remember(
        memory,
        report(
            "r2",
            [finding(fp("b2")), finding(fp("c3"), severity=Severity.LOW), finding(fp("d4"))],
            at=1,
        ),
    )
    assert [f.path for f in memory.findings()] == ["other.py"]  # latest run of any codebase
    assert [f.fingerprint for f in memory.findings(codebase_id=CB)] == [
        fp(x) for x in ["b2", "c3", "d4"]
    ]
    assert [f.fingerprint for f in memory.findings(run_id="r1")] == [fp("a1"), fp("b2")]
    assert memory.findings(run_id="r1", codebase_id="git@host:x.git#main") == []
    assert [f.fingerprint for f in memory.findings(codebase_id=CB, severity="LOW")] == [fp("c3")]
    assert [f.fingerprint for f in memory.findings(codebase_id=CB, status="existing")] == [fp("b2")]
    assert [f.fingerprint for f in memory.findings(codebase_id=CB, status="fixed")] == [fp("a1")]
    assert len(memory.findings(codebase_id=CB, limit=2)) == 2
    assert memory.findings(run_id="nope") == []
    with pytest.raises(UsageError, match="severity 'urgent'"):
        memory.findings(severity="urgent")
    with pytest.raises(UsageError, match="status"):
        memory.findings(status="open")
    with pytest.raises(UsageError, match="limit"):
        memory.findings(limit=0)


def test_runs(memory: FindingsMemory) -> None:
    assert memory.runs() == []
    for i in range(3):
        remember(memory, report(f"r{i}", [finding(fp("a1"))], at=i))
    remember(memory, report("o1", [], at=10, cb="other"))
    assert [r.run_id for r in memory.runs()] == ["o1", "r2", "r1", "r0"]
    assert [r.run_id for r in memory.runs(CB)] == ["r2", "r1", "r0"]
    assert [r.run_id for r in memory.runs(CB, limit=1)] == ["r2"]
    assert memory.runs("other")[0].summary.total == 0
    with pytest.raises(UsageError):
        memory.runs(limit=0)
