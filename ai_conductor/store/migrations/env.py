"""Alembic environment for the audit log; run only through :func:`ai_conductor.store.db.upgrade`.

The caller puts an open SQLAlchemy ``Connection`` in ``config.attributes["connection"]``; there
is no ``alembic.ini`` and no URL here. On PostgreSQL a session advisory lock serialises concurrent
upgrades (several workers starting against a fresh database).
"""

from __future__ import annotations

import time

from alembic import context
from sqlalchemy import Connection, text

from ai_conductor.errors import StoreError
from ai_conductor.store.schema import metadata_obj

_LOCK_KEY = 0x636F6E64  # "cond": one advisory lock for every conductor migration
_LOCK_WAIT = 300.0


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=metadata_obj,
        transaction_per_migration=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def _run_sqlite(connection: Connection) -> None:
    # One write transaction for the whole run: a concurrent process waits (busy_timeout), then
    # finds the database at head. SQLite DDL is transactional, so a failure leaves nothing behind.
    connection.exec_driver_sql("BEGIN IMMEDIATE")
    try:
        _run(connection)
        connection.commit()
    except BaseException:
        connection.rollback()
        raise


def _run_postgresql(connection: Connection) -> None:
    # A session lock survives the commits of transaction_per_migration. It is polled in short
    # transactions: a waiter blocked inside a transaction would deadlock CREATE INDEX CONCURRENTLY.
    deadline = time.monotonic() + _LOCK_WAIT
    while not connection.execute(
        text("SELECT pg_try_advisory_lock(:k)"), {"k": _LOCK_KEY}
    ).scalar():
        connection.commit()
        if time.monotonic() > deadline:
            raise StoreError(f"another process held the migration lock for over {_LOCK_WAIT:.0f}s")
        time.sleep(0.1)
    connection.commit()
    try:
        _run(connection)
    finally:
        connection.rollback()
        connection.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": _LOCK_KEY})
        connection.commit()


def run_migrations_online() -> None:
    """Run the migrations on the connection the caller handed over."""
    connection = context.config.attributes.get("connection")
    if not isinstance(connection, Connection):
        raise RuntimeError("run migrations through ai_conductor.store.db.upgrade()")
    {"sqlite": _run_sqlite, "postgresql": _run_postgresql}.get(connection.dialect.name, _run)(
        connection
    )


run_migrations_online()
