"""Kill -9 a real `conductor run` mid-run, run it again: finished tasks are reused, not redone."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from ai_conductor.settings import get_settings
from ai_conductor.store import open_audit_log
from tests.conftest import BIN, cli_env, wait_for

pytestmark = pytest.mark.slow
PY = sys.executable

SLOW = """
import os, pathlib, sys, time
marker = pathlib.Path(sys.argv[1])
if marker.exists():
    print("second time: finishing at once")
    sys.exit(0)
marker.write_text(str(os.getpid()))
time.sleep(300)
"""


def test_sigkill_mid_run_then_rerun_reuses_finished_tasks(
    prefect_api: str, conductor_home: Path, tmp_path: Path, codebase: Path
) -> None:
    counter, marker = tmp_path / "executions", tmp_path / "slow.pid"
    count = "import sys; open(sys.argv[1], 'a').write(sys.argv[2] + chr(10))"

    def cmd(label: str) -> dict[str, list[str]]:
        return {"command": [PY, "-c", count, str(counter), label]}

    spec = {
        "workflow_id": "crashy",
        "settings": {"max_parallel_tasks": 2},
        "tasks": [
            {"id": "a", "agent": "command", "inputs": cmd("a")},
            {"id": "b", "agent": "command", "dependencies": ["a"],
             "inputs": cmd("b")},
            {"id": "c", "agent": "command", "inputs": cmd("c")},
            {"id": "slow", "agent": "command", "dependencies": ["b", "c"],
             "inputs": {"command": [PY, "-c", SLOW, str(marker)]}},
            {"id": "final", "agent": "noop", "dependencies": ["slow"]},
        ],
    }  # fmt: skip
    spec_file = tmp_path / "crashy.json"
    spec_file.write_text(json.dumps(spec))
    argv = [str(BIN / "conductor"), "run", "--config", str(spec_file), "--codebase", str(codebase)]
    env = cli_env(prefect_api, conductor_home)
    log = open_audit_log(get_settings())

    def succeeded() -> set[str]:
        return {r.task_id or "" for r in log.query(workflow_id="crashy", action="succeeded")}

    first = subprocess.Popen(argv, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        wait_for(marker.exists, "the slow task to start", 120)
        wait_for(
            lambda: succeeded() >= {"a", "b", "c"}, "a, b and c to be logged as succeeded", 120
        )
        first.send_signal(signal.SIGKILL)
        first.communicate(timeout=30)
    finally:
        if first.poll() is None:
            first.kill()
        if marker.exists():  # the killed run's child lives on in its own session, as it would
            with contextlib.suppress(ProcessLookupError, ValueError):
                os.kill(int(marker.read_text()), signal.SIGKILL)
    assert first.returncode == -signal.SIGKILL
    assert sorted(counter.read_text().split()) == ["a", "b", "c"]
    first_run = {r.run_id for r in log.query(workflow_id="crashy")}
    assert len(first_run) == 1

    second = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=300)
    assert second.returncode == 0, second.stderr
    result = json.loads(second.stdout)
    status = {k: v["status"] for k, v in result["tasks"].items()}
    assert status == {
        "a": "reused", "b": "reused", "c": "reused", "slow": "completed", "final": "completed"
    }  # fmt: skip
    assert sorted(counter.read_text().split()) == ["a", "b", "c"], "a finished task re-executed"

    rerun = [r for r in log.query(run_id=result["run_id"], limit=100) if r.task_id]
    actions = {(r.task_id, r.action) for r in rerun}
    assert {("a", "reused"), ("b", "reused"), ("c", "reused")} <= actions
    assert not {("a", "started"), ("b", "started"), ("c", "started")} & actions
    assert ("slow", "succeeded") in actions
    # the killed run's trail is kept: its tasks' events are still there, with no 'finished'
    killed = log.query(run_id=first_run.pop(), limit=100)
    assert {(r.task_id, r.action) for r in killed} >= {("a", "succeeded"), ("slow", "started")}
    assert not [r for r in killed if r.action == "finished"]
