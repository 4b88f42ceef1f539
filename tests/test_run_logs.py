"""The Prefect UI's Logs tab tells the story of a run started by the CLI.

`conductor run` quiets Prefect's console; it used to do that with PREFECT_LOGGING_LEVEL=WARNING,
which drops every INFO line before the API handler sees it ("This run didn't generate logs").
"""

from __future__ import annotations

import json
import os
import subprocess
import uuid
from pathlib import Path

from tests.conftest import BIN, cli_env


def test_a_cli_run_sends_its_task_lines_to_the_prefect_api(
    prefect_api: str, tmp_path: Path
) -> None:
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import (
        FlowRunFilter,
        FlowRunFilterName,
        LogFilter,
        LogFilterFlowRunId,
    )

    name = f"logs-{uuid.uuid4().hex[:8]}"
    spec = tmp_path / "spec.yaml"
    spec.write_text(f"workflow_id: {name}\ntasks:\n  - id: hello\n    agent: noop\n")
    env = cli_env(prefect_api, tmp_path / "home")
    env.pop("PREFECT_LOGGING_LEVEL", None)  # as a user's shell has it: unset
    done = subprocess.run([str(BIN / "conductor"), "run", "--config", str(spec), "--json"],
                          env=env, cwd=tmp_path, capture_output=True, text=True, timeout=300,
                          check=False)  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "task 'hello'" not in done.stderr  # the console stays quiet
    run_id = json.loads(done.stdout)["run_id"]
    with get_client(sync_client=True) as client:
        (flow_run,) = client.read_flow_runs(
            flow_run_filter=FlowRunFilter(name=FlowRunFilterName(any_=[name]))
        )
        flt = LogFilter(flow_run_id=LogFilterFlowRunId(any_=[flow_run.id]))
        messages = [entry.message for entry in client.read_logs(flt)]
    assert f"task 'hello' (agent noop) started, attempt 1 (run {run_id})" in messages
    assert any(m.startswith("task 'hello' finished in ") for m in messages), messages
    assert os.environ.get("PREFECT_LOGGING_LEVEL") == "WARNING"  # the session's, untouched
