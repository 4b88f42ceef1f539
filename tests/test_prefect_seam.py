"""The one seam to Prefect: flow-run hooks other layers register, one answer to "is a Prefect
API configured?", and the import rule import-linter enforces."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import BIN


def test_registered_hooks_are_added_to_every_conductor_flow_once() -> None:
    from ai_conductor import _prefect

    calls: list[str] = []

    def hook(*_: Any) -> None:
        calls.append("done")

    _prefect.register_flow_hooks({"on_completion": [hook]})
    _prefect.register_flow_hooks({"on_completion": [hook]})  # idempotent

    @_prefect.conductor_flow(name="seam-probe")
    def probe() -> int:
        return 1

    assert probe.on_completion_hooks.count(hook) == 1
    with pytest.raises(ValueError, match="not a flow-run hook"):
        _prefect.register_flow_hooks({"on_finish": [hook]})


def test_every_flow_carries_the_metrics_push_hooks_monitoring_registers() -> None:
    from ai_conductor.flows.audit import audit_flow
    from ai_conductor.flows.workflow import workflow_flow
    from ai_conductor.monitoring.push import push_run_metrics, start_collecting

    for flow in (workflow_flow, audit_flow):
        assert start_collecting in flow.on_running_hooks
        assert push_run_metrics in flow.on_completion_hooks
        assert push_run_metrics in flow.on_failure_hooks


def test_one_answer_to_whether_a_prefect_api_is_configured() -> None:
    from prefect.settings import PREFECT_API_URL, temporary_settings

    from ai_conductor import _prefect
    from ai_conductor.deployments.server import api_url
    from ai_conductor.server import _prefect_runs

    with temporary_settings(updates={PREFECT_API_URL: "http://127.0.0.1:9/api"}):
        assert _prefect.api_url() == api_url() == "http://127.0.0.1:9/api"
        assert _prefect.api_configured()
        assert _prefect_runs.api_configured()
    with temporary_settings(restore_defaults={PREFECT_API_URL}):
        assert _prefect.api_url() is None
        assert not _prefect.api_configured()
        assert not _prefect_runs.api_configured()


def test_importing_the_seam_does_not_import_monitoring() -> None:
    probe = "import sys, ai_conductor._prefect; print('ai_conductor.monitoring' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                         check=True, timeout=120)  # fmt: skip
    assert out.stdout.strip() == "False"


def test_the_import_contracts_hold() -> None:
    lint = BIN / "lint-imports"
    if not lint.exists():
        pytest.skip("import-linter is not installed (pip install -e '.[dev]')")
    root = Path(__file__).resolve().parents[1]
    env = {**os.environ, "PYTHONPATH": str(root)}  # this tree, not another installed copy
    out = subprocess.run([str(lint)], capture_output=True, text=True, timeout=300, cwd=root,
                         env=env)  # fmt: skip
    assert out.returncode == 0, out.stdout[-3000:]
    assert "0 broken" in out.stdout


def test_server_and_prefect_state_vocabularies_agree() -> None:
    from typing import get_args

    from ai_conductor.server import _prefect_runs
    from ai_conductor.server.http_models import RunStatusView
    from ai_conductor.server.params import FINAL_STATUSES, ServerRunStatus

    statuses = set(get_args(ServerRunStatus))
    assert statuses == {"pending", "running", "completed", "failed", "cancelled"}
    assert set(_prefect_runs._STATUS.values()) <= statuses
    assert statuses >= FINAL_STATUSES
    schema = RunStatusView.model_json_schema()["properties"]["status"]
    assert set(schema["enum"]) == statuses
