"""Alembic migrations on SQLite and PostgreSQL: blank to head, from the seed schema, idempotence."""

from __future__ import annotations

import logging
import subprocess
import sys
import threading
from collections.abc import Iterator
from typing import Any

import pytest
from prefect_sqlalchemy import ConnectionComponents, SqlAlchemyConnector, SyncDriver
from sqlalchemy import Engine, inspect, make_url, text
from sqlalchemy.exc import IntegrityError

from ai_conductor.errors import ConfigError
from ai_conductor.settings import Settings
from ai_conductor.store import (
    HEAD,
    AuditEvent,
    AuditLog,
    create_engine_for,
    current_revision,
    head_revision,
    resolve_database_url,
    upgrade,
    url_from_connector,
)

SEED_INDEXES = {"idx_logs_workflow_task", "idx_logs_created_status", "idx_active_workflows"}
COLUMNS = {
    "id",
    "workflow_id",
    "task_id",
    "agent_role",
    "action",
    "status",
    "metadata",
    "error_message",
    "created_at",
}
SEED_DDL = {
    "postgresql": """CREATE TABLE coordination_logs (
        id SERIAL PRIMARY KEY, workflow_id VARCHAR(255) NOT NULL, task_id VARCHAR(255),
        agent_role VARCHAR(64), action VARCHAR(64) NOT NULL, status VARCHAR(32) NOT NULL,
        metadata JSONB, error_message TEXT, created_at TIMESTAMPTZ NOT NULL DEFAULT NOW())""",
    "sqlite": """CREATE TABLE coordination_logs (
        id INTEGER PRIMARY KEY AUTOINCREMENT, workflow_id VARCHAR(255) NOT NULL,
        task_id VARCHAR(255), agent_role VARCHAR(64), action VARCHAR(64) NOT NULL,
        status VARCHAR(32) NOT NULL, metadata JSON, error_message TEXT,
        created_at TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP)""",
}
SEED_ROW = """INSERT INTO coordination_logs
    (workflow_id, task_id, agent_role, action, status, metadata, error_message)
    VALUES ('seed-wf', 'seed-task', 'installer', 'started', 'failed', :meta, 'it broke')"""


@pytest.fixture
def engine(db_url: str) -> Iterator[Engine]:
    engine = create_engine_for(db_url)
    yield engine
    engine.dispose()


def index_names(engine: Engine) -> set[str]:
    return {str(i["name"]) for i in inspect(engine).get_indexes("coordination_logs")}


def index_sql(engine: Engine, name: str) -> str:
    query = {
        "postgresql": "SELECT indexdef FROM pg_indexes WHERE indexname = :n",
        "sqlite": "SELECT sql FROM sqlite_master WHERE type = 'index' AND name = :n",
    }[engine.dialect.name]
    with engine.connect() as conn:
        return str(conn.execute(text(query), {"n": name}).scalar_one())


def test_blank_database_to_head(engine: Engine) -> None:
    assert current_revision(engine) is None
    upgrade(engine)
    assert current_revision(engine) == HEAD == head_revision() == "0004_event_id"
    columns = {c["name"]: c for c in inspect(engine).get_columns("coordination_logs")}
    assert set(columns) == COLUMNS | {"run_id", "event_id"}
    assert not columns["workflow_id"]["nullable"]
    assert columns["run_id"]["nullable"]
    assert index_names(engine) >= SEED_INDEXES | {"idx_logs_run_id", "uq_logs_event_id"}
    assert columns["event_id"]["nullable"]
    assert "UNIQUE" in index_sql(engine, "uq_logs_event_id").upper()
    active = index_sql(engine, "idx_active_workflows")
    assert "'pending'" in active
    assert "'running'" in active
    assert "DESC" in index_sql(engine, "idx_logs_created_status").upper()


def test_upgrade_twice_is_a_no_op(engine: Engine, caplog: pytest.LogCaptureFixture) -> None:
    upgrade(engine)
    with caplog.at_level(logging.INFO, logger="alembic"):
        upgrade(engine)
    assert "Running upgrade" not in caplog.text
    assert current_revision(engine) == HEAD


def seed_row_then_head(engine: Engine, db_url: str, tmp_path: Any) -> None:
    with engine.begin() as conn:
        conn.execute(text(SEED_ROW), {"meta": '{"attempt": 2, "tool": "npm"}'})
    upgrade(engine)
    assert current_revision(engine) == HEAD
    log = AuditLog(db_url, flush_interval=0.05, spool_dir=tmp_path)
    try:
        (seed,) = log.query(workflow_id="seed-wf")
        assert (seed.task_id, seed.agent_role, seed.status) == ("seed-task", "installer", "failed")
        assert seed.metadata == {"attempt": 2, "tool": "npm"}
        assert seed.error_message == "it broke"
        assert seed.run_id is None
        assert seed.created_at.tzinfo is not None
        log.record(AuditEvent(workflow_id="new", action="started", status="running", run_id="r9"))
        (new,) = log.query(run_id="r9")
        assert new.workflow_id == "new"
        assert new.id > seed.id
    finally:
        log.close()


def test_from_the_0001_schema_to_head(engine: Engine, db_url: str, tmp_path: Any) -> None:
    upgrade(engine, "0001_coordination_logs")
    assert current_revision(engine) == "0001_coordination_logs"
    assert {c["name"] for c in inspect(engine).get_columns("coordination_logs")} == COLUMNS
    assert index_names(engine) >= SEED_INDEXES
    seed_row_then_head(engine, db_url, tmp_path)
    assert "idx_logs_run_id" in index_names(engine)


def test_a_seed_created_table_is_adopted(engine: Engine, db_url: str, tmp_path: Any) -> None:
    with engine.begin() as conn:
        conn.execute(text(SEED_DDL[engine.dialect.name]))
        conn.execute(text("CREATE INDEX idx_logs_workflow_task ON coordination_logs(workflow_id)"))
    seed_row_then_head(engine, db_url, tmp_path)
    assert index_names(engine) >= SEED_INDEXES | {"idx_logs_run_id"}


def test_concurrent_upgrades_both_succeed(db_url: str) -> None:
    engines = [create_engine_for(db_url) for _ in range(3)]
    errors: list[BaseException] = []

    def run(e: Engine) -> None:
        try:
            upgrade(e)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(e,)) for e in engines]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert current_revision(engines[0]) == HEAD
    for e in engines:
        e.dispose()


@pytest.mark.slow
def test_concurrent_processes_upgrade_one_database(db_url: str) -> None:
    code = "import sys; from ai_conductor.store import *; upgrade(create_engine_for(sys.argv[1]))"
    procs = [
        subprocess.Popen([sys.executable, "-c", code, db_url], stderr=subprocess.PIPE, text=True)
        for _ in range(4)
    ]
    failures = [p.stderr.read() for p in procs if p.wait(timeout=120) != 0 and p.stderr]
    assert failures == []
    engine = create_engine_for(db_url)
    assert current_revision(engine) == HEAD
    engine.dispose()


def test_settings_without_block_use_the_audit_url(tmp_path: Any) -> None:
    settings = Settings(home=tmp_path)
    assert resolve_database_url(settings) == f"sqlite:///{tmp_path / 'conductor.db'}"
    explicit = Settings(home=tmp_path, database_url="sqlite:////x/y.db")
    assert resolve_database_url(explicit) == "sqlite:////x/y.db"


@pytest.mark.postgres
def test_connector_block_url_connects(pg_url: str) -> None:
    url = make_url(pg_url)
    block = SqlAlchemyConnector(
        connection_info=ConnectionComponents(
            driver=SyncDriver.POSTGRESQL_PSYCOPG2,
            username=url.username,
            password=url.password,
            host=url.host,
            port=url.port,
            database=url.database,
        )
    )
    rendered = url_from_connector(block)
    assert make_url(rendered).database == url.database
    engine = create_engine_for(rendered)
    upgrade(engine)
    assert current_revision(engine) == HEAD
    engine.dispose()


def test_connector_block_url_forms() -> None:
    with_password = SqlAlchemyConnector(
        connection_info=ConnectionComponents(
            driver=SyncDriver.POSTGRESQL_PSYCOPG2,
            username="u",
            password="p@ss",
            host="db.example",
            port=5433,
            database="audit",
            query={"sslmode": "require"},
        )
    )
    rendered = url_from_connector(with_password)
    parsed = make_url(rendered)
    assert (parsed.password, parsed.host, parsed.port) == ("p@ss", "db.example", 5433)
    assert parsed.query == {"sslmode": "require"}
    as_string = SqlAlchemyConnector(connection_info="sqlite:////tmp/audit.db")
    assert url_from_connector(as_string) == "sqlite:////tmp/audit.db"


@pytest.mark.slow
def test_block_name_resolves_through_prefect(prefect_api: str, pg_url: str) -> None:
    url = make_url(pg_url)
    SqlAlchemyConnector(connection_info=url.render_as_string(hide_password=False)).save(
        "conductor-audit-test", overwrite=True
    )
    settings = Settings(database_block="conductor-audit-test")
    assert make_url(resolve_database_url(settings)).database == url.database
    with pytest.raises(ConfigError, match="no-such-block"):
        resolve_database_url(Settings(database_block="no-such-block"))


def test_0004_from_0003_with_rows_keeps_them_and_dedupes_new_events(
    engine: Engine, db_url: str, tmp_path: Any
) -> None:
    upgrade(engine, "0003_findings")
    assert "event_id" not in {c["name"] for c in inspect(engine).get_columns("coordination_logs")}
    with engine.begin() as conn:
        for i in range(3):
            conn.execute(text(SEED_ROW), {"meta": f'{{"old": {i}}}'})
    upgrade(engine)
    assert current_revision(engine) == "0004_event_id"
    (index,) = [
        i
        for i in inspect(engine).get_indexes("coordination_logs")
        if i["name"] == "uq_logs_event_id"
    ]
    assert index["unique"]
    assert index["column_names"] == ["event_id"]
    log = AuditLog(db_url, flush_interval=0.05, spool_dir=tmp_path)
    try:
        old = log.query(workflow_id="seed-wf")
        assert len(old) == 3  # several NULL event ids live under the unique index
        assert {r.event_id for r in old} == {None}
        new = AuditEvent(workflow_id="new", action="started", status="running")
        for _ in range(3):  # a retried or replayed write of the same event
            log.record(new)
        (stored,) = log.query(workflow_id="new")
        assert stored.event_id == new.event_id
        assert len(new.event_id) == 32
    finally:
        log.close()
    with engine.begin() as conn:  # the index itself refuses a second copy
        conn.execute(text("UPDATE coordination_logs SET event_id = 'x' WHERE workflow_id = 'new'"))
        with pytest.raises(IntegrityError):
            conn.execute(text(
                "INSERT INTO coordination_logs (workflow_id, action, status, event_id) "
                "VALUES ('dup', 'started', 'running', 'x')"
            ))  # fmt: skip


def test_0004_downgrades_to_0003(engine: Engine) -> None:
    upgrade(engine)
    from alembic import command

    from ai_conductor.store.db import _config

    config = _config()
    with engine.connect() as conn:
        config.attributes["connection"] = conn
        command.downgrade(config, "0003_findings")
    assert current_revision(engine) == "0003_findings"
    columns = {c["name"] for c in inspect(engine).get_columns("coordination_logs")}
    assert columns == COLUMNS | {"run_id"}
    upgrade(engine)
    assert current_revision(engine) == HEAD


def test_0004_resumes_after_a_crash_mid_migration(engine: Engine) -> None:
    """A killed upgrade left the column (committed) and, on PostgreSQL, an INVALID index."""
    upgrade(engine, "0003_findings")
    postgres = engine.dialect.name == "postgresql"
    with engine.begin() as conn:
        conn.execute(text("ALTER TABLE coordination_logs ADD COLUMN event_id VARCHAR(64)"))
        conn.execute(text(
            "INSERT INTO coordination_logs (workflow_id, action, status, event_id) "
            "VALUES ('a', 'started', 'running', 'same'), ('b', 'started', 'running', 'same')"
        ))  # fmt: skip
    if postgres:  # a concurrent build that failed (duplicates) leaves an INVALID index behind
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            with pytest.raises(IntegrityError):
                conn.execute(text(
                    "CREATE UNIQUE INDEX CONCURRENTLY uq_logs_event_id "
                    "ON coordination_logs (event_id)"
                ))  # fmt: skip
            valid = conn.execute(text(
                "SELECT i.indisvalid FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid "
                "WHERE c.relname = 'uq_logs_event_id'"
            )).scalar()  # fmt: skip
            assert valid is False
    with engine.begin() as conn:
        conn.execute(text("UPDATE coordination_logs SET event_id = NULL WHERE workflow_id = 'b'"))
    upgrade(engine)  # resumes: no "column already exists", the index is rebuilt valid
    assert current_revision(engine) == "0004_event_id"
    (index,) = [
        i for i in inspect(engine).get_indexes("coordination_logs")
        if i["name"] == "uq_logs_event_id"
    ]  # fmt: skip
    assert index["unique"]
    with engine.begin() as conn, pytest.raises(IntegrityError):
        conn.execute(text(
            "INSERT INTO coordination_logs (workflow_id, action, status, event_id) "
            "VALUES ('c', 'started', 'running', 'same')"
        ))  # fmt: skip
