"""``sync_context`` end to end: a real SQLite audit log and findings memory, the embedded store."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from ai_conductor.analysis.memory import FindingsMemory
from ai_conductor.analysis.models import (
    AnalysisReport,
    Category,
    Finding,
    Severity,
    Summary,
    ToolRun,
)
from ai_conductor.context import BatchResult, ContextRecord, open_context_store, sync_context
from ai_conductor.context.embedded import EmbeddedStore
from ai_conductor.errors import UsageError
from ai_conductor.settings import Settings
from ai_conductor.store import AuditEvent, close_all, open_audit_log

T0 = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)
FP1, FP2 = "a1" * 16, "b2" * 16


@pytest.fixture
def settings(tmp_path: Path) -> Iterator[Settings]:
    close_all()
    yield Settings(home=tmp_path / "home")
    close_all()


def finding(fp: str, message: str, rule: str = "S608") -> Finding:
    return Finding(
        tool="ruff", rule_id=rule, severity=Severity.HIGH, category=Category.SECURITY,
        path="app/db.py", line=10, end_line=10, message=message, fingerprint=fp,
    )  # fmt: skip


def analysis(run_id: str, findings: list[Finding], at: int = 0) -> AnalysisReport:
    return AnalysisReport(
        run_id=run_id, codebase="/src/app", codebase_id="/src/app",
        started_at=T0 + timedelta(hours=at), finished_at=T0 + timedelta(hours=at, minutes=1),
        focus=["security"], tools=[ToolRun(name="ruff", version="0.6.0", files_analyzed=3)],
        findings=findings,
        summary=Summary(total=len(findings), new=len(findings),
                        by_severity={"high": len(findings)}),
    )  # fmt: skip


def event(action: str, status: str, role: str = "implementer", **over: Any) -> AuditEvent:
    fields: dict[str, Any] = {"workflow_id": "improve", "task_id": "fix", "run_id": "run-1",
                              "agent_role": role, "created_at": T0}  # fmt: skip
    return AuditEvent(action=action, status=status, **(fields | over))


def seed(settings: Settings) -> None:
    memory = FindingsMemory.open(settings)
    first = [
        finding(FP1, "possible SQL injection via f-string"),
        finding(FP2, "subprocess with shell=True", "S602"),
    ]
    memory.record(analysis("an-1", first))
    audit = open_audit_log(settings)
    for e in [
        event("attempt", "kept", metadata={"group": "S608", "attempt": 1, "findings": [FP1],
                                           "touched": ["app/db.py"], "tests_passed": True,
                                           "reason": "finding gone, tests pass"}),
        event("attempt", "discarded", error_message="tests failed: test_shell",
              metadata={"group": "S602", "attempt": 1, "findings": [FP2], "touched": []}),
        event("apply", "refused", error_message="local edits in app/db.py",
              metadata={"group": "S608", "patch": "/p/S608.patch"}),
        event("stopped", "budget_exhausted", error_message="token budget of 1000 spent"),
        event("attempt", "unchanged", role="refiner", metadata={"step": "tidy"}),
        event("attempt", "kept", role="refiner", metadata={"step": "tidy", "touched": ["x.py"]}),
        event("started", "running", role="conductor"),
    ]:  # fmt: skip
        audit.record(e)
    audit.flush()


def _all(store: EmbeddedStore) -> list[ContextRecord]:
    rows = store._db().execute("SELECT workflow_id FROM context_records").fetchall()
    return [r for wf in {row[0] for row in rows} for r in store.retrieve_context(wf, limit=1000)]


def test_sync_copies_changes_findings_runs_and_dismissals_once(settings: Settings) -> None:
    seed(settings)
    first = sync_context(settings)
    assert first.copied == {"audit": 5, "findings": 2, "runs": 1, "dismissals": 0}
    assert first.failed == []
    assert first.total == 8
    assert first.database.startswith("sqlite:///")
    with open_context_store(settings) as store:
        assert isinstance(store, EmbeddedStore)
        records = _all(store)
        kinds = sorted(r.context_type for r in records)
        assert kinds == ["analysis_summary", "change_kept", "change_kept", "change_rejected",
                         "change_rejected", "change_rejected", "finding", "finding"]  # fmt: skip
        # a kept change is found by what it fixed, with the finding's words
        (hit, *_) = store.search("SQL injection fix kept", filters={"context_type": "change_kept"})
        assert "possible SQL injection via f-string" in hit.record.content
        assert hit.record.metadata["findings"] == [FP1]
        assert hit.record.workflow_id == "improve"
        assert hit.record.task_id == "fix"
        rejected = store.search("tests failed", filters={"context_type": "change_rejected"})
        assert "Reason: tests failed: test_shell" in rejected[0].record.content
        assert rejected[0].record.metadata["reason"] == "tests failed: test_shell"
        summary = store.retrieve_context("analysis:/src/app", limit=10)
        (run,) = [r for r in summary if r.context_type == "analysis_summary"]
        assert run.content == (
            "analysis run an-1 of /src/app: 2 findings (new 2, existing 0, fixed 0, dismissed 0);"
            " by severity: high 2; tools: ruff"
        )

    second = sync_context(settings)
    assert second.total == 0
    assert second.watermarks == first.watermarks

    # something new: only that is copied
    FindingsMemory.open(settings).dismiss(FP2, "shell is a fixed literal", by="ana")
    audit = open_audit_log(settings)
    audit.record(event("apply", "applied", metadata={"group": "S608"}, run_id="run-2"))
    audit.flush()
    third = sync_context(settings)
    assert third.copied == {"audit": 1, "findings": 0, "runs": 0, "dismissals": 1}
    with open_context_store(settings) as store:
        (d,) = store.search("dismissed shell", filters={"context_type": "dismissal"})
        assert "Reason: shell is a fixed literal" in d.record.content
        assert "by ana" in d.record.content
    assert sync_context(settings).total == 0
    # a new reason for the same dismissal is copied again (same record, updated)
    FindingsMemory.open(settings).dismiss(FP2, "reviewed again: safe")
    assert sync_context(settings).copied["dismissals"] == 1


def test_a_new_run_updates_finding_records_in_place(settings: Settings) -> None:
    seed(settings)
    sync_context(settings)
    FindingsMemory.open(settings).record(
        analysis("an-2", [finding(FP1, "possible SQL injection via f-string")], at=1)
    )
    result = sync_context(settings)
    assert result.copied == {"audit": 0, "findings": 1, "runs": 1, "dismissals": 0}
    with open_context_store(settings) as store:
        findings = store.search("SQL injection", filters={"context_type": "finding"})
        assert len(findings) == 1  # one record per codebase and fingerprint
        assert findings[0].record.metadata["run_id"] == "an-2"


def test_limit_copies_in_steps(settings: Settings) -> None:
    seed(settings)
    steps = [sync_context(settings, limit=2).copied["audit"] for _ in range(5)]
    assert steps[:3] == [2, 2, 1]
    assert sum(steps) == 5
    with pytest.raises(UsageError):
        sync_context(settings, limit=0)


class Refusing:
    """A store wrapper that refuses records whose content contains a word (once)."""

    def __init__(self, inner: EmbeddedStore, word: str) -> None:
        self.inner, self.word, self.location = inner, word, inner.location

    def batch_store(self, records: Sequence[ContextRecord]) -> BatchResult:
        from ai_conductor.context import FailedRecord

        bad = [i for i, r in enumerate(records) if self.word in r.content]
        result = self.inner.batch_store([r for r in records if self.word not in r.content])
        result.failed = [FailedRecord(index=i, id=records[i].id, reason="nope") for i in bad]
        return result

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)


def test_refused_records_are_retried_on_the_next_run(settings: Settings) -> None:
    seed(settings)
    with open_context_store(settings) as inner:
        assert isinstance(inner, EmbeddedStore)
        result = sync_context(settings, store=Refusing(inner, "budget"))  # type: ignore[arg-type]
        assert [f.reason for f in result.failed] == ["nope"]
        assert result.copied["audit"] == 4
    retry = sync_context(settings)
    # from the refused record on: itself plus the later ones, stored again (idempotent)
    assert retry.copied["audit"] == 2
    assert retry.failed == []
    assert sync_context(settings).total == 0
