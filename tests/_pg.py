"""PostgreSQL for tests: a fresh, throw-away database per use on the CONDUCTOR_TEST_PG_URL server.

Without a reachable server the test is skipped, or fails when ``CONDUCTOR_REQUIRE_SERVICES=1`` (CI).
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from typing import NoReturn

import pytest
from sqlalchemy import Engine, create_engine, make_url, text
from sqlalchemy.exc import OperationalError
from sqlalchemy.pool import NullPool

DEFAULT_PG_URL = "postgresql+psycopg2://postgres@127.0.0.1:5432/test"


def pg_server_url() -> str:
    """The server to create test databases on (its own database is only used to connect)."""
    return os.environ.get("CONDUCTOR_TEST_PG_URL", DEFAULT_PG_URL)


def pg_unavailable(reason: str) -> NoReturn:
    """Skip, or fail when services are required."""
    if os.environ.get("CONDUCTOR_REQUIRE_SERVICES") == "1":
        pytest.fail(reason)
    pytest.skip(reason)


def _admin() -> Engine:
    return create_engine(
        pg_server_url(),
        isolation_level="AUTOCOMMIT",
        poolclass=NullPool,
        connect_args={"connect_timeout": 5},
    )


def create_database(name: str) -> str:
    """Create database ``name`` on the test server; returns its URL (password included)."""
    admin = _admin()
    shown = admin.url.render_as_string(hide_password=True)
    try:
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    except OperationalError:
        pg_unavailable(f"PostgreSQL not reachable at {shown}: set CONDUCTOR_TEST_PG_URL")
    finally:
        admin.dispose()
    return make_url(pg_server_url()).set(database=name).render_as_string(hide_password=False)


def drop_database(name: str) -> None:
    """Drop database ``name``, disconnecting anyone still in it."""
    admin = _admin()
    try:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    finally:
        admin.dispose()


def new_database_name() -> str:
    """A fresh, unused database name."""
    return f"conductor_test_{secrets.token_hex(6)}"


@contextmanager
def make_pg_database() -> Iterator[str]:
    """A fresh empty database for the duration of the ``with``; yields its URL."""
    name = new_database_name()
    url = create_database(name)
    try:
        yield url
    finally:
        drop_database(name)
