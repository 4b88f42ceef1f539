"""The audit log: the one chokepoint every event goes through on its way to ``coordination_logs``.

``record()`` never waits for the database: it calls subscribers, then queues the row. A daemon
writer thread inserts queued rows in batches (idempotently: see :mod:`ai_conductor.store.writes`)
and retries with backoff while the database is down. The queue is bounded: once the database has
been unreachable for ``spool_after`` seconds, or ``max_queue`` rows wait, rows go to this
database's spool file (:mod:`ai_conductor.store.spool`), as do rows still queued at ``close()``.
The spool is replayed by the writer after its next successful write, or on demand (``replay``).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any, Final

from sqlalchemy import Engine, select
from sqlalchemy.exc import SQLAlchemyError

from ai_conductor.errors import StoreError, UsageError
from ai_conductor.store import db, spool, writes
from ai_conductor.store.events import AuditEvent
from ai_conductor.store.schema import LogRow, clean_row, coordination_logs
from ai_conductor.store.spool import ReplayResult
from ai_conductor.store.writer import WriterThread

log = logging.getLogger("ai_conductor.audit")
_JOIN_TIMEOUT: Final = 30.0
RUN_MATCHES_SHOWN: Final = 5
"""Run ids an ambiguous prefix error lists."""


class AuditLog(WriterThread):
    """Queue events for one database; write them in the background; query them back."""

    def __init__(
        self,
        url: str,
        *,
        flush_interval: float = 0.2,
        batch_size: int = 2000,
        spool_dir: Path | None = None,
        spool_after: float = 30.0,
        max_queue: int = 100_000,
    ) -> None:
        super().__init__(flush_interval=flush_interval, batch_size=batch_size,
                         spool_after=spool_after, max_queue=max_queue)  # fmt: skip
        self.url = url
        self.spool_dir = spool_dir
        self.spool_file = spool.spool_path(spool_dir, url) if spool_dir is not None else None
        """This database's spool (None: unwritable events are logged as lost)."""
        self._subscribers: tuple[Callable[[AuditEvent], None], ...] = ()
        self._engine: Engine | None = None
        self._engine_lock = threading.Lock()
        self._spooled_gen = 1 if spool_dir is not None else 0  # 1: look for an old spool
        self._replayed_gen = 0

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

        After ``close()``, or while ``max_queue`` rows wait, the event is appended to the spool
        at once (no database access).
        """
        for callback in self._subscribers:
            try:
                callback(event)
            except Exception:
                log.exception("audit subscriber %r failed; ignored", callback)
        row = clean_row(event.as_row())
        if not self._enqueue(row):
            self._spool([row], quiet=True)

    def close(self) -> None:
        """Write what is queued, stop the writer, spool anything unwritten; idempotent."""
        first, thread = self._stop()
        if not first:
            return
        if thread is not None:
            thread.join(_JOIN_TIMEOUT)
        self._spool(self._drain())
        with self._engine_lock:
            if self._engine is not None:
                self._engine.dispose()
                self._engine = None

    def replay(self) -> ReplayResult:
        """Insert this database's spooled events now (each once); :class:`StoreError` if the
        database is unreachable. Rows left in the spool (``left``) are replayed next time."""
        if self.spool_file is None:
            return ReplayResult()
        generation = self._spooled_gen
        self.engine()
        result = spool.replay(self.spool_file, self._insert, self.batch_size)
        if not result.left:
            self._replayed_gen = max(self._replayed_gen, generation)
        return result

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

    def resolve_run(self, ref: str) -> str:
        """The run id ``ref`` names: ``ref`` itself when a run has that id (or none starts with
        it: a query for it finds nothing), else the one run id it begins, as the 8-character
        ids the tables show; :class:`UsageError` when it begins several."""
        self.flush()
        t = coordination_logs.c
        stmt = select(t.run_id).where(t.run_id.startswith(ref, autoescape=True)).distinct()
        try:
            with self.engine().connect() as conn:
                found = sorted(conn.scalars(stmt.limit(RUN_MATCHES_SHOWN + 1)))
        except SQLAlchemyError as exc:
            raise StoreError(
                f"cannot query the audit log at {db.safe_url(self.url)}: {type(exc).__name__}"
            ) from None
        if ref in found or not found:
            return ref
        if len(found) == 1:
            return str(found[0])
        shown = ", ".join(found[:RUN_MATCHES_SHOWN]) + (", ..." if len(found) > RUN_MATCHES_SHOWN
                                                         else "")  # fmt: skip
        raise UsageError(f"run id {ref!r} is ambiguous: it begins {shown}; give more of the run id")

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

    # -- what the writer thread calls -----------------------------------------------------

    def _shown(self) -> str:
        return db.safe_url(self.url)

    def _insert(self, rows: Sequence[dict[str, Any]]) -> tuple[int, list[dict[str, Any]]]:
        return writes.insert_rows(self.engine(), rows)

    def _write(self, batch: list[dict[str, Any]]) -> None:
        _, refused = self._insert(batch)
        if refused:
            self._set_aside(refused)

    def _replay_due(self) -> bool:
        return self._spooled_gen > self._replayed_gen

    def _replay_now(self) -> None:
        result = self.replay()
        if result.left:
            raise StoreError(f"{result.left} spooled audit events could not be replayed yet")

    def _set_aside(self, rows: list[dict[str, Any]]) -> None:
        if self.spool_file is None:
            log.error("%d audit events refused by the database were lost", len(rows))
            return
        path = spool.rejected_path(self.spool_file)
        try:
            spool.append(path, rows)
        except OSError as exc:
            log.error("%d audit events lost: cannot write %s (%s)", len(rows), path, exc)
            return
        log.warning("%d audit events refused by the database kept in %s", len(rows), path)

    def _spool(self, rows: list[dict[str, Any]], *, quiet: bool = False) -> None:
        if not rows:
            return
        if self.spool_file is None:
            log.error(
                "%d audit events could not be written and were lost (no spool_dir)", len(rows)
            )
            return
        try:
            spool.append(self.spool_file, rows)
        except OSError as exc:
            log.error("%d audit events lost: cannot write %s (%s)", len(rows), self.spool_file, exc)
            return
        self._spooled_gen += 1
        if not quiet:
            log.warning("%d unwritten audit events spooled to %s", len(rows), self.spool_file)
