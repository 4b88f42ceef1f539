"""Retention: delete audit history and persisted Prefect results older than N days.

Run summaries survive: the ``started``/``finished`` rows of the conductor itself (agent_role
``conductor``) are the history of which runs happened and how they ended; they are small and
users' dashboards count on them. Everything else older than the cutoff goes, in batches of
parameterized deletes (short transactions: audit writers are never blocked for long).
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Final

from sqlalchemy import ColumnElement, Engine, and_, delete, func, or_, select
from sqlalchemy.exc import SQLAlchemyError

from ai_conductor.errors import StoreError, UsageError
from ai_conductor.settings import Settings, get_settings
from ai_conductor.store import db
from ai_conductor.store import events as ev
from ai_conductor.store.registry import open_audit_log
from ai_conductor.store.schema import coordination_logs

log = logging.getLogger("ai_conductor.audit")
BATCH: Final = 5000
SUMMARY_ACTIONS: Final = (ev.STARTED, ev.FINISHED)


@dataclass(frozen=True)
class PruneResult:
    """What :func:`prune` deleted (with ``dry_run``: what it would delete)."""

    older_than_days: int
    cutoff: datetime
    dry_run: bool
    audit_rows: int
    """coordination_logs rows deleted."""
    run_summaries_kept: int
    """Rows older than the cutoff kept because they are conductor run summaries."""
    result_files: int
    """Persisted Prefect result files deleted from the results directory."""
    result_bytes: int


def prunable(cutoff: datetime) -> ColumnElement[bool]:
    """Rows created before ``cutoff`` that are not conductor run summaries."""
    t = coordination_logs.c
    return and_(
        t.created_at < cutoff,
        or_(
            t.agent_role.is_(None),
            t.agent_role != ev.CONDUCTOR_ROLE,
            t.action.not_in(SUMMARY_ACTIONS),
        ),
    )


def _count(engine: Engine, where: ColumnElement[bool]) -> int:
    with engine.connect() as conn:
        stmt = select(func.count()).select_from(coordination_logs).where(where)
        return int(conn.execute(stmt).scalar_one())


def _delete_rows(engine: Engine, cutoff: datetime, batch: int) -> int:
    t = coordination_logs.c
    total = 0
    while True:
        ids = select(t.id).where(prunable(cutoff)).limit(batch).scalar_subquery()
        with engine.begin() as conn:
            deleted = conn.execute(delete(coordination_logs).where(t.id.in_(ids))).rowcount
        total += deleted
        if deleted < batch:
            return total


def _old_files(root: Path, cutoff: datetime) -> list[tuple[Path, int]]:
    """Regular files under ``root`` last modified before ``cutoff`` (symlinks not followed)."""
    found: list[tuple[Path, int]] = []
    limit = cutoff.timestamp()
    for folder, _, names in os.walk(root):
        for name in names:
            path = Path(folder) / name
            try:
                info = path.lstat()
            except FileNotFoundError:
                continue
            if path.is_file() and not path.is_symlink() and info.st_mtime < limit:
                found.append((path, info.st_size))
    return found


MAX_DAYS = 36_500
"""A century: beyond it the cutoff date does not exist (and nothing is that old)."""


def prune(settings: Settings | None, older_than_days: int, *, dry_run: bool = False) -> PruneResult:
    """Delete audit rows (except run summaries) and persisted results older than N days.

    ``settings`` default to the environment's. With ``dry_run`` nothing is deleted: the result
    counts what would be. Raises :class:`UsageError` for a negative age and :class:`StoreError`
    when the audit database cannot be reached.
    """
    if not 0 <= older_than_days <= MAX_DAYS:
        raise UsageError(f"older_than_days must be between 0 and {MAX_DAYS}, got {older_than_days}")
    settings = settings or get_settings()
    cutoff = datetime.now(UTC) - timedelta(days=older_than_days)
    audit = open_audit_log(settings)
    audit.flush()
    engine = audit.engine()
    t = coordination_logs.c
    summaries = and_(
        t.created_at < cutoff, t.agent_role == ev.CONDUCTOR_ROLE, t.action.in_(SUMMARY_ACTIONS)
    )
    try:
        kept = _count(engine, summaries)
        rows = _count(engine, prunable(cutoff)) if dry_run else _delete_rows(engine, cutoff, BATCH)
    except SQLAlchemyError as exc:
        raise StoreError(
            f"pruning the audit log at {db.safe_url(audit.url)} failed: {type(exc).__name__}; "
            "check the database and run the prune again (it resumes where it stopped)"
        ) from None
    files = _old_files(settings.results_dir, cutoff) if settings.results_dir.is_dir() else []
    if not dry_run:
        for path, _ in files:
            path.unlink(missing_ok=True)
    verb = "would delete" if dry_run else "deleted"
    log.info("prune: %s %d audit rows and %d result files older than %s",
             verb, rows, len(files), cutoff.isoformat())  # fmt: skip
    return PruneResult(
        older_than_days=older_than_days,
        cutoff=cutoff,
        dry_run=dry_run,
        audit_rows=rows,
        run_summaries_kept=kept,
        result_files=len(files),
        result_bytes=sum(size for _, size in files),
    )
