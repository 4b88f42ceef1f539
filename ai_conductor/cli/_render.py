"""Rich renderings for the terminal: the live task view of a run and the audit-log table."""

from __future__ import annotations

import threading
import time
from typing import Any

from rich.table import Table
from rich.text import Text

from ai_conductor.spec import WorkflowSpec
from ai_conductor.store.events import AuditEvent

STYLE = {
    "pending": "dim",
    "running": "yellow",
    "retrying": "magenta",
    "completed": "green",
    "reused": "cyan",
    "failed": "bold red",
    "skipped": "dim red",
}


class RunView:
    """Task states of one run, fed by audit events (from any thread), rendered as a table."""

    def __init__(self, spec: WorkflowSpec) -> None:
        self.spec = spec
        self.lock = threading.Lock()
        self.rows: dict[str, dict[str, Any]] = {
            t.id: {"agent": t.agent, "status": "pending", "attempt": "", "time": "", "note": ""}
            for t in spec.tasks
        }
        self.started = time.monotonic()
        self.phase = "starting Prefect (set PREFECT_API_URL to reuse a running server)"

    def on_event(self, event: AuditEvent) -> None:
        if event.workflow_id != self.spec.workflow_id:
            return
        with self.lock:
            if event.task_id is None:
                self.phase = "running" if event.action == "started" else event.status
                return
            row = self.rows.get(event.task_id)
            if row is None:
                return
            status = "reused" if event.action == "reused" else event.status
            row["status"] = status
            meta = event.metadata
            if meta.get("attempt"):
                row["attempt"] = str(meta["attempt"])
            if meta.get("duration_s") is not None:
                row["time"] = f"{meta['duration_s']:.2f}s"
            row["note"] = (event.error_message or "")[:80]

    def __rich__(self) -> Table:
        with self.lock:
            elapsed = time.monotonic() - self.started
            table = Table(
                title=f"{self.spec.workflow_id}: {self.phase} ({elapsed:.0f}s)",
                title_justify="left",
                expand=False,
            )
            for col in ("task", "agent", "status", "attempt", "time", "note"):
                table.add_column(col, overflow="fold")
            for task_id, row in self.rows.items():
                table.add_row(
                    Text(task_id),
                    Text(row["agent"]),
                    Text(row["status"], style=STYLE.get(row["status"], "")),
                    row["attempt"],
                    row["time"],
                    Text(row["note"]),
                )
            return table


LOG_COLUMNS = ("time", "workflow", "run", "task", "agent", "action", "status", "detail")


def _log_cells(row: dict[str, Any]) -> list[str]:
    meta = row.get("metadata") or {}
    detail = row.get("error_message") or ", ".join(
        f"{k}={v}" for k, v in meta.items() if v not in (None, "", 0)
    )
    return [
        str(row["created_at"])[:23].replace("T", " "),
        row["workflow_id"],
        (row.get("run_id") or "")[:8],
        row.get("task_id") or "",
        row.get("agent_role") or "",
        row["action"],
        row["status"],
        " ".join(detail.split())[:200],
    ]


def log_table(rows: list[dict[str, Any]]) -> Table:
    """The audit log as a table, newest first."""
    table = Table(show_lines=False)
    for col in LOG_COLUMNS:
        table.add_column(col, overflow="fold")
    for row in rows:
        cells = _log_cells(row)
        table.add_row(
            *(Text(c) for c in cells[:6]), Text(cells[6], style=STYLE.get(cells[6], "")),
            Text(cells[7]),
        )  # fmt: skip
    return table


def log_lines(rows: list[dict[str, Any]]) -> list[str]:
    """The audit log as tab-separated lines with a header, newest first."""
    return ["\t".join(LOG_COLUMNS), *("\t".join(_log_cells(row)) for row in rows)]
