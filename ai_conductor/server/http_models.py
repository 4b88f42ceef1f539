"""Request and response bodies of the HTTP API (they make up ``/openapi.json``)."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from ai_conductor.server.params import ServerRunStatus
from ai_conductor.server.validation import ValidateResult

__all__ = [
    "ROLES",
    "TASK_ID_PATTERN",
    "ErrorBody",
    "Health",
    "RunRequest",
    "RunStatusView",
    "SecureTaskRequest",
    "TaskEntry",
    "TaskList",
    "ValidateRequest",
    "ValidateResult",
]
TASK_ID_PATTERN = r"^[a-zA-Z0-9_-]+$"
ROLES = ("analyzer", "implementer", "refiner")


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class SecureTaskRequest(_Body):
    """The seed's ``POST /tasks`` body: one task, run as a one-task workflow."""

    task_id: str = Field(pattern=TASK_ID_PATTERN, min_length=1, max_length=128)
    """Letters, digits, '-' and '_' only (the seed's pattern)."""
    name: str = Field(default="", max_length=256)
    """Display name of the task."""
    agent_role: Literal["analyzer", "implementer", "refiner"]
    """One of the three roles (the seed's allowed roles)."""
    inputs: dict[str, Any] = Field(default_factory=dict)
    """Handed to the agent, as a workflow task's ``inputs``."""
    codebase: str | None = Field(default=None, min_length=1, max_length=4096)
    """Codebase directory, confined to the allowed roots (default: the first allowed root)."""


class TaskEntry(BaseModel):
    """The latest audit-log state of one task of one run."""

    task_id: str
    """The task's id in its workflow."""
    workflow_id: str
    """The workflow the task belongs to."""
    run_id: str | None = None
    """The engine run the task ran in."""
    agent_role: str | None = None
    """The agent that ran the task."""
    status: str
    """Latest status: running, retrying, completed, failed, skipped."""
    action: str
    """Latest action: started, retried, succeeded, failed, skipped, reused."""
    updated_at: datetime
    """When the latest event was recorded."""
    duration_s: float | None = None
    """Seconds the task took, once it has finished."""
    error: str | None = None
    """Why it failed or was skipped (secrets redacted)."""


class TaskList(BaseModel):
    """``GET /tasks``: recent tasks, newest first."""

    tasks: list[TaskEntry]
    """One entry per (run, task), newest first."""
    scanned: int
    """Audit events read to build the list (bounded by ``limit`` x 4)."""


class RunRequest(_Body):
    """``POST /runs``: what to start."""

    kind: Literal["analyze", "workflow", "implement"]
    """analyze a codebase, run a workflow spec, or implement fixes for an analysis."""
    params: dict[str, Any] = Field(default_factory=dict)
    """Parameters of that kind of run (e.g. ``{"codebase": "src"}`` for analyze)."""


class ValidateRequest(_Body):
    """``POST /workflows/validate``: a spec, inline."""

    spec: dict[str, Any] | str
    """The spec as a JSON object, or as YAML/JSON text."""


class Health(BaseModel):
    """``GET /healthz``."""

    status: Literal["ok"] = "ok"
    """Always ``ok`` while the process serves requests."""
    version: str
    """The ai-conductor version."""


class ErrorBody(BaseModel):
    """Every error response."""

    error: str
    """A short machine-readable kind: unauthorized, not_found, invalid_request, ..."""
    detail: Any = None
    """What went wrong and how to fix it (secrets redacted)."""


class RunStatusView(BaseModel):
    """``GET /runs/{run_id}/status``: the cheap part of a run."""

    run_id: str
    """The run's id."""
    status: ServerRunStatus
    """Where the run is."""
    progress: dict[str, Any] = Field(default_factory=dict)
    """Latest progress report (phase, done, total, ...)."""
