"""The Python API in the seed's shape, and run_spec for scripts."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from ai_conductor import (
    AgentRole,
    SpecError,
    TaskDefinition,
    TaskStatus,
    WorkflowConductor,
    Workflowconductor,
    WorkflowFailed,
    run_spec,
)
from ai_conductor.settings import get_settings
from ai_conductor.store import open_audit_log

pytestmark = pytest.mark.usefixtures("prefect_api", "conductor_home")


def test_seed_shape_create_and_execute(codebase: Path) -> None:
    async def scenario() -> None:
        conductor = Workflowconductor(codebase=codebase)
        context = await conductor.create_workflow("my_analysis_workflow", "seed example")
        assert context.workflow_id == "my_analysis_workflow"
        tasks = [
            TaskDefinition(task_id="prepare", name="Prepare", agent_role="noop",
                           inputs={"codebase_path": "."}),
            TaskDefinition(task_id="echo", name="Echo", agent_role="command",
                           inputs={"command": ["echo", "hi"]}, dependencies=["prepare"]),
        ]  # fmt: skip
        result = await conductor.execute_workflow("my_analysis_workflow", tasks)
        assert result.ok
        assert result.results["prepare"] == {"codebase_path": "."}
        assert result.results["echo"]["stdout"] == "hi\n"
        assert result.tasks["echo"].status is TaskStatus.COMPLETED

    asyncio.run(scenario())
    assert WorkflowConductor is Workflowconductor
    rows = open_audit_log(get_settings()).query(workflow_id="my_analysis_workflow", limit=100)
    assert {r.action for r in rows} >= {"created", "started", "succeeded", "finished"}


def test_roles_are_the_contract_names() -> None:
    assert [r.value for r in AgentRole] == ["analyzer", "implementer", "refiner"]


def test_bad_tasks_fail_before_running() -> None:
    conductor = WorkflowConductor()
    with pytest.raises(SpecError, match="unknown dependency 'missing'"):
        conductor.build_spec("w", [TaskDefinition(task_id="a", agent_role="noop",
                                                  dependencies=["missing"])])  # fmt: skip
    with pytest.raises(SpecError, match="no tasks"):
        run_spec({"workflow_id": "empty", "tasks": []})


def test_run_spec_raise_on_failure(codebase: Path) -> None:
    spec = {"workflow_id": "boom", "tasks": [{"id": "x", "agent": "command",
            "inputs": {"command": ["false"]}}]}  # fmt: skip
    result = run_spec(spec, codebase=codebase)
    assert not result.ok
    assert "1 failed" in result.summary_line()
    with pytest.raises(WorkflowFailed) as info:
        run_spec(spec, codebase=codebase, raise_on_failure=True)
    assert info.value.result.tasks["x"].status is TaskStatus.FAILED
