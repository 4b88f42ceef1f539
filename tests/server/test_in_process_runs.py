"""The server's in-process workflow runs go through the same runner as ``run_spec``."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest

from ai_conductor.server import _execute
from ai_conductor.server.params import WorkflowParams
from ai_conductor.settings import get_settings

pytestmark = pytest.mark.usefixtures("prefect_api", "conductor_home")


def test_a_server_workflow_run_is_run_like_run_spec(tmp_path: Path) -> None:
    """Like ``run_spec``: no flow-run heartbeats for a run this process waits for."""
    repo = tmp_path / "repo"
    repo.mkdir()
    (repo / "app.py").write_text("x = 1\n")
    settings = get_settings().model_copy(
        update={"allowed_roots": [tmp_path], "server_allow_commands": True}
    )
    spec = {
        "workflow_id": "probe",
        "tasks": [{"id": "p", "agent": "tests.agents:PrefectSettingsProbe"}],
    }
    prepared = _execute.prepare_workflow(WorkflowParams(spec=spec, codebase=str(repo)), settings)
    summary, report = prepared.work(uuid.uuid4().hex, lambda _: None)
    assert summary["ok"] is True
    assert report["tasks"]["p"]["output"] == {"heartbeat_frequency": None}
