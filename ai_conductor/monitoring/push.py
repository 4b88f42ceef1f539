"""The flow-run hooks that push a run's metrics to a Prometheus Pushgateway as it ends.

:func:`register` adds :func:`flow_run_hooks` to every flow ``conductor_flow`` decorates (the
flows package calls it before defining its flows). With
``CONDUCTOR_METRICS_PUSHGATEWAY`` unset they return at once. Set, ``on_running`` subscribes to
the audit log and keeps this run's finished-task events (those recorded in its flow-run
context, so concurrent runs in one process stay apart); the terminal hooks (completed, failed,
crashed, cancelled) stop collecting and push (:mod:`ai_conductor.monitoring.pushed`). A failed
push is a warning in the run's log, never a failed run.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Final
from uuid import UUID

from ai_conductor._urls import without_userinfo
from ai_conductor.settings import get_settings

if TYPE_CHECKING:
    from ai_conductor._prefect import Flow, FlowRun, State
    from ai_conductor.store.events import AuditEvent

__all__ = ["RunEvents", "flow_run_hooks", "register"]
log = logging.getLogger(__name__)
TASK_ACTIONS: Final = ("succeeded", "failed", "skipped", "reused")
"""Audit actions that end a task (a workflow's task events)."""


@dataclass
class RunEvents:
    """What one flow run recorded in the audit log, as far as its metrics need it."""

    started: float | None = None
    """``time.monotonic()`` when the run started running (None: not seen in this process)."""
    tasks: list[tuple[str, str, str, float | None]] = field(default_factory=list)
    """Finished tasks: (action, agent_role, status, duration in seconds or None)."""
    finished: list[dict[str, Any]] = field(default_factory=list)
    """Metadata of workflow-level ``finished`` events (the audit flow's carries its summary)."""
    unsubscribe: Callable[[], None] | None = None

    def add(self, event: AuditEvent) -> None:
        if event.task_id is not None and event.action in TASK_ACTIONS:
            duration = event.metadata.get("duration_s")
            seconds = float(duration) if isinstance(duration, int | float) else None
            self.tasks.append((event.action, event.agent_role or "unknown", event.status, seconds))
        elif event.task_id is None and event.action == "finished":
            self.finished.append(dict(event.metadata))


_runs: dict[UUID, RunEvents] = {}
_runs_lock = threading.Lock()


def _collector(run_id: UUID, events: RunEvents) -> Callable[[AuditEvent], None]:
    from ai_conductor._prefect import current_flow_run_id

    def collect(event: AuditEvent) -> None:
        if current_flow_run_id() == run_id:
            events.add(event)

    return collect


def start_collecting(flow: Flow[..., Any], flow_run: FlowRun, state: State[Any]) -> None:
    """``on_running``: remember the start and collect this run's audit events."""
    settings = get_settings()
    if not settings.metrics_pushgateway:
        return
    with _runs_lock:
        if flow_run.id in _runs:  # a flow retry runs again: keep the first start
            return
    events = RunEvents(started=time.monotonic())
    try:
        from ai_conductor.store import open_audit_log

        events.unsubscribe = open_audit_log(settings).subscribe(_collector(flow_run.id, events))
    except Exception as exc:  # a connector block that cannot load: push without task data
        log.warning("metrics: cannot follow the audit log of run %s: %s", flow_run.id, exc)
    with _runs_lock:
        _runs[flow_run.id] = events


def _take(run_id: UUID) -> RunEvents:
    with _runs_lock:
        events = _runs.pop(run_id, None) or RunEvents()
    if events.unsubscribe is not None:
        events.unsubscribe()
        events.unsubscribe = None
    return events


def push_run_metrics(flow: Flow[..., Any], flow_run: FlowRun, state: State[Any]) -> None:
    """Terminal hook: push the run's metrics; any failure is logged as a warning."""
    events = _take(flow_run.id)
    url = get_settings().metrics_pushgateway
    if not url:
        return
    try:
        from ai_conductor.monitoring import require_prometheus_client

        require_prometheus_client()
        from ai_conductor.monitoring.pushed import push

        push(url, flow, flow_run, state, events)
    except Exception as exc:
        from ai_conductor._prefect import flow_run_logger

        shown = without_userinfo(url)
        reason = f"{type(exc).__name__}: {exc}".replace(url, shown)[:500]
        flow_run_logger(flow_run, flow).warning("metrics: push to %s failed: %s", shown, reason)


def flow_run_hooks() -> dict[str, list[Callable[..., None]]]:
    """The hooks :func:`register` adds to every flow, by ``@flow`` keyword."""
    return {
        "on_running": [start_collecting],
        "on_completion": [push_run_metrics],
        "on_failure": [push_run_metrics],
        "on_crashed": [push_run_metrics],
        "on_cancellation": [push_run_metrics],
    }


def register() -> None:
    """Add :func:`flow_run_hooks` to every flow ``conductor_flow`` decorates from now on."""
    from ai_conductor._prefect import register_flow_hooks

    register_flow_hooks(flow_run_hooks())
