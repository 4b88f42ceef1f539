"""The audit log against real databases: SQLite files and fresh PostgreSQL databases."""

from __future__ import annotations

import json
import logging
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text

from ai_conductor.errors import StoreError, UsageError
from ai_conductor.settings import Settings
from ai_conductor.store import (
    AuditEvent,
    AuditLog,
    close_all,
    create_engine_for,
    open_audit_log,
)
from ai_conductor.store import events as ev
from ai_conductor.store.spool import rejected_path, spool_path
from tests._pg import create_database, drop_database, new_database_name

DEAD_PG = "postgresql+psycopg2://postgres:s3cret-pw@127.0.0.1:1/nope"
BASE = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)


def event(i: int, **over: Any) -> AuditEvent:
    fields: dict[str, Any] = {
        "workflow_id": f"wf{i % 3}",
        "task_id": f"t{i % 4}",
        "agent_role": "analyzer",
        "run_id": f"run{i % 2}",
        "action": ev.STARTED if i % 2 else ev.SUCCEEDED,
        "status": ev.RUNNING if i % 2 else ev.COMPLETED,
        "metadata": {"i": i},
        "created_at": BASE + timedelta(seconds=i),
    }
    return AuditEvent(**(fields | over))


def spooled(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def test_threads_record_and_every_filter_queries(audit: AuditLog) -> None:
    def producer(offset: int) -> None:
        for i in range(offset, 120, 4):
            audit.record(event(i))

    threads = [threading.Thread(target=producer, args=(k,)) for k in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    audit.flush()

    every = audit.query(limit=1000)
    assert len(every) == 120
    assert [r.metadata["i"] for r in every] == list(range(119, -1, -1))  # newest first
    assert all(r.created_at.tzinfo is not None for r in every)
    assert every[0].created_at == BASE + timedelta(seconds=119)

    assert {r.workflow_id for r in audit.query(workflow_id="wf1", limit=1000)} == {"wf1"}
    assert len(audit.query(workflow_id="wf1", limit=1000)) == 40
    assert len(audit.query(task_id="t3", limit=1000)) == 30
    assert len(audit.query(run_id="run0", limit=1000)) == 60
    assert len(audit.query(status=ev.RUNNING, limit=1000)) == 60
    assert len(audit.query(action=ev.SUCCEEDED, limit=1000)) == 60
    assert len(audit.query(since=BASE + timedelta(seconds=100), limit=1000)) == 20
    naive = (BASE + timedelta(seconds=100)).replace(tzinfo=None)
    assert len(audit.query(since=naive, limit=1000)) == 20
    both = audit.query(workflow_id="wf0", task_id="t0", run_id="run0", limit=1000)
    assert {r.metadata["i"] % 12 for r in both} == {0}
    assert len(both) == 10
    assert [r.metadata["i"] for r in audit.query(limit=3)] == [119, 118, 117]


def test_metadata_round_trips_and_odd_values_are_stored(audit: AuditLog) -> None:
    meta = {"nested": {"list": [1, 2.5, None, True], "ünï": "cödé ✓"}, "path": Path("/x/y")}
    audit.record(event(1, metadata=meta, error_message="boom\nline 2", workflow_id="m"))
    audit.record(event(2, workflow_id="m" * 300, task_id="nul\x00byte"))
    rows = audit.query(limit=10)
    by_i = {r.metadata.get("i", 1): r for r in rows}
    first = by_i[1]
    assert first.metadata == {
        "nested": {"list": [1, 2.5, None, True], "ünï": "cödé ✓"},
        "path": "/x/y",
    }
    assert first.error_message == "boom\nline 2"
    assert by_i[2].workflow_id == "m" * 255
    assert by_i[2].task_id == "nulbyte"
    dumped = first.model_dump(mode="json", by_alias=True)
    assert dumped["metadata"]["path"] == "/x/y"
    assert set(dumped) == {
        "id",
        "workflow_id",
        "task_id",
        "agent_role",
        "action",
        "status",
        "metadata",
        "error_message",
        "created_at",
        "run_id",
        "event_id",
    }
    assert len({r.event_id for r in rows}) == 2


def test_subscribers_see_events_at_record_time(
    audit: AuditLog, caplog: pytest.LogCaptureFixture
) -> None:
    seen: list[AuditEvent] = []

    def broken(_: AuditEvent) -> None:
        raise RuntimeError("subscriber bug")

    unsubscribe = audit.subscribe(seen.append)
    audit.subscribe(broken)
    first = event(1)
    with caplog.at_level(logging.ERROR, logger="ai_conductor.audit"):
        audit.record(first)
    assert seen == [first]  # before any flush
    assert "subscriber" in caplog.text
    unsubscribe()
    audit.record(event(2))
    assert seen == [first]
    assert len(audit.query()) == 2


def test_close_is_idempotent_and_later_records_are_spooled(
    sqlite_url: str, spool_dir: Path
) -> None:
    log = AuditLog(sqlite_url, flush_interval=0.05, spool_dir=spool_dir)
    log.record(event(1))
    log.close()
    log.close()
    log.record(event(2, workflow_id="late"))  # documented: spooled at once, no database access
    assert [row["workflow_id"] for row in spooled(spool_path(spool_dir, sqlite_url))] == ["late"]
    again = AuditLog(sqlite_url, spool_dir=spool_dir)
    assert [r.metadata["i"] for r in again.query()] == [1]
    again.close()


def test_flush_and_close_without_records(sqlite_url: str) -> None:
    log = AuditLog(sqlite_url)
    log.flush()
    log.close()
    assert not Path(sqlite_url.removeprefix("sqlite:///")).exists()  # nothing touched the disk


def test_unreachable_database_keeps_running_and_spools_everything(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    spool = tmp_path / "spool" / "deep"
    log = AuditLog(DEAD_PG, flush_interval=0.05, spool_dir=spool)
    with caplog.at_level(logging.WARNING, logger="ai_conductor.audit"):
        for i in range(100):
            log.record(event(i))
        log.flush(timeout=30)  # returns once a write attempt has failed
        for i in range(100, 110):
            log.record(event(i))
        log.flush(timeout=30)
        with pytest.raises(StoreError) as err:
            log.query()
        log.close()
    rows = spooled(spool_path(spool, DEAD_PG))
    assert [row["metadata"]["i"] for row in rows] == list(range(110))
    assert rows[3]["created_at"] == (BASE + timedelta(seconds=3)).isoformat()
    assert rows[3]["run_id"] == "run1"
    assert "s3cret" not in caplog.text
    assert "s3cret" not in str(err.value)
    assert "s3cret" not in repr(log)
    assert "127.0.0.1" in str(err.value)
    unavailable = [r for r in caplog.records if "unavailable" in r.getMessage()]
    assert len(unavailable) == 1
    assert str(spool_path(spool, DEAD_PG)) in caplog.text


def test_no_spool_dir_logs_the_loss(caplog: pytest.LogCaptureFixture) -> None:
    log = AuditLog(DEAD_PG, flush_interval=0.05)
    log.record(event(1))
    with caplog.at_level(logging.ERROR, logger="ai_conductor.audit"):
        log.close()
    assert "1 audit events could not be written and were lost" in caplog.text


def test_query_rejects_a_bad_limit(sqlite_url: str) -> None:
    log = AuditLog(sqlite_url)
    with pytest.raises(UsageError):
        log.query(limit=0)
    log.close()


@pytest.mark.postgres
def test_writes_resume_when_the_database_comes_back(tmp_path: Path) -> None:
    name = new_database_name()
    url = create_database(name)
    drop_database(name)  # now the URL points at a database that does not exist
    log = AuditLog(url, flush_interval=0.05, spool_dir=tmp_path / "spool")
    try:
        log.record(event(1))
        log.flush(timeout=30)  # fails: no database yet; the event stays queued
        create_database(name)
        log.record(event(2))
        assert sorted(r.metadata["i"] for r in log.query()) == [1, 2]
    finally:
        log.close()
        drop_database(name)
    assert not spool_path(tmp_path / "spool", url).exists()


@pytest.mark.postgres
def test_a_row_postgres_refuses_is_kept_aside_alone(pg_url: str, tmp_path: Path) -> None:
    log = AuditLog(pg_url, flush_interval=0.05, spool_dir=tmp_path)
    log.record(event(1))
    log.record(event(2, metadata={"i": 2, "bad": float("nan")}))  # JSONB has no NaN
    log.record(event(3))
    assert sorted(r.metadata["i"] for r in log.query()) == [1, 3]
    log.close()
    kept = spooled(rejected_path(spool_path(tmp_path, pg_url)))
    assert [row["metadata"]["i"] for row in kept] == [2]
    assert not spool_path(tmp_path, pg_url).exists()  # never retried automatically


@pytest.mark.postgres
def test_naive_times_are_utc_whatever_the_session_time_zone(pg_url: str, tmp_path: Path) -> None:
    from datetime import UTC, datetime

    url = pg_url + ("&" if "?" in pg_url else "?") + "options=-c%20timezone%3DAmerica/New_York"
    log = AuditLog(url, flush_interval=0.05, spool_dir=tmp_path)
    try:
        log.record(event(1, created_at=datetime(2026, 1, 2, 12, 0)))  # naive: UTC by contract
        (row,) = log.query()
        assert row.created_at.astimezone(UTC) == datetime(2026, 1, 2, 12, 0, tzinfo=UTC)
    finally:
        log.close()


def test_open_audit_log_is_one_per_database(tmp_path: Path) -> None:
    close_all()
    settings = Settings(home=tmp_path / "home", audit_flush_interval=0.05)
    other = Settings(home=tmp_path / "other")
    first = open_audit_log(settings)
    assert open_audit_log(settings) is first
    assert open_audit_log(Settings(home=tmp_path / "home")) is first
    assert open_audit_log(other) is not first
    assert first.spool_dir == tmp_path / "home" / "spool"
    assert first.flush_interval == 0.05
    first.record(event(1))
    assert len(first.query()) == 1
    assert (tmp_path / "home" / "conductor.db").exists()
    close_all()
    assert open_audit_log(settings) is not first
    close_all()


def test_sqlite_engine_creates_its_directory_and_uses_wal(tmp_path: Path) -> None:
    engine = create_engine_for(f"sqlite:///{tmp_path / 'a' / 'b' / 'c.db'}")
    with engine.connect() as conn:
        assert conn.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert conn.execute(text("PRAGMA busy_timeout")).scalar() == 10000
    engine.dispose()


@pytest.mark.parametrize(
    ("url", "needle"),
    [
        ("not a url", "does not parse"),
        ("nosuchdialect://u:s3cret-pw@h/db", "nosuchdialect"),
        (DEAD_PG, "127.0.0.1:1/nope"),
    ],
)
def test_engine_errors_are_store_errors_without_password(url: str, needle: str) -> None:
    with pytest.raises(StoreError) as err:
        create_engine_for(url)
    assert needle in str(err.value)
    assert "s3cret" not in str(err.value)


def test_the_same_event_is_stored_once(audit: AuditLog) -> None:
    once = event(1)
    for _ in range(3):
        audit.record(once)
    audit.flush()
    audit.record(once)  # in a later batch too
    audit.record(event(2))
    rows = audit.query(limit=10)
    assert sorted(r.metadata["i"] for r in rows) == [1, 2]
    assert {r.event_id for r in rows} == {once.event_id, rows[0].event_id}
    assert len({event(1).event_id, event(1).event_id}) == 2  # a new event gets a new id
