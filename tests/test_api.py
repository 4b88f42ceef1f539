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


def test_audit_fleet_refuses_a_bad_request_before_anything_runs() -> None:
    from ai_conductor import UsageError, audit_fleet

    with pytest.raises(UsageError, match="repos"):
        audit_fleet([])
    with pytest.raises(UsageError, match="max_concurrency"):
        audit_fleet(["."], max_concurrency=0)


@pytest.mark.usefixtures("prefect_api", "conductor_home")
def test_audit_fleet_returns_the_rollup(tmp_path: Path) -> None:
    from ai_conductor import audit_fleet

    for name in ("a", "b"):
        (tmp_path / name).mkdir()
        (tmp_path / name / "m.py").write_text("import os\n")
    rollup = audit_fleet(
        [str(tmp_path / "a"), {"codebase": str(tmp_path / "b"), "name": "bee"}],
        tools=["ruff"], output_dir=tmp_path / "out", max_concurrency=2,
    )  # fmt: skip
    assert sorted(r["name"] for r in rollup["repos"]) == ["a", "bee"]
    assert all(r["status"] == "completed" and r["findings"] >= 1 for r in rollup["repos"])
    assert (tmp_path / "out" / "fleet-rollup.json").is_file()


def test_local_runs_send_no_flow_heartbeats_unless_configured(codebase: Path) -> None:
    """Prefect's engine waits for its heartbeat thread (1 s sleeps) at the end of every flow
    run: local runs turn heartbeats off, a user's configured frequency is kept."""
    from prefect.settings import PREFECT_FLOWS_HEARTBEAT_FREQUENCY, temporary_settings

    spec = {
        "workflow_id": "probe",
        "tasks": [{"id": "p", "agent": "tests.agents:PrefectSettingsProbe"}],
    }
    result = run_spec(spec, codebase=codebase, fresh=True)
    assert result.results["p"] == {"heartbeat_frequency": None}
    with temporary_settings(updates={PREFECT_FLOWS_HEARTBEAT_FREQUENCY: 45}):
        result = run_spec(spec, codebase=codebase, fresh=True)
    assert result.results["p"] == {"heartbeat_frequency": 45}
