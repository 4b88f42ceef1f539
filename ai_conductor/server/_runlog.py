"""Server runs in the audit log: one event per state change, and runs rebuilt from them.

Events have ``agent_role`` "server", ``action`` "run", ``workflow_id`` "server-KIND", the run id
in ``run_id``, and ``metadata`` {kind, params, backend, result (a summary), owner}. ``owner``
names the server process that runs a local run ({host, pid, started, manager}): another
process reading the log calls an unfinished run lost only once that process is gone.
"""

from __future__ import annotations

import contextlib
import os
import socket
import threading
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Final

from ai_conductor._process import process_alive, this_process
from ai_conductor.server.params import FINAL_STATUSES
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


_LIVE: set[str] = set()
"""Ids of this process's run managers that are not shut down."""
_LIVE_LOCK = threading.Lock()


def new_owner(manager: str) -> dict[str, Any]:
    """The owner record of a run manager of this process (registered as live)."""
    with _LIVE_LOCK:
        _LIVE.add(manager)
    return {**this_process(), "manager": manager}


def retire(owner: dict[str, Any]) -> None:
    """The manager of ``owner`` is shut down: its unfinished runs count as lost."""
    with _LIVE_LOCK:
        _LIVE.discard(str(owner.get("manager")))


def owner_alive(owner: Any) -> bool:
    """Whether the process that runs a local run may still be running it.

    False when no owner was recorded (older events), when it is a retired manager of this
    process, or a process of this host that is gone (or whose pid now names another process);
    True for a live owner, and for an owner on another host (it cannot be checked from here).
    """
    if not isinstance(owner, dict) or not process_alive(owner):
        return False
    mine = owner.get("host") == socket.gethostname() and owner.get("pid") == os.getpid()
    if mine and os.name != "nt":
        with _LIVE_LOCK:
            return owner.get("manager") in _LIVE
    return True


def record(
    settings: Settings, info: RunInfo, backend: str, owner: dict[str, Any] | None = None
) -> None:
    """Append ``info``'s current state to the audit log."""
    meta: dict[str, Any] = {"kind": info.kind, "params": info.params, "backend": backend}
    if owner is not None:
        meta["owner"] = owner
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


def rebuild(settings: Settings, run_id: str) -> tuple[RunInfo, str, Any] | None:
    """The run as its events tell it (newest state wins), its backend and its owner (see
    :func:`owner_alive`); None if unknown."""
    from ai_conductor.server.runs import RunInfo

    rows = _server_rows(open_audit_log(settings).query(run_id=run_id, action=ACTION, limit=20))
    if not rows:
        return None
    newest, oldest = rows[0], rows[-1]
    meta = newest.metadata or {}
    started = next((r.created_at for r in reversed(rows) if r.status == "running"), None)
    final = newest.status in FINAL_STATUSES
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
    return info, str(meta.get("backend", "local")), meta.get("owner")


def recent(settings: Settings, limit: int) -> dict[str, datetime]:
    """The latest server runs in the audit log (at most ``limit``): id -> submitted_at."""
    rows = _server_rows(open_audit_log(settings).query(action=ACTION, limit=limit * 4))
    seen: dict[str, datetime] = {}
    for row in rows:  # newest first
        if len(seen) >= limit:
            break
        if row.run_id and row.run_id not in seen:
            seen[row.run_id] = _submitted(row)
    return seen


def _submitted(row: LogRow) -> datetime:
    text = (row.metadata or {}).get("submitted_at")
    when = row.created_at
    if isinstance(text, str):
        with contextlib.suppress(ValueError):
            when = datetime.fromisoformat(text)
    return when if when.tzinfo is not None else when.replace(tzinfo=UTC)


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
