"""Run a validated spec's task graph on Prefect: submit tasks as their dependencies finish.

Tasks are submitted to a bounded ``ThreadPoolTaskRunner`` only when every dependency has
completed, so a failure marks its dependents skipped without starting them while independent
branches carry on. Terminal states are recorded here; attempts are recorded by the task body.
"""

from __future__ import annotations

import concurrent.futures as cf
import hashlib
import json
import logging
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from prefect.futures import PrefectConcurrentFuture
from prefect.task_runners import ThreadPoolTaskRunner

from ai_conductor import _runtime
from ai_conductor._codebase import codebase_digest
from ai_conductor._graph import topological_order
from ai_conductor._paths import expand_user
from ai_conductor._prefect import completed_value, storage_for
from ai_conductor.errors import UsageError
from ai_conductor.protocols import EventSink
from ai_conductor.results import RunStatus, StepResult, TaskOutcome, TaskStatus, WorkflowResult
from ai_conductor.settings import Settings
from ai_conductor.spec import AgentConfig, TaskSpec, WorkflowSpec, names_own_codebase
from ai_conductor.store import events as ev
from ai_conductor.tasks.agent_step import StepInput, agent_step

CACHE_VERSION = 1
STOP_GRACE_SECONDS = 10.0
MAX_BACKOFF_SECONDS = 300.0
"""Longest wait between two attempts (the backoff doubles from ``retry_delay`` up to this)."""
_KEY_EXCLUDED_TASK_FIELDS = {"name", "description", "timeout", "retry_attempts"}
_KEY_EXCLUDED_AGENT_FIELDS = {"enabled", "timeout", "retry_attempts", "retry_delay"}


def _digest(data: Any) -> str:
    blob = json.dumps(data, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(blob.encode()).hexdigest()


def cache_key(
    workflow_id: str,
    task: TaskSpec,
    agent_name: str,
    agent: AgentConfig,
    upstream: dict[str, StepResult],
    codebase: str,
) -> str:
    """The key under which a task's result is persisted and found again on a re-run."""
    return _digest(
        {
            "v": CACHE_VERSION,
            "workflow": workflow_id,
            "task": task.model_dump(mode="json", exclude=_KEY_EXCLUDED_TASK_FIELDS),
            "agent": agent_name,
            "config": agent.model_dump(mode="json", exclude=_KEY_EXCLUDED_AGENT_FIELDS),
            "upstream": {k: _digest(v.output) for k, v in sorted(upstream.items())},
            "codebase": codebase,
        }
    )


class GraphRun:
    """One execution of a spec's task graph inside a Prefect flow run."""

    def __init__(
        self,
        spec: WorkflowSpec,
        codebase: Path,
        run_id: str,
        *,
        settings: Settings,
        sink: EventSink,
        logger: logging.Logger | logging.LoggerAdapter[logging.Logger],
        fresh: bool = False,
    ) -> None:
        self.spec, self.codebase, self.run_id = spec, codebase, run_id
        self.settings, self.sink, self.log, self.fresh = settings, sink, logger, fresh
        self.outcomes = {
            t.id: TaskOutcome(task_id=t.id, name=t.display_name, agent=t.agent) for t in spec.tasks
        }
        self.results: dict[str, StepResult] = {}
        self.tasks = {t.id: t for t in spec.tasks}
        self.benign: set[str] = set()
        """Tasks skipped because their agent is disabled (or depends on such): not failures."""
        self._variants: dict[tuple[str, int, float], Any] = {}
        self._digests: dict[Path, str] = {}
        self.handle = _runtime.open_run(run_id)

    def _event(self, task: TaskSpec | None, action: str, status: str, **meta: Any) -> None:
        error = meta.pop("error", None)
        self.sink.record(
            ev.AuditEvent(
                workflow_id=self.spec.workflow_id,
                run_id=self.run_id,
                task_id=task.id if task else None,
                agent_role=task.agent if task else ev.CONDUCTOR_ROLE,
                action=action,
                status=status,
                metadata=meta,
                error_message=error,
            )
        )

    def _finish(self, task: TaskSpec, status: TaskStatus, **fields: Any) -> None:
        outcome = self.outcomes[task.id]
        for name, value in fields.items():
            setattr(outcome, name, value)
        outcome.status = status
        action = {
            TaskStatus.COMPLETED: ev.SUCCEEDED,
            TaskStatus.REUSED: ev.REUSED,
            TaskStatus.FAILED: ev.FAILED,
            TaskStatus.SKIPPED: ev.SKIPPED,
        }[status]
        state = {TaskStatus.FAILED: ev.FAILED_STATUS, TaskStatus.SKIPPED: ev.SKIPPED_STATUS}
        self._event(
            task,
            action,
            state.get(status, ev.COMPLETED),
            duration_s=outcome.duration_s,
            attempts=outcome.attempts,
            error=outcome.error,
        )

    def _submit(self, runner: ThreadPoolTaskRunner[Any], task: TaskSpec, digest: str) -> Any:
        agent_name, config = self.spec.agent_config(task.agent)
        upstream = {d: self.results[d] for d in task.dependencies}
        retries = task.retry_attempts if task.retry_attempts is not None else config.retry_attempts
        codebase = self.task_codebase(task)
        step = StepInput(
            workflow_id=self.spec.workflow_id,
            run_id=self.run_id,
            task=task,
            agent_name=agent_name,
            agent=config,
            codebase=str(codebase),
            upstream={d: r.output for d, r in upstream.items()},
            cache_key=cache_key(
                self.spec.workflow_id,
                task,
                agent_name,
                config,
                upstream,
                self._digest_of(codebase, digest),
            ),
            timeout=task.timeout or config.timeout,
            retries=retries,
        )
        return runner.submit(self._variant(agent_name, retries, config.retry_delay), {"step": step})

    def task_codebase(self, task: TaskSpec) -> Path:
        """The folder ``task`` works in: its own codebase (see :meth:`own_codebase`), its
        ``codebase_path`` inside the run's codebase, or the run's codebase.

        Raises :class:`UsageError` when its own codebase is not a folder, and when a sub-folder
        resolves outside the codebase (spec validation refuses ``..``; a symlink inside the
        codebase is caught here, once it is resolved)."""
        own = self.own_codebase(task)
        if own is not None:
            if not own.is_dir():
                raise UsageError(
                    f"task {task.id!r}: codebase_path {str(own)!r} is not a folder on this "
                    "machine; point it at the codebase to work on"
                )
            return own
        sub_dir = task.inputs.get("codebase_path")
        if not isinstance(sub_dir, str):
            return self.codebase
        base = self.codebase.resolve()
        target = (base / sub_dir).resolve()
        if target != base and not target.is_relative_to(base):
            raise UsageError(
                f"task {task.id!r}: codebase_path {sub_dir!r} resolves to {target}, outside the "
                f"codebase {base} (a symbolic link?); point codebase_path at a real folder "
                "inside the codebase"
            )
        return target

    def own_codebase(self, task: TaskSpec) -> Path | None:
        """The codebase an absolute ``codebase_path`` names; a task without ``codebase_path``
        whose dependencies all work in one such codebase works there too (the seed's analyze
        of /path/to/code, then optimize); None: the run's codebase (or a folder inside it)."""
        sub_dir = task.inputs.get("codebase_path")
        if isinstance(sub_dir, str):
            return expand_user(sub_dir).resolve() if names_own_codebase(sub_dir) else None
        owned = {self.own_codebase(self.tasks[d]) for d in task.dependencies}
        return owned.pop() if len(owned) == 1 else None

    def _digest_of(self, codebase: Path, run_digest: str) -> str:
        """The content digest for a task's cache key: the run's covers its sub-folders; a task's
        own codebase (an absolute ``codebase_path``) is digested once per run."""
        base = self.codebase.resolve()
        if codebase == base or codebase.is_relative_to(base):
            return run_digest
        if codebase not in self._digests:
            self._digests[codebase] = codebase_digest(codebase, self.settings.home_dir / "cache")
        return self._digests[codebase]

    def _variant(self, agent_name: str, retries: int, delay: float) -> Any:
        """The step task with this run's options; built once per distinct option set, because
        ``Task.with_options`` re-reads the function's source (milliseconds per call)."""
        key = (agent_name, retries, delay)
        if key not in self._variants:
            self._variants[key] = agent_step.with_options(
                name=f"agent-step:{agent_name}",
                retries=retries,
                retry_delay_seconds=[min(delay * 2**i, MAX_BACKOFF_SECONDS) for i in range(retries)]
                if delay > 0 and retries
                else 0,
                result_storage=storage_for(self.settings.results_dir),
                refresh_cache=self.fresh,
            )
        return self._variants[key]

    def _collect(self, task: TaskSpec, future: PrefectConcurrentFuture[StepResult]) -> None:
        future.wait()
        state = future.state
        if state.is_completed():
            step: StepResult = completed_value(state)
            self.results[task.id] = step
            reused = state.name == "Cached"
            if reused:
                self.log.info("task %r: reused the result of an earlier run", task.id)
            self._finish(
                task,
                TaskStatus.REUSED if reused else TaskStatus.COMPLETED,
                output=step.output,
                duration_s=step.duration_s,
                attempts=0 if reused else step.attempts,
            )
            return
        exc = future.result(raise_on_failure=False)
        error = str(exc) if isinstance(exc, BaseException) and str(exc) else state.message
        self.log.error("task %r failed: %s", task.id, error)
        self._finish(task, TaskStatus.FAILED, error=error or state.name)

    def _skip_blocked(self, waiting: list[str]) -> None:
        for task_id in list(waiting):
            task = self.tasks[task_id]
            blocked = [
                d for d in task.dependencies
                if self.outcomes[d].status in (TaskStatus.FAILED, TaskStatus.SKIPPED)
            ]  # fmt: skip
            _, config = self.spec.agent_config(task.agent)
            if blocked or not config.enabled:
                why = f"upstream {', '.join(blocked)} did not complete" if blocked else (
                    f"agent {task.agent!r} is disabled"
                )  # fmt: skip
                if all(d in self.benign for d in blocked):  # disabled, not failed: not an error
                    self.benign.add(task_id)
                waiting.remove(task_id)
                self._finish(task, TaskStatus.SKIPPED, error=why)

    def execute(self) -> WorkflowResult:
        started_at = datetime.now(UTC)
        timeout = self.spec.settings.workflow_timeout
        deadline = time.monotonic() + timeout if timeout else None
        self._event(
            None, ev.STARTED, ev.RUNNING, codebase=str(self.codebase), tasks=len(self.outcomes)
        )
        try:
            status = self._schedule(deadline, timeout)
        except BaseException as exc:  # Ctrl-C, Prefect cancellation, a crash: stop the agents
            self.handle.cancel.set()
            self._event(None, ev.FINISHED, ev.FAILED_STATUS, error=f"run interrupted: {exc!r}")
            raise
        failed = any(
            o.status is TaskStatus.FAILED
            or (o.status is TaskStatus.SKIPPED and o.task_id not in self.benign)
            for o in self.outcomes.values()
        )  # fmt: skip
        if status is RunStatus.COMPLETED and failed:
            status = RunStatus.FAILED
        result = WorkflowResult(
            workflow_id=self.spec.workflow_id,
            run_id=self.run_id,
            status=status,
            tasks=self.outcomes,
            started_at=started_at,
            finished_at=datetime.now(UTC),
            codebase=str(self.codebase),
        )
        self.handle.result = result
        finished = ev.COMPLETED if status is RunStatus.COMPLETED else status.value
        self._event(None, ev.FINISHED, finished, duration_s=result.duration_s, **result.counts())
        return result

    def _schedule(self, deadline: float | None, timeout: float | None) -> RunStatus:
        digest = codebase_digest(self.codebase, self.settings.home_dir / "cache")
        waiting = topological_order({t.id: t.dependencies for t in self.spec.tasks})
        running: dict[cf.Future[Any], tuple[TaskSpec, Any]] = {}
        width = self.spec.settings.max_parallel_tasks
        runner: ThreadPoolTaskRunner[Any] = ThreadPoolTaskRunner(max_workers=width)
        with runner:
            while True:
                if deadline is not None and time.monotonic() >= deadline:
                    self._stop(running, waiting, f"workflow_timeout of {timeout:g}s reached")
                    return RunStatus.TIMED_OUT
                self._skip_blocked(waiting)
                refused = False
                for task_id in [w for w in waiting if self._ready(w)]:
                    waiting.remove(task_id)
                    task = self.tasks[task_id]
                    try:
                        self.task_codebase(task)
                    except UsageError as exc:  # fails the task; its dependents are skipped
                        self.log.error("%s", exc)
                        self._finish(task, TaskStatus.FAILED, error=str(exc))
                        refused = True
                        continue
                    fut = self._submit(runner, task, digest)
                    running[fut.wrapped_future] = (task, fut)
                if not running:
                    if refused and waiting:
                        continue  # skip the refused tasks' dependents, run what else is ready
                    return RunStatus.COMPLETED
                left = None if deadline is None else max(0.0, deadline - time.monotonic())
                done, _ = cf.wait(running, timeout=left, return_when=cf.FIRST_COMPLETED)
                for wrapped in done:
                    task, fut = running.pop(wrapped)
                    self._collect(task, fut)

    def _ready(self, task_id: str) -> bool:
        deps = self.tasks[task_id].dependencies
        return all(self.outcomes[d].ok for d in deps)

    def _stop(
        self, running: dict[cf.Future[Any], tuple[TaskSpec, Any]], waiting: list[str], why: str
    ) -> None:
        self.log.error("stopping the run: %s", why)
        self.handle.cancel.set()
        done, not_done = cf.wait(running, timeout=STOP_GRACE_SECONDS)
        for wrapped in done:
            task, fut = running.pop(wrapped)
            self._collect(task, fut)
        for wrapped in not_done:
            task, _ = running.pop(wrapped)
            self._finish(task, TaskStatus.FAILED, error=f"{why}; the task did not stop in time")
        for task_id in waiting:
            self._finish(self.tasks[task_id], TaskStatus.SKIPPED, error=why)
        waiting.clear()
