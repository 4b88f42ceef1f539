"""Runs the servers start: analyses, workflows, implementations; submitted now, finished later.

``RunManager.submit`` validates the parameters (paths confined to the allowed roots), then
either creates a flow run of a Prefect deployment (a Prefect API is configured and the kind's
deployment exists) or runs the work in this process on a bounded thread pool. Every state
change is recorded in the audit log, so ``get`` still answers after a restart.
"""

from __future__ import annotations

import builtins
import logging
import threading
import uuid
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, cast

from pydantic import BaseModel, Field

from ai_conductor import _runtime
from ai_conductor.errors import ConductorError, UsageError
from ai_conductor.server import _execute, _prefect_runs, _runlog
from ai_conductor.server.params import FINAL_STATUSES, RunKind, RunStatus, parse_params
from ai_conductor.server.security import redact
from ai_conductor.settings import Settings, get_settings

log = logging.getLogger("ai_conductor.server")
_PREPARE: dict[str, Any] = {
    "analyze": _execute.prepare_analyze,
    "workflow": _execute.prepare_workflow,
    "implement": _execute.prepare_implement,
}


class RunInfo(BaseModel):
    """The state of one server run, as ``get_run`` reports it."""

    run_id: str
    """Id of the run (for Prefect deployments: the flow run id)."""
    kind: RunKind
    """What runs: analyze, workflow or implement."""
    status: RunStatus
    """pending, running, completed, failed or cancelled."""
    submitted_at: datetime | None = None
    started_at: datetime | None = None
    finished_at: datetime | None = None
    progress: dict[str, Any] = Field(default_factory=dict)
    """How far it is: {done, total} for workflows (from the audit log), {phase, done, total}
    for analyses."""
    params: dict[str, Any] = Field(default_factory=dict)
    """The validated parameters."""
    result: Any | None = None
    """A JSON-able summary once finished; the full report is the run's report resource."""
    error: str | None = None
    """Why it failed or was cancelled (never contains secrets)."""


@dataclass
class _Entry:
    info: RunInfo
    backend: str
    future: Future[None] | None = None
    cancel_requested: bool = False
    progress: dict[str, Any] = field(default_factory=dict)


class RunManager:
    """Submit, track and cancel server runs."""

    def __init__(
        self,
        settings: Settings | None = None,
        *,
        max_parallel: int | None = None,
        use_deployments: bool | None = None,
    ) -> None:
        self.settings = settings or get_settings()
        self.max_parallel = max_parallel or self.settings.max_parallel_tasks
        self.use_deployments = use_deployments
        """None: use Prefect deployments when an API is configured and they exist."""
        self._pool = ThreadPoolExecutor(self.max_parallel, thread_name_prefix="conductor-run")
        self._runs: dict[str, _Entry] = {}
        self._lock = threading.Lock()
        self._closed = False

    def submit(self, kind: str, params: dict[str, Any]) -> RunInfo:
        """Validate and start a run; returns at once (status pending or running)."""
        parsed = parse_params(kind, params)
        work = _PREPARE[kind](parsed, self.settings)
        clean = parsed.model_dump(mode="json", exclude_none=True)
        now = datetime.now(UTC)
        deployment = (
            _prefect_runs.find_deployment(kind) if self.use_deployments is not False else None
        )
        if self._closed:
            raise UsageError("the server is shutting down; no new runs are accepted")
        run_id = _prefect_runs.start(deployment, kind, clean) if deployment else uuid.uuid4().hex
        info = RunInfo(run_id=run_id, kind=parsed_kind(kind), status="pending", submitted_at=now,
                       params=clean)  # fmt: skip
        entry = _Entry(info, "prefect" if deployment else "local")
        with self._lock:
            self._runs[run_id] = entry
        _runlog.record(self.settings, info, entry.backend)
        if not deployment:
            entry.future = self._pool.submit(self._execute, entry, work)
        return info.model_copy(deep=True)

    def _execute(self, entry: _Entry, work: _execute.Work) -> None:
        info = entry.info
        with self._lock:
            if entry.cancel_requested:
                return
            info.status, info.started_at = "running", datetime.now(UTC)
        _runlog.record(self.settings, info, entry.backend)
        status: RunStatus = "completed"
        summary: dict[str, Any] | None = None
        error: str | None = None
        try:
            summary, report = work(info.run_id, entry.progress.update)
            _execute.save_report(self.settings, info.run_id, report)
            if summary.get("ok") is False:
                status, error = "failed", str(summary.get("summary", "the run failed"))
        except ConductorError as exc:
            status, error = "failed", redact(str(exc), self.settings)
        except Exception as exc:
            log.exception("server run %s crashed", info.run_id)
            status, error = "failed", redact(f"{type(exc).__name__}: {exc}", self.settings)
        with self._lock:
            if entry.cancel_requested:
                status, error = "cancelled", error or "cancelled while running; result kept"
            info.status, info.result, info.error = status, summary, error
            info.finished_at = datetime.now(UTC)
        _runlog.record(self.settings, info, entry.backend)

    def get(self, run_id: str) -> RunInfo | None:
        """The run's state: from this process, else rebuilt from the audit log."""
        with self._lock:
            entry = self._runs.get(run_id)
            info = entry.info.model_copy(deep=True) if entry else None
            backend = entry.backend if entry else "local"
            if entry is not None:
                info.progress = dict(entry.progress)  # type: ignore[union-attr]
        if info is None:
            rebuilt = _runlog.rebuild(self.settings, run_id)
            if rebuilt is None:
                return None
            info, backend = rebuilt
            if backend == "local" and info.status not in FINAL_STATUSES:
                info.status, info.error = "failed", _runlog.LOST
        if backend == "prefect" and info.status not in FINAL_STATUSES:
            self._refresh_prefect(info)
        if info.kind == "workflow" and info.status != "pending":
            info.progress = _runlog.workflow_progress(self.settings, run_id)
        return info

    def _refresh_prefect(self, info: RunInfo) -> None:
        try:
            status, started, finished, error = _prefect_runs.read(info.run_id)
        except Exception as exc:
            info.error = redact(f"cannot read the flow run from Prefect: {exc}", self.settings)
            return
        changed = status != info.status
        info.status, info.started_at, info.finished_at = status, started, finished  # type: ignore[assignment]
        info.error = error
        if changed:
            with self._lock:
                if info.run_id in self._runs:
                    self._runs[info.run_id].info = info.model_copy(deep=True)
            _runlog.record(self.settings, info, "prefect")

    def list(self, limit: int = 50, status: str | None = None) -> builtins.list[RunInfo]:
        """Latest runs first (this process's and the audit log's), optionally of one status."""
        if limit < 1:
            raise UsageError(f"limit must be at least 1, got {limit}")
        with self._lock:
            ids = [e.info.run_id for e in self._runs.values()]
        ids += _runlog.recent_ids(self.settings, limit)
        runs = [r for r in (self.get(i) for i in dict.fromkeys(ids)) if r is not None]
        if status is not None:
            runs = [r for r in runs if r.status == status]
        epoch = datetime.min.replace(tzinfo=UTC)
        runs.sort(key=lambda r: r.submitted_at or epoch, reverse=True)
        return runs[:limit]

    def cancel(self, run_id: str) -> RunInfo:
        """Cancel a run: a pending one never starts; a running workflow's agents are stopped
        (other running kinds finish, then count as cancelled); Prefect runs are cancelled there."""
        with self._lock:
            entry = self._runs.get(run_id)
            pending = entry is not None and entry.info.status == "pending"
            if entry is not None and entry.info.status not in FINAL_STATUSES:
                entry.cancel_requested = True
                entry.progress["cancel_requested"] = True
                if pending and entry.backend == "local":
                    if entry.future is not None:
                        entry.future.cancel()
                    entry.info.status, entry.info.finished_at = "cancelled", datetime.now(UTC)
                    entry.info.error = "cancelled before it started"
        info = self.get(run_id)
        if info is None:
            raise UsageError(f"no run with id {run_id!r} (list_runs shows the runs)")
        if info.status in FINAL_STATUSES:
            if entry is not None and pending and entry.backend == "local":
                _runlog.record(self.settings, info, "local")
            return info
        if entry is None or entry.backend == "prefect":
            _prefect_runs.cancel(run_id)
        elif info.kind == "workflow":
            _runtime.cancel_run(run_id)
        return self.get(run_id) or info

    def report(self, run_id: str) -> dict[str, Any] | None:
        """The full report of a finished local run (None: none stored)."""
        return _execute.load_report(self.settings, run_id)

    def shutdown(self, wait: bool = True) -> None:
        """Accept no more runs, cancel pending ones, wait for running ones when ``wait``."""
        self._closed = True
        with self._lock:
            pending = [e.info.run_id for e in self._runs.values() if e.info.status == "pending"]
        for run_id in pending:
            self.cancel(run_id)
        self._pool.shutdown(wait=wait, cancel_futures=True)


def parsed_kind(kind: str) -> RunKind:
    """``kind`` as a run kind (already checked by :func:`parse_params`)."""
    if kind not in _PREPARE:
        raise UsageError(f"unknown run kind {kind!r}")
    return cast("RunKind", kind)
