"""One agent step as a Prefect task: build the agent, run it with a deadline, record attempts."""

from __future__ import annotations

import asyncio
import inspect
import json
import time
from pathlib import Path
from typing import Any

from prefect.context import TaskRunContext
from pydantic import BaseModel

from ai_conductor import _runtime
from ai_conductor._prefect import conductor_task, run_logger
from ai_conductor.agents.registry import default_registry
from ai_conductor.errors import AgentError, AgentTimeout
from ai_conductor.protocols import TaskContext
from ai_conductor.results import StepResult
from ai_conductor.settings import get_settings
from ai_conductor.spec import AgentConfig, TaskSpec
from ai_conductor.store import events as ev
from ai_conductor.store import open_audit_log


class StepInput(BaseModel):
    """Everything one step needs; plain data, so Prefect can show it and cache on its key."""

    workflow_id: str
    run_id: str
    task: TaskSpec
    agent_name: str
    """Registry name the agent resolves to (a role, built-in, plugin or import path)."""
    agent: AgentConfig
    codebase: str
    upstream: dict[str, Any]
    cache_key: str
    timeout: float | None = None
    retries: int = 0


def _record(step: StepInput, action: str, status: str, **extra: Any) -> None:
    error = extra.pop("error", None)
    open_audit_log(get_settings()).record(
        ev.AuditEvent(
            workflow_id=step.workflow_id,
            run_id=step.run_id,
            task_id=step.task.id,
            agent_role=step.task.agent,
            action=action,
            status=status,
            metadata=extra,
            error_message=error,
        )
    )


def _call(step: StepInput, context: TaskContext) -> dict[str, Any]:
    agent = default_registry().create(step.agent_name, step.agent)
    out: Any = agent.execute(step.task, context)
    if inspect.isawaitable(out):
        remaining = context.remaining()

        async def bounded() -> Any:
            return await asyncio.wait_for(out, timeout=remaining)

        try:
            out = asyncio.run(bounded())
        except TimeoutError:
            raise AgentTimeout(
                f"agent {step.agent_name!r} timed out after {step.timeout}s"
            ) from None
    if context.remaining() == 0.0:
        late = AgentTimeout(f"agent {step.agent_name!r} returned after its {step.timeout}s limit")
        late.retryable = False  # it ran to the end: running it again would take as long
        raise late
    if not isinstance(out, dict):
        raise AgentError(f"agent {step.agent_name!r} returned {type(out).__name__}, not a mapping")
    try:
        json.dumps(out)
    except (TypeError, ValueError) as exc:
        raise AgentError(
            f"agent {step.agent_name!r} returned data that is not JSON: {exc}"
        ) from None
    return out


@conductor_task(name="agent-step", task_run_name="{step.task.id}")
def agent_step(step: StepInput) -> StepResult:
    """Run the step's agent once (Prefect retries it); every attempt lands in the audit log."""
    run_ctx = TaskRunContext.get()
    attempt = run_ctx.task_run.run_count if run_ctx else 1
    handle = _runtime.get_run(step.run_id)
    started = time.monotonic()
    _record(step, ev.STARTED if attempt <= 1 else ev.RETRIED, ev.RUNNING, attempt=attempt)
    context = TaskContext(
        workflow_id=step.workflow_id,
        run_id=step.run_id,
        task_id=step.task.id,
        codebase=Path(step.codebase),
        upstream=step.upstream,
        attempt=attempt,
        deadline=started + step.timeout if step.timeout else None,
        logger=run_logger(),  # type: ignore[arg-type]
    )
    if handle is not None:
        context.cancel = handle.cancel
    context.logger.info("task %r (agent %s) started, attempt %d (run %s)", step.task.id,
                        step.agent_name, attempt, step.run_id)  # fmt: skip
    try:
        output = _call(step, context)
    except Exception as exc:
        will_retry = attempt <= step.retries and getattr(exc, "retryable", True)
        if will_retry:
            _record(step, ev.ATTEMPT_FAILED, ev.RETRYING, attempt=attempt, error=str(exc))
        context.logger.warning("task %r attempt %d failed: %s", step.task.id, attempt, exc)
        raise
    context.logger.info("task %r finished in %.1fs", step.task.id, time.monotonic() - started)
    return StepResult(
        output=output, duration_s=round(time.monotonic() - started, 4), attempts=attempt
    )
