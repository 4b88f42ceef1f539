"""The ``coordination_logs`` table (a contract with users' SQL), as SQLAlchemy Core.

Migrations own the DDL (``ai_conductor/store/migrations``); this module mirrors their result so
queries and inserts are typed. Timestamps are stored as UTC and always read back timezone-aware.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any, Final

from pydantic import BaseModel, ConfigDict, Field, field_validator
from sqlalchemy import (
    JSON,
    BigInteger,
    Column,
    DateTime,
    Dialect,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    TypeDecorator,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB

TABLE_NAME: Final = "coordination_logs"
ACTIVE_STATUSES: Final = ("pending", "running")
ACTIVE_WHERE: Final = "status IN ('pending', 'running')"


class UTCDateTime(TypeDecorator[datetime]):
    """``TIMESTAMP WITH TIME ZONE``: binds UTC, reads back aware UTC (SQLite stores it naive)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        value = value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


metadata_obj = MetaData()

coordination_logs = Table(
    TABLE_NAME,
    metadata_obj,
    Column(
        "id",
        Integer().with_variant(BigInteger(), "postgresql"),
        primary_key=True,
        autoincrement=True,
    ),
    Column("workflow_id", String(255), nullable=False),
    Column("task_id", String(255), nullable=True),
    Column("agent_role", String(64), nullable=True),
    Column("action", String(64), nullable=False),
    Column("status", String(32), nullable=False),
    Column("metadata", JSON().with_variant(JSONB(), "postgresql"), nullable=True),
    Column("error_message", Text, nullable=True),
    Column("created_at", UTCDateTime(), nullable=False, server_default=func.now()),
    Column("run_id", String(64), nullable=True),
    Column("event_id", String(64), nullable=True),
    Index("idx_logs_workflow_task", "workflow_id", "task_id"),
    Index("idx_logs_created_status", text("created_at DESC"), "status"),
    Index(
        "idx_active_workflows",
        "workflow_id",
        postgresql_where=text(ACTIVE_WHERE),
        sqlite_where=text(ACTIVE_WHERE),
    ),
    Index("idx_logs_run_id", "run_id"),
    Index("uq_logs_event_id", "event_id", unique=True),
)
"""The audit table at the head revision."""

_LIMITS: Final = {
    "workflow_id": 255,
    "task_id": 255,
    "agent_role": 64,
    "action": 64,
    "status": 32,
    "run_id": 64,
    "event_id": 64,
}


def _scrub(value: Any) -> Any:
    """Drop NUL characters (PostgreSQL rejects them in text and JSONB) from a JSON value."""
    if isinstance(value, str):
        return value.replace("\x00", "")
    if isinstance(value, list):
        return [_scrub(v) for v in value]
    if isinstance(value, dict):
        return {_scrub(k): _scrub(v) for k, v in value.items()}
    return value


def _fit(value: Any, size: int | None) -> Any:
    if not isinstance(value, str):
        return value
    if "\x00" in value:
        value = value.replace("\x00", "")
    return value[:size] if size is not None and len(value) > size else value


def metadata_json(meta: Any) -> str:
    """``meta`` as JSON text, NUL-free; unknown types become strings (a snapshot: later changes
    to the caller's dict do not leak into the stored row)."""
    try:
        text = json.dumps(meta or {}, default=str)
        if "\\u0000" in text:
            text = json.dumps(_scrub(json.loads(text)))
    except (TypeError, ValueError, RecursionError) as exc:
        text = json.dumps({"unserializable_metadata": f"{type(exc).__name__}: {exc}"[:500]})
    return text


def metadata_value(meta: Any) -> Any:
    """The metadata of a queued row as a JSON value (queued rows carry it as JSON text)."""
    return json.loads(meta) if isinstance(meta, str) else meta


def clean_row(row: dict[str, Any]) -> dict[str, Any]:
    """Make an event row storable anywhere: fit strings to their columns, metadata to JSON text.

    A row that a database would reject (a value too long for PostgreSQL, a ``Path`` in metadata)
    would otherwise fail its whole batch; values are shortened and unknown types become strings.
    The row's ``metadata`` is JSON text (:func:`metadata_value` turns it back into a value).
    """
    out = {key: _fit(value, _LIMITS.get(key)) for key, value in row.items()}
    out["metadata"] = metadata_json(row.get("metadata"))
    return out


class LogRow(BaseModel):
    """One stored audit event, as read back by :meth:`AuditLog.query`."""

    model_config = ConfigDict(from_attributes=True, frozen=True)

    id: int
    workflow_id: str
    task_id: str | None = None
    agent_role: str | None = None
    action: str
    status: str
    metadata: dict[str, Any] = Field(default_factory=dict)
    error_message: str | None = None
    created_at: datetime
    run_id: str | None = None
    event_id: str | None = None
    """Unique id of the event (None for rows written before migration 0004)."""

    @field_validator("metadata", mode="before")
    @classmethod
    def _null_metadata(cls, value: Any) -> Any:
        return {} if value is None else value
