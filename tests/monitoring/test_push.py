"""Flow runs push their metrics to a real Pushgateway (CONDUCTOR_METRICS_PUSHGATEWAY)."""

from __future__ import annotations

import logging
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest

from ai_conductor import run_spec
from tests.monitoring.conftest import free_port, get, samples

pytestmark = [pytest.mark.slow, pytest.mark.usefixtures("prefect_api")]
PY = sys.executable
WORKFLOW = {"job": "ai_conductor", "flow": "conductor-workflow", "deployment": "adhoc"}


@pytest.fixture
def flow_run_warnings() -> Iterator[list[str]]:
    """Warnings logged to flow runs' loggers (what the Prefect UI shows)."""
    seen: list[str] = []

    class Keep(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            seen.append(record.getMessage())

    logger = logging.getLogger("prefect.flow_runs")
    handler = Keep(level=logging.WARNING)
    logger.addHandler(handler)
    yield seen
    logger.removeHandler(handler)


def by(text: str, name: str, label: str, **group: str) -> dict[str, float]:
    return {s.labels[label]: s.value for s in samples(text, name, **group)}


def scrape(url: str) -> str:
    status, text = get(f"{url}/metrics")
    assert status == 200, text
    return text


def test_a_workflow_run_pushes_its_metrics_and_the_next_run_replaces_them(
    push_to: str, risky: Path
) -> None:
    from prefect.client.orchestration import get_client

    command = {"agent": "command", "inputs": {"command": [PY, "-c", "print(1)"]}}
    ok = run_spec(
        {
            "workflow_id": "metrics-ok",
            "tasks": [
                {"id": "hello", **command},
                {"id": "scan", "agent": "analyzer", "inputs": {"focus_areas": ["security"]}},
                {
                    "id": "done",
                    "agent": "noop",
                    "dependencies": ["hello", "scan"],
                    "inputs": {"tokens": 1200, "cost_usd": 0.25},
                },  # as an LLM agent reports
            ],
        },
        codebase=risky,
    )
    assert ok.ok, ok.summary_line()
    text = scrape(push_to)
    (info,) = samples(text, "conductor_flow_run_info", **WORKFLOW)
    assert info.labels["flow_run_name"] == "metrics-ok"
    assert info.labels["state"] == "completed"
    with get_client(sync_client=True) as client:  # the pushed run is the run Prefect recorded
        run = client.read_flow_run(UUID(info.labels["flow_run_id"]))
    assert run.name == "metrics-ok"
    assert run.state is not None
    assert run.state.is_completed()
    states = by(text, "conductor_flow_run_state", "state", **WORKFLOW)
    assert states == {"completed": 1, "failed": 0, "crashed": 0, "cancelled": 0}
    (duration,) = samples(text, "conductor_flow_run_duration_seconds", **WORKFLOW)
    assert 0 < duration.value < 300
    tasks = by(text, "conductor_flow_run_tasks", "outcome", **WORKFLOW)
    assert tasks == {"succeeded": 3, "failed": 0, "skipped": 0, "reused": 0}
    counts = {
        (s.labels["agent_role"], s.labels["status"]): s.value
        for s in samples(text, "conductor_flow_run_task_duration_seconds_count", **WORKFLOW)
    }
    assert counts == {("command", "completed"): 1, ("analyzer", "completed"): 1,
                      ("noop", "completed"): 1}  # fmt: skip
    (analyzer_sum,) = samples(
        text, "conductor_flow_run_task_duration_seconds_sum", agent_role="analyzer", **WORKFLOW
    )
    assert analyzer_sum.value == pytest.approx(ok.tasks["scan"].duration_s, abs=1e-3)
    findings = by(text, "conductor_flow_run_findings", "severity", **WORKFLOW)
    reported = ok.results["scan"]["summary"]["by_severity"]
    assert sum(reported.values()) >= 1
    assert {k: v for k, v in findings.items() if v} == reported
    assert by(text, "conductor_flow_run_llm_tokens", "job", **WORKFLOW) == {"ai_conductor": 1200}
    assert by(text, "conductor_flow_run_llm_cost_usd", "job", **WORKFLOW) == {"ai_conductor": 0.25}
    (success,) = samples(
        text, "conductor_flow_run_last_success_timestamp_seconds", outcome="completed", **WORKFLOW
    )

    fail = [PY, "-c", "import sys; sys.exit(3)"]
    bad = run_spec(
        {"workflow_id": "metrics-bad", "tasks": [{"id": "boom", "agent": "command",
                                                  "inputs": {"command": fail}}]},
        codebase=risky,
    )  # fmt: skip
    assert not bad.ok
    text = scrape(push_to)
    (info,) = samples(text, "conductor_flow_run_info", **WORKFLOW)
    assert (info.labels["flow_run_name"], info.labels["state"]) == ("metrics-bad", "failed")
    assert by(text, "conductor_flow_run_state", "state", **WORKFLOW)["failed"] == 1
    tasks = by(text, "conductor_flow_run_tasks", "outcome", **WORKFLOW)
    assert tasks == {"succeeded": 0, "failed": 1, "skipped": 0, "reused": 0}
    # the group was replaced: nothing of the earlier run is left over...
    assert not samples(text, "conductor_flow_run_findings", **WORKFLOW)
    assert not samples(
        text, "conductor_flow_run_task_duration_seconds_count", agent_role="analyzer"
    )
    # ...but the last success is kept in its own group
    (kept,) = samples(
        text, "conductor_flow_run_last_success_timestamp_seconds", outcome="completed", **WORKFLOW
    )
    assert kept.value == success.value


def test_a_failed_audit_run_pushes_the_findings_it_recorded(push_to: str, risky: Path) -> None:
    from ai_conductor.flows.audit import AuditRequest, audit_flow

    state: Any = audit_flow(AuditRequest(codebase=str(risky), fail_on="low"), return_state=True)
    assert state.is_failed()  # the quality gate
    text = scrape(push_to)
    group = {"job": "ai_conductor", "flow": "conductor-audit", "deployment": "adhoc"}
    assert by(text, "conductor_flow_run_state", "state", **group)["failed"] == 1
    findings = by(text, "conductor_flow_run_findings", "severity", **group)
    assert sum(findings.values()) >= 1  # from the audit log's summary: the flow returned nothing
    assert set(findings) >= {"critical", "high", "medium", "low", "info"}
    assert not samples(text, "conductor_flow_run_last_success_timestamp_seconds", **group)


def test_an_unreachable_gateway_is_a_warning_not_a_failed_run(
    conductor_home: Path, monkeypatch: pytest.MonkeyPatch, flow_run_warnings: list[str]
) -> None:
    from ai_conductor.flows.maintenance import prune_flow
    from ai_conductor.settings import reload_settings

    nowhere = f"http://127.0.0.1:{free_port()}"  # nothing listens there
    monkeypatch.setenv("CONDUCTOR_METRICS_PUSHGATEWAY", nowhere)
    reload_settings()
    try:
        state: Any = prune_flow(older_than_days=30, dry_run=True, return_state=True)
    finally:
        monkeypatch.delenv("CONDUCTOR_METRICS_PUSHGATEWAY")
        reload_settings()
    assert state.is_completed()
    assert any(f"push to {nowhere} failed" in w for w in flow_run_warnings), flow_run_warnings


def test_without_prometheus_client_pushing_warns_and_the_exporter_says_what_to_install(
    push_to: str, monkeypatch: pytest.MonkeyPatch, flow_run_warnings: list[str]
) -> None:
    from typer.testing import CliRunner

    from ai_conductor.cli import app
    from ai_conductor.flows.maintenance import prune_flow

    monkeypatch.setitem(sys.modules, "prometheus_client", None)  # import fails
    state: Any = prune_flow(older_than_days=30, dry_run=True, return_state=True)
    assert state.is_completed()
    assert any("pip install 'ai-conductor[server]'" in w for w in flow_run_warnings)
    assert "conductor_flow_run" not in scrape(push_to)
    result = CliRunner().invoke(app, ["metrics", "serve", "--port", "0"])
    assert result.exit_code == 2
    assert "pip install 'ai-conductor[server]'" in result.output


def test_the_deployment_label_is_the_deployment_name(prefect_api: str) -> None:
    from prefect.client.orchestration import get_client

    from ai_conductor.flows.maintenance import prune_flow
    from ai_conductor.monitoring.pushed import deployment_name

    deployment_id = prune_flow.to_deployment(name="metrics-label").apply()
    with get_client(sync_client=True) as client:
        run = client.create_flow_run_from_deployment(deployment_id)
        adhoc = client.create_flow_run(prune_flow)
    assert deployment_name(run) == "metrics-label"
    assert deployment_name(adhoc) == "adhoc"
