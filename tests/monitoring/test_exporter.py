"""`conductor metrics serve`: the standalone exporter, a real subprocess scraped over HTTP."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from ai_conductor import run_spec
from tests.conftest import BIN, cli_env
from tests.monitoring.conftest import Exporter, get, samples, stop

pytestmark = pytest.mark.slow
PY = sys.executable


def workflow(workflow_id: str, *exit_codes: int) -> dict[str, object]:
    tasks = [
        {"id": f"step-{i}", "agent": "command",
         "inputs": {"command": [PY, "-c", f"import sys; sys.exit({code})"]}}
        for i, code in enumerate(exit_codes)
    ]  # fmt: skip
    return {"workflow_id": workflow_id, "tasks": tasks}


def counts(text: str, name: str, label: str) -> dict[str, float]:
    return {s.labels[label]: s.value for s in samples(text, name)}


def test_the_exporter_serves_the_audit_log_of_runs_in_other_processes(
    start_exporter: Callable[[], Exporter], codebase: Path
) -> None:
    before = run_spec(workflow("before", 0, 0), codebase=codebase)  # written before it starts
    assert before.ok
    exp = start_exporter()
    text = exp.scrape()
    assert counts(text, "conductor_workflows_total", "status") == {"completed": 1}
    # the histogram counts tasks finished since the exporter started: none yet
    assert not samples(text, "conductor_task_duration_seconds_count")
    assert set(counts(text, "conductor_findings", "severity")) == {
        "critical", "high", "medium", "low", "info"
    }  # fmt: skip
    after = run_spec(workflow("after", 0, 0, 3), codebase=codebase)
    assert not after.ok
    text = exp.scrape()
    assert counts(text, "conductor_workflows_total", "status") == {
        "completed": 1, "failed": 1
    }  # fmt: skip
    done = {
        (s.labels["agent_role"], s.labels["status"]): s.value
        for s in samples(text, "conductor_task_duration_seconds_count")
    }
    assert done == {("command", "completed"): 2}  # the failed task has no duration
    (total,) = samples(text, "conductor_task_duration_seconds_sum")
    expected = sum(t.duration_s or 0 for t in after.tasks.values())
    assert total.value == pytest.approx(expected, abs=1e-3)
    again = {
        (s.labels["agent_role"], s.labels["status"]): s.value
        for s in samples(exp.scrape(), "conductor_task_duration_seconds_count")
    }
    assert again == done  # each row is counted once
    assert get(f"{exp.url}/nope")[0] == 404
    assert get(f"{exp.url}/healthz") == (200, "ok\n")
    assert stop(exp.proc) == 0  # SIGTERM: a clean exit


def test_a_busy_port_is_a_clear_error(
    prefect_api: str, conductor_home: Path, start_exporter: Callable[[], Exporter]
) -> None:
    port = start_exporter().url.rsplit(":", 1)[1]
    done = subprocess.run(
        [str(BIN / "conductor"), "metrics", "serve", "--port", port],
        env=cli_env(prefect_api, conductor_home), capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert done.returncode == 3
    assert f"cannot serve on 127.0.0.1:{port}" in done.stderr
