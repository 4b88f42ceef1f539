"""Nothing lost while the database is down: the bounded queue, the spool, and its replay."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
import threading
import time
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, make_url, text
from sqlalchemy.exc import OperationalError

from ai_conductor.settings import Settings
from ai_conductor.store import (
    AuditEvent,
    AuditLog,
    ReplayResult,
    close_all,
    create_engine_for,
    replay_spool,
    spool_path,
    upgrade,
)
from ai_conductor.store import spool as spool_mod
from ai_conductor.store.schema import clean_row
from ai_conductor.store.writes import insert_rows
from tests._pg import make_pg_database
from tests.conftest import wait_for
from tests.store._proxy import FlakyProxy

DEAD_PG = "postgresql+psycopg2://postgres:pw@127.0.0.1:1/nope"
BASE = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)


def event(i: int, **over: Any) -> AuditEvent:
    fields: dict[str, Any] = {
        "workflow_id": f"wf{i % 3}", "task_id": f"t{i}", "agent_role": "analyzer",
        "action": "succeeded", "status": "completed", "metadata": {"i": i},
        "created_at": BASE + timedelta(seconds=i),
    }  # fmt: skip
    return AuditEvent(**(fields | over))


def stored_ids(engine: Engine) -> list[str]:
    with engine.connect() as conn:
        return [str(r[0]) for r in conn.execute(text("SELECT event_id FROM coordination_logs"))]


def waiting_files(spool: Path) -> list[Path]:
    return [p for p in spool.parent.glob(spool.name + "*") if "rejected" not in p.name]


@pytest.fixture
def flaky_pg() -> Iterator[tuple[str, str, FlakyProxy]]:
    """(direct URL, URL through a proxy that drops connections until told to forward, proxy)."""
    with make_pg_database() as url:
        parsed = make_url(url)
        proxy = FlakyProxy(parsed.host or "127.0.0.1", parsed.port or 5432)
        proxied = parsed.set(host="127.0.0.1", port=proxy.port)
        try:
            yield url, proxied.render_as_string(hide_password=False), proxy
        finally:
            close_all()
            proxy.close()


@pytest.mark.postgres
def test_outage_events_arrive_exactly_once_after_the_database_returns(
    flaky_pg: tuple[str, str, FlakyProxy], tmp_path: Path
) -> None:
    direct, proxied, proxy = flaky_pg
    log = AuditLog(proxied, flush_interval=0.05, batch_size=40, spool_dir=tmp_path,
                   spool_after=0.2, max_queue=60)  # fmt: skip
    spool = spool_path(tmp_path, proxied)
    events = [event(i) for i in range(400)]
    slowest = 0.0
    for i, ev in enumerate(events[:300]):
        start = time.perf_counter()
        log.record(ev)  # never raises, never waits for the database
        slowest = max(slowest, time.perf_counter() - start)
        if i % 30 == 0:
            time.sleep(0.05)
    assert slowest < 1.0
    wait_for(spool.exists, "the spool file", 20)
    assert proxy.dropped > 0
    assert len(log._pending) <= 60  # bounded: the rest is on disk
    proxy.forward()
    for ev in events[300:]:
        log.record(ev)
    engine = create_engine_for(direct)
    upgrade(engine)
    try:
        wait_for(lambda: len(stored_ids(engine)) >= 400, "all 400 events in the database", 60)
        wait_for(lambda: not waiting_files(spool), "the spool to be replayed", 30)
        log.close()
        ids = stored_ids(engine)
        assert len(ids) == 400
        assert set(ids) == {ev.event_id for ev in events}
    finally:
        engine.dispose()
    assert not waiting_files(spool)


_CRASHING_CHILD = textwrap.dedent("""
    import os, sys, time
    from datetime import UTC, datetime
    from pathlib import Path
    from ai_conductor.store import AuditEvent, AuditLog, spool_path
    url, spool_dir, n = sys.argv[1], Path(sys.argv[2]), int(sys.argv[3])
    log = AuditLog(url, flush_interval=0.02, spool_dir=spool_dir, spool_after=0.0)
    for i in range(n):
        log.record(AuditEvent(workflow_id="crash", action="succeeded", status="completed",
                              task_id=f"t{i}", metadata={"i": i}, event_id=f"crash-{i:04d}"))
    path = spool_path(spool_dir, url)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if path.exists() and len(path.read_text().splitlines()) == n:
            os._exit(17)  # a crash: no close(), no atexit
        time.sleep(0.05)
    os._exit(1)
""")


@pytest.mark.postgres
def test_replay_after_a_process_crash_inserts_only_the_missing_events(
    flaky_pg: tuple[str, str, FlakyProxy], tmp_path: Path
) -> None:
    direct, proxied, proxy = flaky_pg
    child = subprocess.run(
        [sys.executable, "-c", _CRASHING_CHILD, proxied, str(tmp_path / "spool"), "50"],
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert child.returncode == 17, child.stderr
    engine = create_engine_for(direct)
    upgrade(engine)
    try:  # the first 20 had reached the database before the crash
        already = [clean_row(event(i, event_id=f"crash-{i:04d}").as_row()) for i in range(20)]
        assert insert_rows(engine, already) == (20, [])
        proxy.forward()
        settings = Settings(home=tmp_path, database_url=proxied)
        result = replay_spool(settings)
        assert (result.replayed, result.duplicates, result.left) == (30, 20, 0)
        assert sorted(stored_ids(engine)) == [f"crash-{i:04d}" for i in range(50)]
        assert replay_spool(settings) == ReplayResult(
            spool_file=result.spool_file, rejected_file=result.rejected_file
        )  # nothing left: a second replay does nothing
    finally:
        engine.dispose()
    assert not waiting_files(spool_path(tmp_path / "spool", proxied))


def test_a_crash_mid_replay_replays_again_without_duplicates(db_url: str, tmp_path: Path) -> None:
    settings = Settings(home=tmp_path, database_url=db_url)
    spool = spool_path(settings.spool_dir, db_url)
    rows = [clean_row(event(i).as_row()) for i in range(30)]
    legacy = {k: v for k, v in rows[29].items() if k != "event_id"}  # spooled before event ids
    spool_mod.append(spool, rows[:10])
    # a replay crashed after inserting rows 10-14 of its claimed file
    crashed = spool.with_name(spool.name + ".999-dead.replaying")
    spool_mod.append(crashed, rows[10:20], lines=['{"workflow_id": "cut short by a cr'])
    spool_mod.append(spool, rows[20:29], lines=["not json at all", json.dumps(["a", "list"])])
    spool_mod.append(spool, [legacy, legacy])
    engine = create_engine_for(db_url)
    upgrade(engine)
    try:
        assert insert_rows(engine, rows[10:15]) == (5, [])
        result = replay_spool(settings)
        assert (result.replayed, result.duplicates, result.left, result.rejected) == (25, 6, 0, 3)
        ids = stored_ids(engine)
        assert len(ids) == 30
        assert {r["event_id"] for r in rows[:29]} <= set(ids)
    finally:
        engine.dispose()
        close_all()
    assert not waiting_files(spool)
    kept = Path(result.rejected_file).read_text().splitlines()
    assert kept == ['{"workflow_id": "cut short by a cr', "not json at all", '["a", "list"]']


def test_a_replay_stopped_by_an_outage_keeps_the_rest(sqlite_url: str, tmp_path: Path) -> None:
    spool = spool_path(tmp_path, sqlite_url)
    rows = [clean_row(event(i).as_row()) for i in range(25)]
    spool_mod.append(spool, rows)
    engine = create_engine_for(sqlite_url)
    upgrade(engine)
    calls = 0

    def flaky(batch: Sequence[dict[str, Any]]) -> tuple[int, list[dict[str, Any]]]:
        nonlocal calls
        calls += 1
        if calls == 2:
            raise OperationalError("INSERT", {}, Exception("server closed the connection"))
        return insert_rows(engine, batch)

    try:
        first = spool_mod.replay(spool, flaky, batch_size=10)
        assert (first.replayed, first.left) == (10, 25)  # the claimed file is kept whole
        second = spool_mod.replay(spool, lambda b: insert_rows(engine, b), batch_size=10)
        assert (second.replayed, second.duplicates, second.left) == (15, 10, 0)
        assert len(stored_ids(engine)) == 25
    finally:
        engine.dispose()
    assert not waiting_files(spool)


def test_appends_during_replays_are_never_lost(sqlite_url: str, tmp_path: Path) -> None:
    spool = spool_path(tmp_path, sqlite_url)
    engine = create_engine_for(sqlite_url)
    upgrade(engine)
    rows = [clean_row(event(i).as_row()) for i in range(600)]

    def writer(part: list[dict[str, Any]]) -> None:
        for k in range(0, len(part), 5):
            spool_mod.append(spool, part[k : k + 5])

    threads = [threading.Thread(target=writer, args=(rows[k::3],)) for k in range(3)]
    for t in threads:
        t.start()
    try:
        while any(t.is_alive() for t in threads):
            spool_mod.replay(spool, lambda b: insert_rows(engine, b), batch_size=50)
        for t in threads:
            t.join()
        spool_mod.replay(spool, lambda b: insert_rows(engine, b), batch_size=50)
        ids = stored_ids(engine)
        assert len(ids) == 600
        assert set(ids) == {r["event_id"] for r in rows}
    finally:
        engine.dispose()


def test_the_queue_is_bounded_and_spills_to_the_spool(tmp_path: Path) -> None:
    log = AuditLog(DEAD_PG, flush_interval=0.05, spool_dir=tmp_path, spool_after=0.0,
                   max_queue=10)  # fmt: skip
    spool = spool_path(tmp_path, DEAD_PG)
    for i in range(50):
        log.record(event(i))
        assert len(log._pending) <= 10
    wait_for(lambda: spool.exists() and len(spool.read_text().splitlines()) == 50,
             "every event in the spool while the log is still open", 20)  # fmt: skip
    log.close()
    spooled = [json.loads(line) for line in spool.read_text().splitlines()]
    assert sorted(r["metadata"]["i"] for r in spooled) == list(range(50))
    assert len({r["event_id"] for r in spooled}) == 50


def test_each_database_has_its_own_spool(tmp_path: Path) -> None:
    a = spool_path(tmp_path, "postgresql+psycopg2://u:one@db.example:5432/audit")
    assert a == spool_path(tmp_path, "postgresql://u:two@db.example:5432/audit")  # same database
    assert a != spool_path(tmp_path, "postgresql://u@db.example:5432/other")
    assert a != spool_path(tmp_path, "postgresql://u@db.example:5433/audit")
    assert a.parent == tmp_path
    assert a.name.startswith("audit-spool-")
    assert a.suffix == ".jsonl"
    relative = spool_path(tmp_path, "sqlite:///conductor.db")
    assert relative == spool_path(tmp_path, f"sqlite:///{Path('conductor.db').resolve()}")
    assert spool_path(tmp_path, "not a url").parent == tmp_path


def test_replay_without_a_spool_does_nothing(tmp_path: Path) -> None:
    try:
        result = replay_spool(Settings(home=tmp_path))
    finally:
        close_all()
    assert (result.replayed, result.duplicates, result.left, result.rejected) == (0, 0, 0, 0)


def test_an_old_spool_is_replayed_after_the_first_successful_write(
    db_url: str, tmp_path: Path
) -> None:
    spool = spool_path(tmp_path, db_url)
    earlier = [clean_row(event(i).as_row()) for i in range(5)]
    spool_mod.append(spool, earlier)  # left by a process that could not reach the database
    log = AuditLog(db_url, flush_interval=0.05, spool_dir=tmp_path)
    try:
        log.record(event(99))
        wait_for(lambda: not waiting_files(spool), "the old spool to be replayed", 20)
        rows = log.query(limit=100)
        assert sorted(r.metadata["i"] for r in rows) == [0, 1, 2, 3, 4, 99]
    finally:
        log.close()


def test_a_spool_from_an_earlier_version_is_replayed_too(tmp_path: Path) -> None:
    settings = Settings(home=tmp_path)
    legacy = settings.spool_dir / "audit-spool.jsonl"  # one file per home, no event ids
    legacy.parent.mkdir(parents=True)
    rows = [  # the old writer's format: metadata as an object, ISO times, no event_id
        {"workflow_id": "old", "task_id": f"t{i}", "agent_role": "analyzer", "action": "succeeded",
         "status": "completed", "metadata": {"i": i}, "error_message": None,
         "created_at": f"2025-03-01T12:00:0{i}+00:00", "run_id": None}
        for i in range(3)
    ]  # fmt: skip
    legacy.write_text("".join(json.dumps(r) + "\n" for r in rows))
    try:
        result = replay_spool(settings)
        assert result.replayed == 3
        assert not legacy.exists()
        again = replay_spool(settings)
        assert again.replayed == 0
        assert len(spool_mod_query(settings)) == 3
    finally:
        close_all()


def spool_mod_query(settings: Settings) -> list[object]:
    from ai_conductor.store import open_audit_log

    return list(open_audit_log(settings).query(workflow_id="old"))
