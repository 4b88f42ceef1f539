"""The audit event: one row of ``coordination_logs``, and the vocabulary of actions and statuses."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Final

# Actions (column ``action``). Task events carry a task_id; workflow events have task_id None
# and agent_role "conductor".
STARTED: Final = "started"
RETRIED: Final = "retried"
ATTEMPT_FAILED: Final = "attempt_failed"
SUCCEEDED: Final = "succeeded"
FAILED: Final = "failed"
SKIPPED: Final = "skipped"
REUSED: Final = "reused"
CREATED: Final = "created"
FINISHED: Final = "finished"

# Statuses (column ``status``); 'pending' and 'running' are the active ones (partial index).
PENDING: Final = "pending"
RUNNING: Final = "running"
RETRYING: Final = "retrying"
COMPLETED: Final = "completed"
FAILED_STATUS: Final = "failed"
SKIPPED_STATUS: Final = "skipped"
TIMED_OUT: Final = "timed_out"

CONDUCTOR_ROLE: Final = "conductor"


def _now() -> datetime:
    return datetime.now(UTC)


def new_event_id() -> str:
    """A fresh event id: 32 hex digits (uuid4), unique per event, stable across retries."""
    return uuid.uuid4().hex


@dataclass(frozen=True)
class AuditEvent:
    """Something that happened in a workflow run, as it is stored."""

    workflow_id: str
    action: str
    status: str
    task_id: str | None = None
    agent_role: str | None = None
    run_id: str | None = None
    metadata: dict[str, Any] = field(default_factory=dict)
    error_message: str | None = None
    created_at: datetime = field(default_factory=_now)
    event_id: str = field(default_factory=new_event_id)
    """Unique per event: a retried or replayed write of the same event is stored once."""

    def as_row(self) -> dict[str, Any]:
        """Column values for ``coordination_logs`` (``id`` is assigned by the database)."""
        return {
            "workflow_id": self.workflow_id,
            "task_id": self.task_id,
            "agent_role": self.agent_role,
            "action": self.action,
            "status": self.status,
            "metadata": self.metadata,
            "error_message": self.error_message,
            "created_at": self.created_at,
            "run_id": self.run_id,
            "event_id": self.event_id,
        }
