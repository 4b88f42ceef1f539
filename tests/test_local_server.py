"""The shared local Prefect server: the first `conductor run` without PREFECT_API_URL starts it,
later runs (even concurrent first ones) reuse it, `conductor server stop` ends it; a server that
does not come up in time fails the run with exit code 3 and leaves no process behind."""

from __future__ import annotations

import json
import os
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests._proc import alive, with_environ
from tests.conftest import BIN

pytestmark = pytest.mark.slow
SPEC = (
    "workflow_id: two\ntasks:\n  - {id: a, agent: noop, inputs: {x: 1}}\n"
    "  - {id: b, agent: noop, dependencies: [a]}\n"
)


@pytest.fixture
def local(tmp_path: Path) -> Iterator[dict[str, str]]:
    """Environment of a user without PREFECT_API_URL, with private homes; whatever server the
    test started is stopped afterwards and no process of this Prefect home may survive."""
    if not Path("/proc/self/environ").exists():
        pytest.skip("needs Linux /proc to check that no server process is left")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CONDUCTOR_", "PREFECT_"))}
    env |= {"CONDUCTOR_HOME": str(tmp_path / "home"), "PREFECT_HOME": str(tmp_path / "prefect"),
            "CONDUCTOR_PREFECT_SERVER": "shared"}  # fmt: skip
    (tmp_path / "spec.yaml").write_text(SPEC)
    (tmp_path / "code").mkdir()
    (tmp_path / "code" / "m.py").write_text("x = 1\n")
    try:
        yield env
    finally:
        conductor(env, "server", "stop")
        deadline = time.monotonic() + 30
        while with_environ("PREFECT_HOME", env["PREFECT_HOME"]) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert with_environ("PREFECT_HOME", env["PREFECT_HOME"]) == set(), "server left running"


def conductor(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(BIN / "conductor"), *args], env=env, capture_output=True,
                          text=True, timeout=300)  # fmt: skip


def run_argv(tmp_path: Path) -> list[str]:
    spec, code = tmp_path / "spec.yaml", tmp_path / "code"
    return [str(BIN / "conductor"), "run", "--config", str(spec), "--codebase", str(code), "--json"]


def test_first_runs_start_one_shared_server_later_runs_reuse_it_stop_ends_it(
    local: dict[str, str], tmp_path: Path
) -> None:
    firsts = [subprocess.Popen(run_argv(tmp_path), env=local, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True) for _ in range(2)]  # fmt: skip
    outs = [p.communicate(timeout=300) for p in firsts]
    assert [p.returncode for p in firsts] == [0, 0], outs
    started = [err for _, err in outs if "started a shared Prefect server" in err]
    assert len(started) == 1, outs  # two concurrent first runs: one server
    status = json.loads(conductor(local, "server", "status", "--json").stdout)
    assert status["running"] is True
    assert status["api"].startswith("http://127.0.0.1:")
    again = subprocess.run(run_argv(tmp_path), env=local, capture_output=True, text=True,
                           timeout=300)  # fmt: skip
    assert again.returncode == 0, again.stderr
    assert "started a shared Prefect server" not in again.stderr
    assert "Still processing items" not in again.stderr  # Prefect's exit-time sender chatter
    assert json.loads(again.stdout)["tasks"]["a"]["status"] == "reused"
    # all three flow runs went to the shared server (and no temporary one was started)
    runs = httpx.post(f"{status['api']}/flow_runs/filter", json={}, timeout=30).json()
    assert sorted(r["name"] for r in runs) == ["two", "two", "two"]
    stopped = conductor(local, "server", "stop")
    assert "stopped the shared Prefect server" in stopped.stderr
    assert not alive(status["pid"])
    after = json.loads(conductor(local, "server", "status", "--json").stdout)
    assert after == {"running": False, "api": None, "ui": None, "pid": None}


def test_a_shared_server_not_up_in_time_fails_the_run_with_exit_3_and_is_stopped(
    local: dict[str, str], tmp_path: Path
) -> None:
    env = {**local, "CONDUCTOR_PREFECT_SERVER_START_TIMEOUT": "0.5"}  # no Prefect starts so fast
    run = subprocess.run(run_argv(tmp_path), env=env, capture_output=True, text=True, timeout=300)
    assert run.returncode == 3, run.stderr
    assert "the local Prefect server did not answer within 0.5 s" in run.stderr
    assert "CONDUCTOR_PREFECT_SERVER_START_TIMEOUT" in run.stderr
    assert "Traceback" not in run.stderr
    assert "internal error" not in run.stderr
    assert with_environ("PREFECT_HOME", local["PREFECT_HOME"]) == set()
    assert not (Path(local["PREFECT_HOME"]) / "ai-conductor-server.json").exists()


def test_prefects_temporary_server_not_up_in_time_is_exit_3_not_an_internal_error(
    local: dict[str, str], tmp_path: Path
) -> None:
    env = {**local, "CONDUCTOR_PREFECT_SERVER": "temporary",
           "CONDUCTOR_PREFECT_SERVER_START_TIMEOUT": "1"}  # fmt: skip
    run = subprocess.run(run_argv(tmp_path), env=env, capture_output=True, text=True, timeout=300)
    assert run.returncode == 3, run.stderr
    assert "Prefect's temporary server did not come up within 1 s" in run.stderr
    assert "Traceback" not in run.stderr
    assert "internal error" not in run.stderr
