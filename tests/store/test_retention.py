"""prune(): old audit rows and persisted results go; conductor run summaries stay."""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from ai_conductor.errors import UsageError
from ai_conductor.settings import Settings
from ai_conductor.store import AuditEvent, close_all, open_audit_log, prune, retention
from ai_conductor.store import events as ev

NOW = datetime.now(UTC)


@pytest.fixture
def settings(db_url: str, tmp_path: Path) -> Iterator[Settings]:
    close_all()
    yield Settings(home=tmp_path / "home", database_url=db_url, audit_flush_interval=0.05)
    close_all()


def seed(settings: Settings) -> None:
    """Per run: conductor started/finished and three task events; one run 40 days old,
    one 5 days old; plus an old maintenance row."""
    log = open_audit_log(settings)

    def add(run: str | None, role: str, action: str, at: datetime, **extra: str) -> None:
        log.record(AuditEvent(workflow_id=extra.pop("workflow_id", "wf"), run_id=run,
                              agent_role=role, action=action, status=ev.COMPLETED,
                              created_at=at, **extra))  # fmt: skip

    for run, age in (("old", 40), ("new", 5)):
        at = NOW - timedelta(days=age)
        add(run, ev.CONDUCTOR_ROLE, ev.STARTED, at)
        for i, action in enumerate((ev.STARTED, ev.RETRIED, ev.SUCCEEDED)):
            add(run, "analyzer", action, at + timedelta(seconds=i + 1), task_id="t")
        add(run, ev.CONDUCTOR_ROLE, ev.FINISHED, at + timedelta(seconds=9))
    add(None, "maintenance", "prune", NOW - timedelta(days=60), workflow_id="maintenance")
    log.flush()


def results(settings: Settings) -> dict[str, Path]:
    root = settings.results_dir
    (root / "nested").mkdir(parents=True)
    files = {"old": root / "old-key", "nested-old": root / "nested" / "k2", "new": root / "new-key"}
    for name, path in files.items():
        path.write_bytes(b"x" * 100)
        age = 5 if name == "new" else 40
        stamp = (NOW - timedelta(days=age)).timestamp()
        os.utime(path, (stamp, stamp))
    (root / "link").symlink_to(files["new"])
    return files


def test_prune_keeps_run_summaries_and_recent_history(settings: Settings) -> None:
    seed(settings)
    files = results(settings)
    dry = prune(settings, 30, dry_run=True)
    assert (dry.audit_rows, dry.run_summaries_kept, dry.result_files) == (4, 2, 2)
    assert dry.result_bytes == 200
    assert dry.dry_run
    log = open_audit_log(settings)
    assert len(log.query(limit=100)) == 11  # nothing deleted
    assert all(p.exists() for p in files.values())

    done = prune(settings, 30)
    assert (done.audit_rows, done.run_summaries_kept, done.result_files) == (4, 2, 2)
    assert done.cutoff.date() == (NOW - timedelta(days=30)).date()
    rows = log.query(limit=100)
    old = sorted((r.action, r.agent_role) for r in rows if r.run_id == "old")
    assert old == [(ev.FINISHED, ev.CONDUCTOR_ROLE), (ev.STARTED, ev.CONDUCTOR_ROLE)]
    assert len([r for r in rows if r.run_id == "new"]) == 5
    assert not [r for r in rows if r.workflow_id == "maintenance"]
    assert not files["old"].exists()
    assert not files["nested-old"].exists()
    assert files["new"].exists()
    assert (settings.results_dir / "link").is_symlink()

    again = prune(settings, 30)
    assert (again.audit_rows, again.result_files, again.run_summaries_kept) == (0, 0, 2)


def test_prune_deletes_in_batches(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(retention, "BATCH", 3)
    log = open_audit_log(settings)
    for i in range(10):
        log.record(AuditEvent(workflow_id="wf", task_id=f"t{i}", action=ev.SUCCEEDED,
                              status=ev.COMPLETED, created_at=NOW - timedelta(days=2)))  # fmt: skip
    log.record(AuditEvent(workflow_id="wf", action=ev.SUCCEEDED, status=ev.COMPLETED))
    result = prune(settings, 1)
    assert result.audit_rows == 10
    assert result.result_files == 0  # no results directory yet
    assert len(log.query(limit=100)) == 1


def test_prune_rejects_a_negative_age(settings: Settings) -> None:
    with pytest.raises(UsageError, match="older_than_days"):
        prune(settings, -1)


def test_prune_rejects_an_age_beyond_any_date(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="between 0 and 36500"):
        prune(Settings(home=tmp_path), 1_000_000_000)
