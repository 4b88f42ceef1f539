"""Server runs in the audit log: one event per state change, and runs rebuilt from them.

Events have ``agent_role`` "server", ``action`` "run", ``workflow_id`` "server-KIND", the run id
in ``run_id``, and ``metadata`` {kind, params, backend, result (a summary)}.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Final

from ai_conductor.store import events as ev
from ai_conductor.store import open_audit_log

if TYPE_CHECKING:
    from ai_conductor.server.runs import RunInfo
    from ai_conductor.settings import Settings
    from ai_conductor.store import LogRow

ROLE: Final = "server"
ACTION: Final = "run"
LOST: Final = "the server stopped before this run finished; submit it again"
_DONE_ACTIONS: Final = frozenset({ev.SUCCEEDED, ev.FAILED, ev.SKIPPED, ev.REUSED})


def record(settings: Settings, info: RunInfo, backend: str) -> None:
    """Append ``info``'s current state to the audit log."""
    meta: dict[str, Any] = {"kind": info.kind, "params": info.params, "backend": backend}
    if info.submitted_at is not None:
        meta["submitted_at"] = info.submitted_at.isoformat()
    if info.result is not None:
        meta["result"] = info.result
    open_audit_log(settings).record(
        ev.AuditEvent(
            workflow_id=f"server-{info.kind}",
            action=ACTION,
            status=info.status,
            agent_role=ROLE,
            run_id=info.run_id,
            metadata=meta,
            error_message=info.error,
        )
    )


def _server_rows(rows: list[LogRow]) -> list[LogRow]:
    return [r for r in rows if r.agent_role == ROLE and r.action == ACTION]


def rebuild(settings: Settings, run_id: str) -> tuple[RunInfo, str] | None:
    """The run as its events tell it (newest state wins), and its backend; None if unknown."""
    from ai_conductor.server.runs import RunInfo

    rows = _server_rows(open_audit_log(settings).query(run_id=run_id, action=ACTION, limit=20))
    if not rows:
        return None
    newest, oldest = rows[0], rows[-1]
    meta = newest.metadata or {}
    started = next((r.created_at for r in reversed(rows) if r.status == "running"), None)
    final = newest.status in ("completed", "failed", "cancelled")
    info = RunInfo(
        run_id=run_id,
        kind=meta.get("kind", newest.workflow_id.removeprefix("server-")),
        status=newest.status,
        submitted_at=meta.get("submitted_at", oldest.created_at),
        started_at=started,
        finished_at=newest.created_at if final else None,
        params=meta.get("params", {}),
        result=meta.get("result"),
        error=newest.error_message,
    )
    return info, str(meta.get("backend", "local"))


def recent_ids(settings: Settings, limit: int) -> list[str]:
    """Ids of the latest server runs in the audit log, newest first."""
    rows = _server_rows(open_audit_log(settings).query(action=ACTION, limit=limit * 4))
    seen: dict[str, None] = {}
    for row in rows:
        if row.run_id:
            seen.setdefault(row.run_id, None)
    return list(seen)[:limit]


def workflow_progress(settings: Settings, run_id: str) -> dict[str, Any]:
    """{done, total, failed} of a workflow run, from its task events."""
    rows = open_audit_log(settings).query(run_id=run_id, limit=10_000)
    total = 0
    done: set[str] = set()
    failed: set[str] = set()
    for row in rows:
        if row.task_id is None and row.action == ev.STARTED:
            total = int((row.metadata or {}).get("tasks", 0))
        elif row.task_id is not None and row.action in _DONE_ACTIONS:
            done.add(row.task_id)
            if row.action == ev.FAILED:
                failed.add(row.task_id)
    return {"done": len(done), "total": total, "failed": len(failed)}
