"""The Python API: ``run_spec`` for scripts, and the seed's ``WorkflowConductor`` shape."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from ai_conductor.analysis.gate import FailOn
from ai_conductor.errors import (
    SpecError,
    SpecProblem,
    UsageError,
    WorkflowFailed,
)
from ai_conductor.results import WorkflowResult
from ai_conductor.settings import get_settings
from ai_conductor.spec import ID_PATTERN, TaskSpec, WorkflowSpec, load_spec, validate_data
from ai_conductor.store import events as ev
from ai_conductor.store import open_audit_log


class AgentRole(StrEnum):
    """The three agent roles (contract names)."""

    ANALYZER = "analyzer"
    IMPLEMENTER = "implementer"
    REFINER = "refiner"


class TaskDefinition(BaseModel):
    """A task for :meth:`WorkflowConductor.execute_workflow`, in the seed's spelling."""

    model_config = ConfigDict(extra="forbid")

    task_id: str = Field(pattern=ID_PATTERN)
    name: str = ""
    agent_role: AgentRole | str
    inputs: dict[str, Any] = Field(default_factory=dict)
    dependencies: list[str] = Field(default_factory=list)
    timeout: float | None = None
    retry_attempts: int | None = None

    def to_spec(self) -> dict[str, Any]:
        data = self.model_dump(exclude_none=True)
        data["id"] = data.pop("task_id")
        data["agent"] = str(getattr(self.agent_role, "value", self.agent_role))
        data.pop("agent_role")
        return data


class WorkflowContext(BaseModel):
    """What ``create_workflow`` returns: the workflow's identity and where it will run."""

    workflow_id: str
    description: str = ""
    codebase: str
    created_at: datetime


def _as_spec(spec: str | Path | WorkflowSpec | Mapping[str, Any]) -> WorkflowSpec:
    if isinstance(spec, WorkflowSpec):
        return spec
    if isinstance(spec, Mapping):
        return validate_data(dict(spec), source="<dict>")
    return load_spec(spec)


def run_spec(
    spec: str | Path | WorkflowSpec | Mapping[str, Any],
    *,
    codebase: str | Path | None = None,
    fresh: bool = False,
    raise_on_failure: bool = False,
) -> WorkflowResult:
    """Validate and run a workflow spec (a path, a dict or a model); return every task's outcome.

    Raises ``SpecError``/``ConfigError`` before anything runs when the input is bad,
    ``OrchestrationError`` when the Prefect API fails (unreachable, or 503 from a busy server),
    and ``WorkflowFailed`` for a failed run only when ``raise_on_failure`` is set.
    """
    from ai_conductor._prefect_env import quiet_prefect_defaults

    model = _as_spec(spec)
    if not model.tasks:
        raise SpecError(model.workflow_id, [SpecProblem("the spec has no tasks to run", "tasks")])
    quiet_prefect_defaults()
    from ai_conductor.flows.local import run_workflow_here
    from ai_conductor.flows.workflow import RunRequest

    request = RunRequest(spec=model, codebase=str(codebase) if codebase else None, fresh=fresh)
    request.resolve_codebase(model)  # fail fast, before Prefect starts
    request.run_id = uuid.uuid4().hex
    result = run_workflow_here(request, flow_run_name=model.workflow_id)
    if raise_on_failure and not result.ok:
        raise WorkflowFailed(result)
    return result


class WorkflowConductor:
    """The seed's API: ``create_workflow`` then ``execute_workflow(workflow_id, tasks)``."""

    def __init__(
        self,
        *,
        codebase: str | Path = ".",
        settings: Mapping[str, Any] | None = None,
        agents: Mapping[str, Any] | None = None,
        fresh: bool = False,
    ) -> None:
        self.codebase = str(codebase)
        self.settings = dict(settings or {})
        self.agents = dict(agents or {})
        self.fresh = fresh
        self.workflows: dict[str, WorkflowContext] = {}

    async def create_workflow(self, workflow_id: str, description: str = "") -> WorkflowContext:
        """Register a workflow (recorded in the audit log) and return its context."""
        validate_data({"workflow_id": workflow_id}, source="<create_workflow>")
        context = WorkflowContext(
            workflow_id=workflow_id,
            description=description,
            codebase=self.codebase,
            created_at=datetime.now(UTC),
        )
        self.workflows[workflow_id] = context
        open_audit_log(get_settings()).record(
            ev.AuditEvent(
                workflow_id=workflow_id,
                action=ev.CREATED,
                status=ev.PENDING,
                agent_role=ev.CONDUCTOR_ROLE,
                metadata={"codebase": self.codebase, "description": description},
            )
        )
        return context

    def build_spec(
        self, workflow_id: str, tasks: Sequence[TaskDefinition | TaskSpec | Mapping[str, Any]]
    ) -> WorkflowSpec:
        context = self.workflows.get(workflow_id)
        items = [
            t.to_spec() if isinstance(t, TaskDefinition)
            else t.model_dump(exclude_defaults=True) if isinstance(t, TaskSpec)
            else dict(t)
            for t in tasks
        ]  # fmt: skip
        return validate_data(
            {
                "workflow_id": workflow_id,
                "description": context.description if context else "",
                "codebase": context.codebase if context else self.codebase,
                "settings": self.settings,
                "agents": self.agents,
                "tasks": items,
            },
            source=f"<workflow {workflow_id}>",
        )

    async def execute_workflow(
        self, workflow_id: str, tasks: Sequence[TaskDefinition | TaskSpec | Mapping[str, Any]]
    ) -> WorkflowResult:
        """Run the tasks as a workflow (in a worker thread) and return the result."""
        spec = self.build_spec(workflow_id, tasks)
        return await asyncio.to_thread(run_spec, spec, fresh=self.fresh)


Workflowconductor = WorkflowConductor
"""The seed's spelling, kept as an alias."""


def audit_fleet(
    repos: Sequence[str | Mapping[str, Any]],
    *,
    focus: Sequence[str] = (),
    fail_on: FailOn = "none",
    max_concurrency: int = 4,
    task_runner: Literal["threads", "dask"] = "threads",
    dask_address: str | None = None,
    output_dir: str | Path | None = None,
    tools: Sequence[str] | None = None,
) -> dict[str, Any]:
    """Audit several repositories at once with the fleet flow; return the roll-up.

    ``repos``: paths or git URLs, or mappings with ``codebase`` and optional ``branch`` and
    ``name``. Reports go to ``<output_dir>/<repo>/analysis.{json,sarif,md}`` plus
    ``fleet-rollup.{json,md}``. After writing them, raises ``QualityGateFailed`` (exit code 1)
    when a repository fails ``fail_on``, ``FleetFailed`` when one could not be audited.
    """
    from ai_conductor.flows.fleet import FleetRequest, fleet_audit_flow

    try:
        request = FleetRequest.model_validate({
            "repos": [{"codebase": r} if isinstance(r, str) else dict(r) for r in repos],
            "focus": list(focus), "fail_on": fail_on, "max_concurrency": max_concurrency,
            "task_runner": task_runner, "dask_address": dask_address,
            "output_dir": str(output_dir) if output_dir is not None else None,
            "tools": list(tools) if tools is not None else None,
        })  # fmt: skip
    except ValidationError as exc:
        raise UsageError(f"invalid fleet audit: {exc}") from None
    return fleet_audit_flow(request)
