"""With a Prefect API and the deployment registered, a run is a flow run of the deployment: the
server creates it at once, reads its state back from Prefect and can cancel it (no worker runs
it here: what is asserted is the contract with the real Prefect server)."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest

from ai_conductor.server.runs import RunManager
from ai_conductor.settings import get_settings


@pytest.mark.usefixtures("prefect_api", "conductor_home")
def test_workflow_runs_become_flow_runs_of_the_deployment(tmp_path: Path) -> None:
    from prefect.client.orchestration import get_client

    from ai_conductor.flows.workflow import workflow_flow

    deployment_id = workflow_flow.to_deployment(name="run-workflow").apply()
    spec = tmp_path / "demo.yaml"
    spec.write_text("workflow_id: remote\ntasks:\n  - {id: a, agent: noop}\n")
    settings = get_settings().model_copy(update={"allowed_roots": [tmp_path]})
    manager = RunManager(settings)
    try:
        info = manager.submit("workflow", {"spec_path": str(spec), "codebase": str(tmp_path)})
        with get_client(sync_client=True) as client:
            flow_run = client.read_flow_run(uuid.UUID(info.run_id))  # the run id IS the flow run
            assert flow_run.deployment_id is not None
            request = flow_run.parameters["request"]
            assert "spec_path" not in request  # the checked spec goes inline, paths resolved
            assert request["spec"]["workflow_id"] == "remote"
            assert request["codebase"] == str(tmp_path.resolve())
        assert info.status == "pending"
        got = manager.get(info.run_id)
        assert got is not None
        assert got.status == "pending"  # scheduled in Prefect, waiting for a worker
        cancelled = manager.cancel(info.run_id)
        assert cancelled.status in ("running", "cancelled")  # Cancelling, then Cancelled
        with get_client(sync_client=True) as client:
            state = client.read_flow_run(uuid.UUID(info.run_id)).state
            assert state is not None
            assert state.type.value in ("CANCELLING", "CANCELLED")
    finally:
        manager.shutdown()
        with get_client(sync_client=True) as client:  # other tests run flows in-process
            client.delete_deployment(deployment_id)
