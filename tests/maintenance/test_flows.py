"""The maintenance flows on a real Prefect server (the session's test server)."""

from __future__ import annotations

from typing import Any
from uuid import UUID

import pytest

from ai_conductor.flows.maintenance import FLOWS, airbyte_sync_flow
from ai_conductor.maintenance.airbyte import AirbyteSyncFailed
from ai_conductor.settings import Settings
from ai_conductor.store import open_audit_log
from tests.maintenance.fake_airbyte import FakeAirbyte

pytestmark = [pytest.mark.slow, pytest.mark.usefixtures("prefect_api")]


def artifacts_of(flow_run_id: UUID | None) -> dict[str, str]:
    """Markdown artifacts of one flow run, by key (posted without null filters, see reports)."""
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterFlowRunId
    from prefect.client.schemas.objects import Artifact

    flt = ArtifactFilter(flow_run_id=ArtifactFilterFlowRunId(any_=[flow_run_id]))
    query = {"artifacts": flt.model_dump(mode="json", exclude_none=True)}
    with get_client(sync_client=True) as client:
        response = client.request("POST", "/artifacts/filter", json=query)
        response.raise_for_status()
    return {a.key or "": str(a.data) for a in Artifact.model_validate_list(response.json())}


def test_flows_are_named_for_deployments() -> None:
    assert {name: flow.name for name, flow in FLOWS.items()} == {
        "weaviate-init": "weaviate-init", "airbyte-sync": "airbyte-sync",
        "context-sync": "context-sync", "prune": "prune",
    }  # fmt: skip


def test_airbyte_sync_flow_runs_the_job_and_publishes_an_artifact(
    fake: FakeAirbyte, airbyte_env: Settings
) -> None:
    state = airbyte_sync_flow(poll_interval=0.01, return_state=True)
    assert state.is_completed(), state.message
    data: dict[str, Any] = state.result()
    assert (data["job_id"], data["status"], data["rows_synced"]) == (4242, "succeeded", 17)
    report = artifacts_of(state.state_details.flow_run_id)["conductor-maintenance-airbyte-sync"]
    assert "# Airbyte sync" in report
    assert "**completed**" in report
    assert "| job_id | 4242 |" in report
    assert fake.client_secret not in report
    rows = open_audit_log(airbyte_env).query(workflow_id="maintenance")
    assert [(r.action, r.status) for r in rows] == [("airbyte-sync", "completed")]


def test_failed_sync_fails_the_flow_run_with_a_failure_artifact(
    fake: FakeAirbyte, airbyte_env: Settings
) -> None:
    fake.statuses = ["failed"]
    state = airbyte_sync_flow(connection_id="conn-1", poll_interval=0.01, return_state=True)
    assert state.is_failed()
    with pytest.raises(AirbyteSyncFailed, match="ended failed"):
        state.result()
    report = artifacts_of(state.state_details.flow_run_id)["conductor-maintenance-airbyte-sync"]
    assert "**failed:** Airbyte job 4242" in report
    assert "| status | failed |" in report


def test_flow_parameters_are_validated(airbyte_env: Settings) -> None:
    state = airbyte_sync_flow(timeout=0, return_state=True)
    assert state.is_failed()
    assert "greater than 0" in str(state.result(raise_on_failure=False))
