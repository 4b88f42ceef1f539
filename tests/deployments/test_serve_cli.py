"""`conductor serve` (no --http) as a real subprocess against the session's Prefect API."""

from __future__ import annotations

import signal
import subprocess
import time
from pathlib import Path
from typing import Any

import pytest

from ai_conductor.deployments import load_project
from tests.conftest import BIN, REPO, cli_env

pytestmark = pytest.mark.slow

PROJECT = load_project(REPO / "prefect.yaml")
OURS = {d.name for d in PROJECT.deployments}


def our_deployments() -> dict[str, Any]:
    from prefect.client.orchestration import get_client

    with get_client(sync_client=True) as client:
        return {d.name: d for d in client.read_deployments() if d.name in OURS}


@pytest.fixture
def no_deployments(prefect_api: str) -> None:
    """Start from an API without this project's deployments (other tests register them too)."""
    from prefect.client.orchestration import get_client

    with get_client(sync_client=True) as client:
        for deployment in our_deployments().values():
            client.delete_deployment(deployment.id)


def start_serve(prefect_api: str, tmp_path: Path, *args: str) -> subprocess.Popen[str]:
    log = (tmp_path / "serve.log").open("w")
    return subprocess.Popen(
        [str(BIN / "conductor"), "serve", "--prefect-file", str(REPO / "prefect.yaml"), *args],
        env=cli_env(prefect_api, tmp_path / "home"), cwd=tmp_path, stdout=log,
        stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip


def wait_for(names: set[str], proc: subprocess.Popen[str], log: Path) -> dict[str, Any]:
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        assert proc.poll() is None, f"conductor serve exited early:\n{log.read_text()[-3000:]}"
        found = our_deployments()
        if names <= set(found) and not any(found[n].paused for n in names):
            return found
        time.sleep(1)
    pytest.fail(f"deployments {names} not served:\n{log.read_text()[-3000:]}")


def stop(proc: subprocess.Popen[str], sig: signal.Signals, log: Path) -> str:
    proc.send_signal(sig)
    try:
        code = proc.wait(timeout=60)
    except subprocess.TimeoutExpired:
        proc.kill()
        pytest.fail(f"conductor serve ignored {sig.name}:\n{log.read_text()[-3000:]}")
    text = log.read_text()
    assert code == 0, text[-3000:]
    assert "Traceback" not in text, text[-3000:]
    return text


def test_serve_registers_schedules_runs_a_deployment_and_stops_on_sigterm(
    no_deployments: None, prefect_api: str, tmp_path: Path
) -> None:
    from prefect.client.schemas.objects import StateType
    from prefect.deployments import run_deployment

    log = tmp_path / "serve.log"
    proc = start_serve(prefect_api, tmp_path)
    text = ""
    try:
        found = wait_for(OURS, proc, log)
        for entry in PROJECT.deployments:
            served = found[entry.name]
            assert served.parameters == entry.parameters
            assert served.tags == entry.tags
            assert served.description == entry.description
            assert [(s.schedule.cron, s.schedule.timezone) for s in served.schedules] == [
                (s.cron, s.timezone) for s in entry.schedules
            ]
            assert all(s.active for s in served.schedules)
        # a run started through the API executes in the serving process
        run = run_deployment("weaviate-init/weaviate-init", timeout=180)
        assert run.state is not None
        assert run.state.type == StateType.COMPLETED, run.state
    finally:
        if proc.poll() is None:
            text = stop(proc, signal.SIGTERM, log)
    assert "stopped; the served deployments are paused" in text
    after = our_deployments()
    assert all(after[name].paused for name in OURS)


def test_serve_chosen_deployments_resumes_them_and_stops_on_ctrl_c(
    no_deployments: None, prefect_api: str, tmp_path: Path
) -> None:
    log = tmp_path / "serve.log"
    first = start_serve(prefect_api, tmp_path, "--name", "nightly-audit", "--limit", "1")
    try:
        wait_for({"nightly-audit"}, first, log)
    finally:
        stop(first, signal.SIGTERM, log)
    assert our_deployments()["nightly-audit"].paused
    again = start_serve(prefect_api, tmp_path, "--name", "nightly-audit", "--name", "prune")
    try:
        found = wait_for({"nightly-audit", "prune"}, again, log)  # no longer paused
        assert set(found) == {"nightly-audit", "prune"}
    finally:
        text = stop(again, signal.SIGINT, log)
    assert "stopped" in text
    assert our_deployments()["prune"].paused


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM], ids=["ctrl-c", "sigterm"])
def test_serve_stopped_the_moment_its_deployments_turn_active_pauses_every_one(
    sig: signal.Signals, no_deployments: None, prefect_api: str, tmp_path: Path
) -> None:
    """The deployments are active on the API as soon as they are applied, before Prefect's
    runner starts: a signal in that window must still pause them (it used to kill the process
    on SIGTERM, or leave them active on Ctrl-C while saying they were paused)."""
    log = tmp_path / "serve.log"
    proc = start_serve(prefect_api, tmp_path, "--name", "nightly-audit", "--name", "prune")
    deadline = time.monotonic() + 120
    try:
        while True:  # poll fast: the signal must land as close to the apply as we can
            assert proc.poll() is None, log.read_text()[-3000:]
            assert time.monotonic() < deadline, log.read_text()[-3000:]
            found = our_deployments()
            if "prune" in found and not found["prune"].paused:
                break
            time.sleep(0.02)
    finally:
        text = stop(proc, sig, log)
    after = our_deployments()
    assert after["nightly-audit"].paused, text[-3000:]
    assert after["prune"].paused, text[-3000:]
    assert "the served deployments are paused until served again" in text
    assert "is still active" not in text


def test_serve_refuses_a_broken_project_before_serving(tmp_path: Path) -> None:
    bad = tmp_path / "prefect.yaml"
    bad.write_text("deployments:\n  - {name: x, entrypoint: 'nope.py:f'}\n")
    run = subprocess.run(
        [str(BIN / "conductor"), "serve", "--prefect-file", str(bad), "--name", "y"],
        env=cli_env("http://127.0.0.1:9/api", tmp_path / "home"), capture_output=True, text=True,
        timeout=120,
    )  # fmt: skip
    assert run.returncode == 2
    assert "no deployment named 'y'" in run.stderr
    assert "is unreachable" in run.stderr
    assert "Traceback" not in run.stderr
