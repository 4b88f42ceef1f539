"""The audit flow (git URL or path) and the analyzer role inside a workflow, on real Prefect."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest
from prefect.client.orchestration import get_client
from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterKey
from prefect.client.schemas.objects import Artifact

from ai_conductor import TaskStatus, run_spec
from ai_conductor.analysis.gate import QualityGateFailed
from ai_conductor.flows.audit import AuditRequest, audit_flow
from ai_conductor.settings import get_settings
from ai_conductor.store import open_audit_log

REPO = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.usefixtures("prefect_api", "conductor_home")


@pytest.fixture
def git_repo(tmp_path: Path) -> Path:
    repo = tmp_path / "origin"
    shutil.copytree(REPO / "examples" / "defects", repo)
    commit = ["-c", "user.name=t", "-c", "user.email=t@e", "commit", "-qm", "planted"]
    for argv in (["init", "-q", "-b", "main"], ["add", "."], commit):
        subprocess.run(["git", *argv], cwd=repo, check=True)
    return repo


def test_audit_a_git_url_writes_reports_artifacts_and_audit_rows(
    git_repo: Path, tmp_path: Path
) -> None:
    out = tmp_path / "reports"
    request = AuditRequest(codebase=f"file://{git_repo}", branch="main", output_dir=str(out))
    summary = audit_flow(request)
    assert summary["codebase_id"] == f"file://{git_repo}#main"
    assert summary["summary"]["total"] > 0
    assert summary["artifacts"]
    report = json.loads((out / "analysis.json").read_text())
    assert report["codebase_id"] == f"file://{git_repo}#main"
    assert json.loads((out / "analysis.sarif").read_text())["version"] == "2.1.0"
    assert "|" in (out / "analysis.md").read_text()
    html = (out / "analysis.html").read_text()
    assert html.startswith("<!doctype html>")
    assert html.count("<tr data-rank=") == summary["summary"]["total"]
    link = _artifact(summary["artifacts"][-1])
    slug = summary["artifacts"][0].removeprefix("conductor-analysis-")  # named as the others
    assert summary["artifacts"][-1] == f"conductor-report-{slug}"
    assert f"]({(out / 'analysis.html').resolve().as_uri()})" in str(link.data)
    assert str(out / "analysis.html") in str(link.description)
    rows = open_audit_log(get_settings()).query(workflow_id=f"audit:file://{git_repo}")
    assert [r.action for r in rows] == ["finished", "started"]
    flow_run_ids = {r.metadata["flow_run_id"] for r in rows}  # pairs the two events of one run
    assert len(flow_run_ids) == 1
    assert summary["flow_run_id"] in flow_run_ids

    again = audit_flow(request)  # a second clone of the same URL compares with the first
    assert again["summary"]["new"] == 0
    assert again["summary"]["existing"] == summary["summary"]["total"]


def _artifact(key: str) -> Artifact:
    """The latest artifact with ``key`` (filter posted without nulls: see test_reports.py)."""
    query = {"artifacts": ArtifactFilter(key=ArtifactFilterKey(any_=[key])).model_dump(mode="json")}
    with get_client(sync_client=True) as client:
        response = client.request("POST", "/artifacts/filter", json=query)
        response.raise_for_status()
    [found] = Artifact.model_validate_list(response.json())
    return found


def test_audit_gate_fails_the_flow_run(git_repo: Path) -> None:
    state = audit_flow(AuditRequest(codebase=str(git_repo), fail_on="high"), return_state=True)
    assert state.is_failed()
    with pytest.raises(QualityGateFailed, match="at or above high"):
        state.result()


def test_audit_bad_url_is_a_clear_error(tmp_path: Path) -> None:
    state = audit_flow(AuditRequest(codebase=f"file://{tmp_path}/missing.git"), return_state=True)
    assert state.is_failed()
    assert "cannot clone" in str(state.result(raise_on_failure=False))


def test_audit_yaml_runs_the_analyzer_role_and_reuses_it(tmp_path: Path) -> None:
    code = tmp_path / "defects"
    shutil.copytree(REPO / "examples" / "defects", code)
    first = run_spec(REPO / "workflows" / "audit.yaml", codebase=code)
    assert first.ok, first.summary_line()
    output = first.results["analyze"]
    assert output["schema_version"] == "1.1"
    assert output["findings"]
    assert set(output["focus"]) == {"security", "bugs", "complexity", "performance"}
    second = run_spec(REPO / "workflows" / "audit.yaml", codebase=code)
    assert second.tasks["analyze"].status is TaskStatus.REUSED


def test_min_coverage_fails_the_audit_and_the_analyzer_task(tmp_path: Path) -> None:
    """A file bandit and radon cannot parse: 14 of 15 read, below a 100% bar."""
    from ai_conductor.agents.roles import AnalyzerAgent
    from ai_conductor.errors import CoverageTooLow
    from ai_conductor.protocols import TaskContext
    from ai_conductor.spec import AgentConfig, TaskSpec

    code = tmp_path / "defects"
    shutil.copytree(REPO / "examples" / "defects", code)
    (code / "broken.py").write_text("def broken(:\n    pass\n")
    state = audit_flow(AuditRequest(codebase=str(code), min_coverage=100), return_state=True)
    assert state.is_failed()
    with pytest.raises(QualityGateFailed, match=r"bandit read 93\.3% \(14 of 15 read, 1 failed"):
        state.result()
    assert audit_flow(AuditRequest(codebase=str(code), min_coverage=90))["gate"]["uncovered"] == []

    agent = AnalyzerAgent(AgentConfig())
    assert agent.input_problems({"min_coverage": 101}) == [
        "'min_coverage' must be a percentage from 0 to 100, got 101"
    ]
    assert agent.input_problems({"min_coverage": 99.5}) == []
    task = TaskSpec(id="scan", agent="analyzer", inputs={"min_coverage": 100})
    context = TaskContext(workflow_id="w", run_id="r", task_id="scan", codebase=code)
    expected = r"radon read 93\.3%.*below min_coverage 100% \(task scan\)"
    with pytest.raises(CoverageTooLow, match=expected):
        agent.execute(task, context)
