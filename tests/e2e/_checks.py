"""What the end-to-end tests read back: flow runs and their artifacts from the Prefect API, which
worker ran a run (its log), and audit-log rows (SQLAlchemy, straight from the workers' database)."""

from __future__ import annotations

import json
import re
import time
import uuid
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, select
from sqlalchemy.pool import NullPool

from tests.e2e._stack import PrefectServer

FINDING = (
    "import subprocess\n\n\n"
    "def run(command: str) -> int:\n"
    "    return subprocess.call(command, shell=True)\n"
)
"""A codebase with one high-severity finding (ruff S602: subprocess with shell=True)."""


def make_codebase(parent: Path, name: str) -> Path:
    root = parent / name
    root.mkdir(parents=True)
    (root / "app.py").write_text(f"# {name}\n{FINDING}")  # distinct content per codebase
    return root


def client(api_url: str) -> Any:
    from prefect.client.orchestration import SyncPrefectClient

    return SyncPrefectClient(api_url)


def completed(flow_run: Any) -> bool:
    return flow_run.state is not None and bool(flow_run.state.is_completed())


def wait_final(api_url: str, flow_run_id: uuid.UUID, timeout: float = 150.0) -> Any:
    """The flow run once its state is final (a bounded wait)."""
    deadline = time.monotonic() + timeout
    with client(api_url) as c:
        while True:
            run = c.read_flow_run(flow_run_id)
            if run.state is not None and run.state.is_final():
                return run
            if time.monotonic() > deadline:
                state = run.state.name if run.state else None
                raise AssertionError(f"flow run {flow_run_id} still {state} after {timeout}s")
            time.sleep(0.5)


def scheduled_runs(api_url: str, deployment_id: uuid.UUID, timeout: float = 45.0) -> list[Any]:
    """The Scheduled flow runs of a deployment, once the scheduler has created some."""
    from prefect.client.schemas.filters import (
        DeploymentFilter,
        DeploymentFilterId,
        FlowRunFilter,
        FlowRunFilterState,
        FlowRunFilterStateType,
    )
    from prefect.client.schemas.objects import StateType

    deployments = DeploymentFilter(id=DeploymentFilterId(any_=[deployment_id]))
    state = FlowRunFilterState(type=FlowRunFilterStateType(any_=[StateType.SCHEDULED]))
    deadline = time.monotonic() + timeout
    with client(api_url) as c:
        while True:
            runs = c.read_flow_runs(deployment_filter=deployments, limit=10, offset=0,
                                    flow_run_filter=FlowRunFilter(state=state))  # fmt: skip
            if runs or time.monotonic() > deadline:
                return list(runs)
            time.sleep(1)


def pause_schedules(api_url: str) -> list[str]:
    """Pause every deployment that has a schedule (its scheduled runs are deleted): no cron
    run can land on a worker during the tests. Returns their names."""
    paused = []
    with client(api_url) as c:
        for deployment in c.read_deployments(limit=100, offset=0):
            if c.read_deployment_schedules(deployment.id):
                c.pause_deployment(deployment.id)
                paused.append(deployment.name)
    return paused


def artifacts(api_url: str, flow_run_id: uuid.UUID) -> dict[str, Any]:
    """The keyed artifacts of a flow run, by key."""
    from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterFlowRunId

    flt = ArtifactFilter(flow_run_id=ArtifactFilterFlowRunId(any_=[flow_run_id]))
    with client(api_url) as c:
        found = c.read_artifacts(artifact_filter=flt, limit=50, offset=0)
    return {a.key: a for a in found if a.key}


def log_messages(
    api_url: str, flow_run_id: uuid.UUID, *wanted: str, timeout: float = 30.0
) -> list[str]:
    """A flow run's log messages once each of ``wanted`` is in one of them (a bounded wait).

    A flow run's process ships its log lines to the API in batches, the last of them as it exits:
    the run can read as Completed a moment before its final lines arrive, so reading them once,
    right after the run ends, races that flush.
    """
    from prefect.client.schemas.filters import LogFilter, LogFilterFlowRunId

    flt = LogFilter(flow_run_id=LogFilterFlowRunId(any_=[flow_run_id]))
    deadline = time.monotonic() + timeout
    with client(api_url) as c:
        while True:
            messages: list[str] = []
            while batch := c.read_logs(flt, limit=200, offset=len(messages)):
                messages += [entry.message for entry in batch]
            if all(any(w in m for m in messages) for w in wanted):
                return messages
            if time.monotonic() > deadline:
                missing = [w for w in wanted if not any(w in m for m in messages)]
                raise AssertionError(f"no log line with {missing} in {timeout}s: {messages[-20:]}")
            time.sleep(0.5)


def worker_of(server: PrefectServer, flow_run_id: uuid.UUID) -> str:
    """The one worker that ran the flow run: it logged the submission and did not abort it
    (another worker may have tried first and been refused by the server)."""
    ran = []
    for worker in server.workers:
        log = worker.log.read_text(errors="replace")
        submitted = f"Worker '{worker.name}' submitting flow run '{flow_run_id}'" in log
        if submitted and f"Aborted submission of flow run '{flow_run_id}'" not in log:
            ran.append(worker.name)
    assert len(ran) == 1, f"flow run {flow_run_id} was run by {ran}"
    return ran[0]


def audit_rows(audit_url: str, **where: str) -> list[dict[str, Any]]:
    """coordination_logs rows matching ``where`` (column = value), oldest first."""
    from ai_conductor.store import coordination_logs

    stmt = select(coordination_logs)
    for column, value in where.items():
        stmt = stmt.where(coordination_logs.c[column] == value)
    engine = create_engine(audit_url, poolclass=NullPool)
    try:
        with engine.connect() as conn:
            rows = conn.execute(stmt.order_by(coordination_logs.c.id)).mappings().all()
    finally:
        engine.dispose()
    return [dict(r) for r in rows]


def check_audit_run(api_url: str, audit_url: str, flow_run_id: uuid.UUID, codebase: Path) -> str:
    """A finished nightly-audit run of ``codebase``: its two keyed artifacts name the finding and
    the analysis run, whose started/finished events are in the audit log. Returns the analysis
    run id."""
    from ai_conductor.reports.artifacts import artifact_slug

    slug = artifact_slug(codebase.name)
    found = artifacts(api_url, flow_run_id)
    summary, table = found[f"conductor-analysis-{slug}"], found[f"conductor-findings-{slug}"]
    assert summary.type == "markdown"
    assert "S602" in summary.data
    match = re.search(r"\(run ([0-9a-f]{32})\)", summary.description or "")
    assert match, summary.description
    analysis_run = match.group(1)
    rows = json.loads(table.data) if isinstance(table.data, str) else table.data
    assert {"severity": "high", "rule": "ruff/S602", "path": "app.py"}.items() <= rows[0].items()

    events = audit_rows(audit_url, workflow_id=f"audit:{codebase}")
    assert [(e["action"], e["status"]) for e in events] == [
        ("started", "running"),
        ("finished", "completed"),
    ]
    started, finished = events
    assert started["metadata"]["codebase"] == str(codebase)
    assert finished["run_id"] == analysis_run
    assert finished["metadata"]["summary"]["by_severity"]["high"] == 1
    assert finished["metadata"]["artifacts"] == sorted(found)
    return analysis_run
