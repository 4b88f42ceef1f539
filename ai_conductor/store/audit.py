"""The audit log: the one chokepoint every event goes through on its way to ``coordination_logs``.

``record()`` never waits for the database: it calls subscribers, then queues the row. A daemon
writer thread inserts queued rows in batches (one executemany per batch), retries with backoff while
the database is down, and on ``close()`` spools what it could not write to
``spool_dir/audit-spool.jsonl`` so nothing is lost.
"""

from __future__ import annotations

import atexit
import json
import logging
import os
import threading
from collections import deque
from collections.abc import Callable
from datetime import datetime
from itertools import islice
from pathlib import Path
from typing import Any, Final

from sqlalchemy import Engine, select
from sqlalchemy.exc import DisconnectionError, InterfaceError, OperationalError, SQLAlchemyError

from ai_conductor.errors import StoreError, UsageError
from ai_conductor.settings import Settings, get_settings
from ai_conductor.store import db
from ai_conductor.store.events import AuditEvent
from ai_conductor.store.schema import LogRow, clean_row, coordination_logs

log = logging.getLogger("ai_conductor.audit")
SPOOL_FILE: Final = "audit-spool.jsonl"
_MAX_BACKOFF: Final = 5.0
_JOIN_TIMEOUT: Final = 30.0
_TRANSIENT: Final = (StoreError, OperationalError, InterfaceError, DisconnectionError, OSError)


class AuditLog:
    """Queue events for one database; write them in the background; query them back."""

    def __init__(
        self,
        url: str,
        *,
        flush_interval: float = 0.2,
        batch_size: int = 500,
        spool_dir: Path | None = None,
    ) -> None:
        self.url = url
        self.flush_interval = flush_interval
        self.batch_size = max(1, batch_size)
        self.spool_dir = spool_dir
        self._cond = threading.Condition()
        self._pending: deque[dict[str, Any]] = deque()
        self._recorded = 0  # rows ever queued
        self._settled = 0  # rows written, spooled or dropped
        self._failures = 0  # failed write attempts
        self._flush_wanted = False
        self._stopping = False
        self._closed = False
        self._thread: threading.Thread | None = None
        self._subscribers: tuple[Callable[[AuditEvent], None], ...] = ()
        self._engine: Engine | None = None
        self._engine_lock = threading.Lock()
        self._spool_lock = threading.Lock()

    def __repr__(self) -> str:
        return f"AuditLog({db.safe_url(self.url)!r})"

    __str__ = __repr__

    def subscribe(self, callback: Callable[[AuditEvent], None]) -> Callable[[], None]:
        """Call ``callback(event)`` for each recorded event (in ``record``'s thread); returns
        a function that unsubscribes."""
        with self._cond:
            self._subscribers = (*self._subscribers, callback)

        def unsubscribe() -> None:
            with self._cond:
                self._subscribers = tuple(s for s in self._subscribers if s is not callback)

        return unsubscribe

    def record(self, event: AuditEvent) -> None:
        """Tell subscribers, then queue the event; never blocks on the database.

        After ``close()`` the event is appended to the spool file at once (no database access).
        """
        for callback in self._subscribers:
            try:
                callback(event)
            except Exception:
                log.exception("audit subscriber %r failed; ignored", callback)
        row = clean_row(event.as_row())
        with self._cond:
            if self._closed:
                self._spool([row])
                return
            self._pending.append(row)
            self._recorded += 1
            if self._thread is None:
                self._thread = threading.Thread(
                    target=self._run, name="conductor-audit-writer", daemon=True
                )
                self._thread.start()
            if len(self._pending) in (1, self.batch_size):
                self._cond.notify_all()

    def flush(self, timeout: float | None = 10.0) -> None:
        """Wait until everything recorded so far is written, or a write attempt has just failed
        (the rows stay queued), or ``timeout`` seconds pass."""
        with self._cond:
            target, failures = self._recorded, self._failures
            if self._settled >= target or self._thread is None:
                return
            self._flush_wanted = True
            self._cond.notify_all()
            done = self._cond.wait_for(
                lambda: self._settled >= target or self._failures > failures or self._stopping,
                timeout,
            )
        if not done:
            log.warning("audit flush timed out after %ss; events stay queued", timeout)

    def close(self) -> None:
        """Write what is queued, stop the writer, spool anything unwritten; idempotent."""
        with self._cond:
            if self._closed:
                return
            self._closed = self._stopping = True
            self._cond.notify_all()
            thread = self._thread
        if thread is not None:
            thread.join(_JOIN_TIMEOUT)
        with self._cond:
            left = list(self._pending)
            self._pending.clear()
            self._settled += len(left)
        self._spool(left)
        with self._engine_lock:
            if self._engine is not None:
                self._engine.dispose()
                self._engine = None

    def query(
        self,
        *,
        workflow_id: str | None = None,
        task_id: str | None = None,
        run_id: str | None = None,
        status: str | None = None,
        action: str | None = None,
        since: datetime | None = None,
        limit: int = 100,
    ) -> list[LogRow]:
        """Rows matching every given filter, newest first (flushes queued events first).

        A naive ``since`` is taken as UTC.
        """
        if limit < 1:
            raise UsageError(f"limit must be at least 1, got {limit}")
        self.flush()
        t = coordination_logs.c
        stmt = select(coordination_logs)
        for column, value in (
            (t.workflow_id, workflow_id),
            (t.task_id, task_id),
            (t.run_id, run_id),
            (t.status, status),
            (t.action, action),
        ):
            if value is not None:
                stmt = stmt.where(column == value)
        if since is not None:
            stmt = stmt.where(t.created_at >= since)
        stmt = stmt.order_by(t.created_at.desc(), t.id.desc()).limit(limit)
        try:
            with self.engine().connect() as conn:
                rows = conn.execute(stmt).mappings().all()
        except SQLAlchemyError as exc:
            reason = type(exc).__name__
            raise StoreError(
                f"cannot query the audit log at {db.safe_url(self.url)}: {reason}"
            ) from None
        return [LogRow.model_validate(dict(row)) for row in rows]

    def engine(self) -> Engine:
        """The engine, created and migrated to head on first use; :class:`StoreError` if down."""
        with self._engine_lock:
            if self._engine is None:
                engine = db.create_engine_for(self.url)
                try:
                    db.upgrade(engine)
                except BaseException:
                    engine.dispose()
                    raise
                self._engine = engine
            return self._engine

    # -- writer thread ---------------------------------------------------------------------

    def _run(self) -> None:
        delay, warned = self.flush_interval, False
        while True:
            with self._cond:
                self._cond.wait_for(lambda: bool(self._pending) or self._stopping)
                self._cond.wait_for(
                    lambda: (
                        self._flush_wanted
                        or self._stopping
                        or len(self._pending) >= self.batch_size
                    ),
                    delay,
                )
                self._flush_wanted = False
                stopping = self._stopping
                batch = list(islice(self._pending, self.batch_size))
            if not batch:
                return
            try:
                self._write(batch)
            except Exception as exc:  # database down (or a bug): keep the rows, retry later
                with self._cond:
                    self._failures += 1
                    self._cond.notify_all()
                if not warned:
                    reason = str(exc) if isinstance(exc, StoreError) else type(exc).__name__
                    log.warning("audit log unavailable, events kept queued for retry: %s", reason)
                    warned = True
                if stopping:
                    return
                delay = min(max(delay * 2, 0.5), _MAX_BACKOFF)
                continue
            if warned:
                log.warning("audit log %s reachable again", db.safe_url(self.url))
                warned = False
            delay = self.flush_interval
            with self._cond:
                done = min(len(batch), len(self._pending))  # close() may have spooled them
                for _ in range(done):
                    self._pending.popleft()
                self._settled += len(batch)
                self._cond.notify_all()

    def _write(self, batch: list[dict[str, Any]]) -> None:
        engine = self.engine()
        try:
            with engine.begin() as conn:
                conn.execute(coordination_logs.insert(), batch)
        except _TRANSIENT:
            raise
        except Exception:
            # Something in the data: write rows one by one and spool the ones the database refuses.
            refused = []
            for row in batch:
                try:
                    with engine.begin() as conn:
                        conn.execute(coordination_logs.insert(), [row])
                except _TRANSIENT:
                    raise
                except Exception as exc:
                    log.warning("audit event refused by the database (%s)", type(exc).__name__)
                    refused.append(row)
            self._spool(refused)

    def _spool(self, rows: list[dict[str, Any]]) -> None:
        if not rows:
            return
        if self.spool_dir is None:
            log.error(
                "%d audit events could not be written and were lost (no spool_dir)", len(rows)
            )
            return
        path = self.spool_dir / SPOOL_FILE
        lines = "".join(json.dumps(row, default=_iso) + "\n" for row in rows)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            with self._spool_lock, path.open("a", encoding="utf-8") as out:
                out.write(lines)  # one append: lines from other writers never interleave
        except OSError as exc:
            log.error("%d audit events lost: cannot write %s (%s)", len(rows), path, exc)
            return
        log.warning("%d unwritten audit events spooled to %s", len(rows), path)


def _iso(value: object) -> str:
    return value.isoformat() if isinstance(value, datetime) else str(value)


_logs: dict[str, AuditLog] = {}
_logs_lock = threading.Lock()
_owner_pid: int | None = None


def open_audit_log(settings: Settings | None = None) -> AuditLog:
    """The process-wide audit log for ``settings`` (default: the environment's), one per URL.

    The first call for a database resolves its URL (loading the connector block if configured);
    the engine is created and migrated on first write or query. All logs close at exit.
    """
    global _owner_pid
    settings = settings or get_settings()
    key = f"block:{settings.database_block}" if settings.database_block else settings.audit_url()
    with _logs_lock:
        if (
            _owner_pid != os.getpid()
        ):  # first call, or a forked child: the parent's threads are gone
            if _owner_pid is None:
                atexit.register(close_all)
            _owner_pid = os.getpid()
            _logs.clear()
        if key in _logs:
            return _logs[key]
        url = db.resolve_database_url(settings)
        audit = _logs.get(url) or AuditLog(
            url,
            flush_interval=settings.audit_flush_interval,
            batch_size=settings.audit_batch_size,
            spool_dir=settings.spool_dir,
        )
        _logs[key] = _logs[url] = audit
        return audit


def close_all() -> None:
    """Close and forget every audit log :func:`open_audit_log` handed out."""
    with _logs_lock:
        logs = list({id(a): a for a in _logs.values()}.values())
        _logs.clear()
    for audit in logs:
        audit.close()
