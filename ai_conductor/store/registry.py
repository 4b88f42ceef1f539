"""One process-wide :class:`AuditLog` per database, and the on-demand spool replay."""

from __future__ import annotations

import atexit
import os
import threading

from ai_conductor.settings import Settings, get_settings
from ai_conductor.store import db
from ai_conductor.store.audit import AuditLog
from ai_conductor.store.spool import ReplayResult

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
        # first call, or a forked child: the parent's threads are gone
        if _owner_pid != os.getpid():
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
            spool_after=settings.audit_spool_after,
            max_queue=settings.audit_max_queue,
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


def replay_spool(settings: Settings | None = None) -> ReplayResult:
    """Replay the spooled audit events of ``settings``' database (default: the environment's).

    Each event is inserted at most once (duplicates, e.g. after a crash mid-replay, are skipped
    by event id). Raises :class:`~ai_conductor.errors.StoreError` when the database cannot be
    reached; ``left`` counts events still spooled when it fails part-way.
    """
    return open_audit_log(settings).replay()
