"""The seed's task endpoints: ``GET /tasks`` reads the audit log, ``POST /tasks`` starts a
one-task workflow run.

A *task* in ``GET /tasks`` is one task of one run, in its latest recorded state: the newest
``limit x 4`` task events of the audit log (any run: server, CLI or deployment) are read and
folded to one entry per (run, task), newest first. The query is bounded whatever the log's size.
"""

from __future__ import annotations

from typing import Any

from ai_conductor.server.http_models import SecureTaskRequest, TaskEntry, TaskList
from ai_conductor.server.security import allowed_roots, check_codebase_path, redact
from ai_conductor.settings import Settings

__all__ = ["EVENTS_PER_TASK", "recent_tasks", "task_workflow_params"]
EVENTS_PER_TASK = 4


def recent_tasks(settings: Settings, *, limit: int, status: str | None = None) -> TaskList:
    """The latest state of recent tasks, newest first (at most ``limit``)."""
    from ai_conductor.store import open_audit_log

    rows = open_audit_log(settings).query(limit=limit * EVENTS_PER_TASK)
    seen: set[tuple[str, str, str]] = set()
    tasks: list[TaskEntry] = []
    for row in rows:  # newest first: the first row of a (run, task) is its latest state
        if row.task_id is None:
            continue
        key = (row.workflow_id, row.run_id or "", row.task_id)
        if key in seen:
            continue
        seen.add(key)
        if status is not None and row.status != status:
            continue
        duration = row.metadata.get("duration_s")
        error = row.error_message or row.metadata.get("error")
        tasks.append(
            TaskEntry(
                task_id=row.task_id,
                workflow_id=row.workflow_id,
                run_id=row.run_id,
                agent_role=row.agent_role,
                status=row.status,
                action=row.action,
                updated_at=row.created_at,
                duration_s=float(duration) if isinstance(duration, int | float) else None,
                error=redact(str(error), settings) if error else None,
            )
        )
        if len(tasks) >= limit:
            break
    return TaskList(tasks=tasks, scanned=len(rows))


def task_workflow_params(request: SecureTaskRequest, settings: Settings) -> dict[str, Any]:
    """``RunManager.submit("workflow", ...)`` parameters for a ``POST /tasks`` body.

    The workflow is named ``task-TASK_ID``; the codebase defaults to the first allowed root and
    is confined to the allowed roots either way.
    """
    codebase = request.codebase if request.codebase is not None else str(allowed_roots(settings)[0])
    root = check_codebase_path(codebase, settings)
    task: dict[str, Any] = {
        "id": request.task_id,
        "agent": request.agent_role,
        "inputs": request.inputs,
    }
    if request.name:
        task["name"] = request.name
    spec = {"workflow_id": f"task-{request.task_id}", "tasks": [task]}
    return {"spec": spec, "codebase": str(root)}
