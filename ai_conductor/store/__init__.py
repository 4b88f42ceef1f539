"""The audit log (``coordination_logs`` via SQLAlchemy + Alembic) and its events.

``open_audit_log()`` is the way in: one process-wide :class:`AuditLog` per database.
``replay_spool()`` writes events spooled while the database was down; ``prune()`` deletes old
history.
"""

from __future__ import annotations

from ai_conductor.store.audit import AuditLog
from ai_conductor.store.db import (
    HEAD,
    create_engine_for,
    current_revision,
    head_revision,
    resolve_database_url,
    upgrade,
    url_from_connector,
)
from ai_conductor.store.events import AuditEvent
from ai_conductor.store.registry import close_all, open_audit_log, replay_spool
from ai_conductor.store.retention import PruneResult, prune
from ai_conductor.store.schema import LogRow, coordination_logs
from ai_conductor.store.spool import ReplayResult, spool_path

__all__ = [
    "HEAD",
    "AuditEvent",
    "AuditLog",
    "LogRow",
    "PruneResult",
    "ReplayResult",
    "close_all",
    "coordination_logs",
    "create_engine_for",
    "current_revision",
    "head_revision",
    "open_audit_log",
    "prune",
    "replay_spool",
    "resolve_database_url",
    "spool_path",
    "upgrade",
    "url_from_connector",
]
