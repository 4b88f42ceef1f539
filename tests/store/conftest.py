"""Store fixtures: a SQLite file in tmp_path, a fresh PostgreSQL database, and both."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from ai_conductor.store import AuditLog
from tests._pg import make_pg_database


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    """A SQLite audit database in a directory that does not exist yet."""
    return f"sqlite:///{tmp_path / 'home' / 'conductor.db'}"


@pytest.fixture
def pg_url() -> Iterator[str]:
    """A fresh PostgreSQL database (dropped afterwards); skips without a server."""
    with make_pg_database() as url:
        yield url


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """Each test that uses this runs on SQLite and on PostgreSQL."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'home' / 'conductor.db'}"
        return
    with make_pg_database() as url:
        yield url


@pytest.fixture
def spool_dir(tmp_path: Path) -> Path:
    return tmp_path / "spool"


@pytest.fixture
def audit(db_url: str, spool_dir: Path) -> Iterator[AuditLog]:
    """An audit log on each backend, closed afterwards."""
    log = AuditLog(db_url, flush_interval=0.05, batch_size=50, spool_dir=spool_dir)
    yield log
    log.close()
