"""The audit log (``coordination_logs`` via SQLAlchemy + Alembic) and its events.

``open_audit_log()`` is the way in: one process-wide :class:`AuditLog` per database.
"""

from __future__ import annotations

from ai_conductor.store.audit import AuditLog, close_all, open_audit_log
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
from ai_conductor.store.schema import LogRow, coordination_logs

__all__ = [
    "HEAD",
    "AuditEvent",
    "AuditLog",
    "LogRow",
    "close_all",
    "coordination_logs",
    "create_engine_for",
    "current_revision",
    "head_revision",
    "open_audit_log",
    "resolve_database_url",
    "upgrade",
    "url_from_connector",
]
