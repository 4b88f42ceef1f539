"""Runs the servers start: analyses, workflows, implementations; submitted now, finished later.

``RunManager.submit`` validates the parameters (paths confined to the allowed roots), then
either creates a flow run of a Prefect deployment (a Prefect API is configured and the kind's
deployment exists) or runs the work in this process on a bounded pool of threads. Every
state change is recorded in the audit log, so ``get`` still answers after a restart; finished
runs beyond ``keep_finished`` are dropped from memory (the audit log stays the source of truth).
"""

from __future__ import annotations

import builtins
import logging
import queue
import threading
import uuid
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from concurrent.futures import wait as wait_futures
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, cast

from pydantic import BaseModel, Field

from ai_conductor import _runtime
from ai_conductor.errors import ConductorError, UsageError
from ai_conductor.server import _execute, _prefect_runs, _runlog
from ai_conductor.server.params import FINAL_STATUSES, RunKind, ServerRunStatus, parse_params
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
    status: ServerRunStatus
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


KEEP_FINISHED = 500
"""Finished runs kept in memory; older ones are answered from the audit log."""


@dataclass
class _Entry:
    info: RunInfo
    backend: str
    future: Future[None] | None = None
    cancel_requested: bool = False
    progress: dict[str, Any] = field(default_factory=dict)
    settled: bool = False
    """The final state is in the audit log: the entry may be dropped from memory."""


class _Pool:
    """A bounded pool of worker threads. With ``daemon`` the threads do not keep the process
    alive: unlike a ``ThreadPoolExecutor`` (whose threads the interpreter joins at exit) a run
    still going when a server stops ends with the process and is reported lost (see
    :func:`_runlog.owner_alive`). Without, it is a ``ThreadPoolExecutor``."""

    def __init__(self, workers: int, prefix: str, *, daemon: bool) -> None:
        self._executor = None if daemon else ThreadPoolExecutor(workers, prefix)
        self._jobs: queue.SimpleQueue[tuple[Future[None], Callable[[], None]] | None]
        self._jobs = queue.SimpleQueue()
        self._workers, self._prefix = workers, prefix
        self._threads: list[threading.Thread] = []
        self._lock = threading.Lock()

    def submit(self, job: Callable[[], None]) -> Future[None]:
        if self._executor is not None:
            return self._executor.submit(job)
        future: Future[None] = Future()
        self._jobs.put((future, job))
        with self._lock:  # threads start as jobs come, up to the bound
            if len(self._threads) < self._workers:
                name = f"{self._prefix}-{len(self._threads)}"
                thread = threading.Thread(target=self._loop, name=name, daemon=True)
                self._threads.append(thread)
                thread.start()
        return future

    def _loop(self) -> None:
        while (item := self._jobs.get()) is not None:
            future, job = item
            if not future.set_running_or_notify_cancel():
                continue  # cancelled while queued
            try:
                job()
            except BaseException as exc:  # kept on the future, as an executor does
                future.set_exception(exc)
            else:
                future.set_result(None)

    def shutdown(self) -> None:
        """Let the threads exit once the jobs queued so far are taken (or cancelled)."""
        if self._executor is not None:
            self._executor.shutdown(wait=False, cancel_futures=True)
            return
        with self._lock:
            for _ in self._threads:
                self._jobs.put(None)


class RunManager:
    """Submit, track and cancel server runs.

    ``keep_finished``: finished runs kept in memory (older ones are read back from the audit
    log). ``daemon_threads``: local runs still going when the process exits end with it (the
    HTTP server uses it, after cancelling them; see :meth:`shutdown`); otherwise the process
    waits for them at exit.
    """

    def __init__(
        self,
        settings: Settings | None = None,
        *,
        max_parallel: int | None = None,
        use_deployments: bool | None = None,
        keep_finished: int = KEEP_FINISHED,
        daemon_threads: bool = False,
    ) -> None:
        self.settings = settings or get_settings()
        self.max_parallel = max_parallel or self.settings.max_parallel_tasks
        self.use_deployments = use_deployments
        """None: use Prefect deployments when an API is configured and they exist."""
        self.keep_finished = keep_finished
        self._pool = _Pool(self.max_parallel, "conductor-run", daemon=daemon_threads)
        self._runs: dict[str, _Entry] = {}
        self._lock = threading.Lock()
        self._closed = False
        self._owner = _runlog.new_owner(uuid.uuid4().hex)

    def submit(self, kind: str, params: dict[str, Any]) -> RunInfo:
        """Validate and start a run; returns at once (status pending or running)."""
        parsed = parse_params(kind, params)
        prepared: _execute.Prepared = _PREPARE[kind](parsed, self.settings)
        clean = parsed.model_dump(mode="json", exclude_none=True)
        now = datetime.now(UTC)
        deployment = (
            _prefect_runs.find_deployment(kind) if self.use_deployments is not False else None
        )
        if self._closed:
            raise UsageError("the server is shutting down; no new runs are accepted")
        if deployment:
            run_id = _prefect_runs.start(deployment, prepared.flow_request)
        else:
            run_id = uuid.uuid4().hex
        info = RunInfo(run_id=run_id, kind=parsed_kind(kind), status="pending", submitted_at=now,
                       params=clean)  # fmt: skip
        entry = _Entry(info, "prefect" if deployment else "local")
        with self._lock:
            self._runs[run_id] = entry
        self._record(entry)
        if not deployment:
            work = prepared.work
            entry.future = self._pool.submit(lambda: self._execute(entry, work))
        self._prune()
        return info.model_copy(deep=True)

    def _record(self, entry: _Entry) -> None:
        owner = self._owner if entry.backend == "local" else None
        _runlog.record(self.settings, entry.info, entry.backend, owner)

    def _prune(self) -> None:
        """Drop the oldest settled runs beyond ``keep_finished`` from memory."""
        with self._lock:
            settled = [run_id for run_id, e in self._runs.items() if e.settled]
            for run_id in settled[: max(0, len(settled) - self.keep_finished)]:
                del self._runs[run_id]

    def _execute(self, entry: _Entry, work: _execute.Work) -> None:
        info = entry.info
        with self._lock:
            if entry.cancel_requested:
                return
            info.status, info.started_at = "running", datetime.now(UTC)
        self._record(entry)
        status: ServerRunStatus = "completed"
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
        self._record(entry)
        entry.settled = True
        self._prune()

    def get(self, run_id: str) -> RunInfo | None:
        """The run's state: from this process, else rebuilt from the audit log (an unfinished
        local run whose server process is gone is reported failed: lost)."""
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
            info, backend, owner = rebuilt
            if (
                backend == "local"
                and info.status not in FINAL_STATUSES
                and not _runlog.owner_alive(owner)
            ):
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
        info.error = redact(error, self.settings) if error else None
        if changed:
            with self._lock:
                entry = self._runs.get(info.run_id)
                if entry is not None:
                    entry.info = info.model_copy(deep=True)
            _runlog.record(self.settings, info, "prefect")
            if entry is not None and info.status in FINAL_STATUSES:
                entry.settled = True

    def list(self, limit: int = 50, status: str | None = None) -> builtins.list[RunInfo]:
        """Latest runs first (this process's and the audit log's), optionally of one status.

        Candidates are ordered by submission time first, then looked up only as far as the
        answer needs."""
        if limit < 1:
            raise UsageError(f"limit must be at least 1, got {limit}")
        epoch = datetime.min.replace(tzinfo=UTC)
        with self._lock:
            known = {e.info.run_id: e.info.submitted_at or epoch for e in self._runs.values()}
        for run_id, submitted in _runlog.recent(self.settings, limit).items():
            known.setdefault(run_id, submitted)
        runs: builtins.list[RunInfo] = []
        for run_id in sorted(known, key=known.__getitem__, reverse=True):
            info = self.get(run_id)
            if info is not None and (status is None or info.status == status):
                runs.append(info)
                if len(runs) >= limit:
                    break
        return runs

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
                self._record(entry)
                entry.settled = True
            return info
        if entry is None:
            rebuilt = _runlog.rebuild(self.settings, run_id)
            if rebuilt is not None and rebuilt[1] == "local":  # its server process is alive
                owner = rebuilt[2] if isinstance(rebuilt[2], dict) else {}
                raise UsageError(
                    f"run {run_id!r} runs in another server process (pid {owner.get('pid')} "
                    f"on {owner.get('host')}); cancel it through that server"
                )
        if entry is None or entry.backend == "prefect":
            _prefect_runs.cancel(run_id)
        elif info.kind == "workflow":
            _runtime.cancel_run(run_id)
        return self.get(run_id) or info

    def report(self, run_id: str) -> dict[str, Any] | None:
        """The full report of a finished local run (None: none stored)."""
        return _execute.load_report(self.settings, run_id)

    def shutdown(
        self, wait: bool = True, *, timeout: float | None = None, cancel_running: bool = False
    ) -> None:
        """Accept no more runs and cancel pending ones; with ``cancel_running`` stop running
        workflows too (their agents are stopped; other kinds finish, then count as
        cancelled); with ``wait`` wait for running ones, at most ``timeout`` seconds (None:
        until they finish). With ``daemon_threads`` runs still going after that end with the
        process and are reported lost; otherwise the process waits for them at exit."""
        self._closed = True
        with self._lock:
            pending = [e.info.run_id for e in self._runs.values() if e.info.status == "pending"]
            running = [
                e.info.run_id for e in self._runs.values()
                if e.info.status == "running" and e.backend == "local"
            ]  # fmt: skip
        for run_id in pending + (running if cancel_running else []):
            try:
                self.cancel(run_id)
            except Exception as exc:  # e.g. a Prefect API that went away
                log.warning("could not cancel run %s while shutting down: %s", run_id,
                            redact(str(exc), self.settings))  # fmt: skip
        with self._lock:
            futures = [e.future for e in self._runs.values() if e.future is not None]
        if wait:
            wait_futures(futures, timeout=timeout)
        self._pool.shutdown()
        _runlog.retire(self._owner)


def parsed_kind(kind: str) -> RunKind:
    """``kind`` as a run kind (already checked by :func:`parse_params`)."""
    if kind not in _PREPARE:
        raise UsageError(f"unknown run kind {kind!r}")
    return cast("RunKind", kind)
