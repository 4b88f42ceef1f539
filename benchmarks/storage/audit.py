"""Benchmark: the conductor's audit log vs a raw PostgreSQL COPY of the same rows.

One command: ``python benchmarks/storage/audit.py [--events 100000] [--rounds 3]``.
A fresh database is created on the server (``--server-url``, default CONDUCTOR_TEST_PG_URL or
``postgresql+psycopg2://postgres@127.0.0.1:5432/test``), migrated to head, and dropped at the end.
Each round writes the same events twice into an emptied ``coordination_logs`` (same indexes):

- logger: ``AuditLog.record()`` for every event, then ``flush()`` (everything the product does:
  cleaning rows, the writer thread, batches COPYed into a temp stage then inserted with
  ON CONFLICT (event_id) DO NOTHING);
- raw COPY: the rows serialised to COPY text in one buffer, one ``COPY ... FROM STDIN``.

The events are built before either clock starts; the order alternates between rounds; medians
are compared. Target: the logger reaches at least 50% of raw COPY's rows/s.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import secrets
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, make_url, text
from sqlalchemy.pool import NullPool

DEFAULT_SERVER = "postgresql+psycopg2://postgres@127.0.0.1:5432/test"
COLUMNS = ("workflow_id", "task_id", "agent_role", "action", "status", "metadata",
           "error_message", "created_at", "run_id", "event_id")  # fmt: skip


def make_events(n: int) -> list[Any]:
    from ai_conductor.store import AuditEvent

    base = datetime.now(UTC)
    return [
        AuditEvent(
            workflow_id=f"bench-{i % 7}", task_id=f"task-{i % 50}", agent_role="analyzer",
            run_id=f"run-{i // 1000}", action="succeeded" if i % 3 else "started",
            status="completed" if i % 3 else "running",
            metadata={"i": i, "tool": "ruff", "duration_s": 0.125, "findings": i % 11},
            error_message="exit 1: lint failed\nsee log" if i % 97 == 0 else None,
            created_at=base + timedelta(microseconds=i),
        )
        for i in range(n)
    ]  # fmt: skip


def count(engine: Engine) -> int:
    with engine.connect() as conn:
        return int(conn.execute(text("SELECT count(DISTINCT event_id) FROM coordination_logs"))
                   .scalar_one())  # fmt: skip


def empty(engine: Engine) -> None:
    with engine.begin() as conn:
        conn.execute(text("TRUNCATE coordination_logs RESTART IDENTITY"))


def logger_run(url: str, events: list[Any], spool: Path) -> float:
    from ai_conductor.settings import Settings
    from ai_conductor.store import AuditLog

    defaults = Settings()
    log = AuditLog(url, flush_interval=defaults.audit_flush_interval,
                   batch_size=defaults.audit_batch_size, spool_dir=spool)  # fmt: skip
    log.engine()  # connect and migrate before the clock starts
    start = time.perf_counter()
    for event in events:
        log.record(event)
    log.flush(timeout=None)
    elapsed = time.perf_counter() - start
    log.close()
    return elapsed


def field(value: Any) -> str:
    if value is None:
        return "\\N"
    s = value.isoformat() if isinstance(value, datetime) else str(value)
    return s.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r")


def raw_copy_run(engine: Engine, rows: list[dict[str, Any]]) -> float:
    start = time.perf_counter()
    buf = io.StringIO()
    for row in rows:
        values = [row[c] for c in COLUMNS]
        values[5] = json.dumps(values[5])
        buf.write("\t".join(map(field, values)) + "\n")
    buf.seek(0)
    raw = engine.raw_connection()
    try:
        with raw.cursor() as cur:  # type: ignore[attr-defined]
            cur.copy_expert(f"COPY coordination_logs ({', '.join(COLUMNS)}) FROM STDIN", buf)
        raw.commit()
    finally:
        raw.close()
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument(
        "--server-url", default=os.environ.get("CONDUCTOR_TEST_PG_URL", DEFAULT_SERVER)
    )
    args = parser.parse_args()
    from ai_conductor.store import create_engine_for, upgrade

    name = f"conductor_bench_{secrets.token_hex(4)}"
    admin = create_engine(args.server_url, isolation_level="AUTOCOMMIT", poolclass=NullPool)
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = make_url(args.server_url).set(database=name).render_as_string(hide_password=False)
    try:
        engine = create_engine_for(url)
        upgrade(engine)
        print(f"building {args.events} events...")
        events = make_events(args.events)
        rows = [e.as_row() for e in events]
        spool = Path(tempfile.mkdtemp(prefix="conductor-bench-spool-"))
        logger, raw = [], []
        for r in range(args.rounds):
            for side in ("logger", "raw") if r % 2 == 0 else ("raw", "logger"):
                empty(engine)
                if side == "logger":
                    logger.append(logger_run(url, events, spool))
                else:
                    raw.append(raw_copy_run(engine, rows))
                if count(engine) != args.events:
                    sys.exit(f"{side}: {count(engine)} rows stored, expected {args.events}")
            print(f"round {r + 1}: logger {logger[-1]:.2f}s  raw COPY {raw[-1]:.2f}s")
        if any(spool.iterdir()):
            sys.exit(f"the logger spooled events: {list(spool.iterdir())}")
        engine.dispose()
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
    lg, rw = statistics.median(logger), statistics.median(raw)
    n = args.events
    print(f"\n{n} audit events into PostgreSQL, median of {args.rounds} rounds")
    print(f"AuditLog record x{n} + flush : {lg:.2f}s  {n / lg:,.0f} rows/s")
    print(f"raw COPY of the same rows    : {rw:.2f}s  {n / rw:,.0f} rows/s")
    print(f"ratio logger/raw (rows/s)    : {rw / lg:.2f}  (target >= 0.50)")


if __name__ == "__main__":
    main()
