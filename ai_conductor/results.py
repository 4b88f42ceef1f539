"""What a workflow run produces: per-task outcomes and the run's overall status."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, Field


class TaskStatus(StrEnum):
    COMPLETED = "completed"
    REUSED = "reused"
    """Completed in an earlier run with the same cache key; its persisted result was used."""
    FAILED = "failed"
    SKIPPED = "skipped"
    PENDING = "pending"


class RunStatus(StrEnum):
    COMPLETED = "completed"
    FAILED = "failed"
    TIMED_OUT = "timed_out"


class StepResult(BaseModel):
    """What one agent step returns to Prefect (persisted as JSON, reused on resume)."""

    output: dict[str, Any]
    duration_s: float
    attempts: int = 1


class TaskOutcome(BaseModel):
    task_id: str
    name: str
    agent: str
    status: TaskStatus = TaskStatus.PENDING
    output: dict[str, Any] | None = None
    error: str | None = None
    duration_s: float | None = None
    attempts: int = 0

    @property
    def ok(self) -> bool:
        return self.status in (TaskStatus.COMPLETED, TaskStatus.REUSED)


class WorkflowResult(BaseModel):
    workflow_id: str
    run_id: str
    status: RunStatus
    tasks: dict[str, TaskOutcome] = Field(default_factory=dict)
    started_at: datetime
    finished_at: datetime
    codebase: str = ""

    @property
    def ok(self) -> bool:
        return self.status is RunStatus.COMPLETED

    @property
    def results(self) -> dict[str, dict[str, Any]]:
        """Outputs of the tasks that completed (or were reused), by task id (the seed's shape)."""
        return {k: t.output for k, t in self.tasks.items() if t.ok and t.output is not None}

    @property
    def duration_s(self) -> float:
        return (self.finished_at - self.started_at).total_seconds()

    def counts(self) -> dict[str, int]:
        out: dict[str, int] = {}
        for t in self.tasks.values():
            out[t.status.value] = out.get(t.status.value, 0) + 1
        return out

    def summary_line(self) -> str:
        counts = ", ".join(f"{n} {s}" for s, n in sorted(self.counts().items()))
        return (
            f"workflow {self.workflow_id!r} {self.status.value} in {self.duration_s:.1f}s "
            f"({counts}); run {self.run_id}"
        )
