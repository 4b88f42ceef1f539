"""`conductor deploy` as a real subprocess: exit codes, every problem listed, a real deploy."""

from __future__ import annotations

import socket
import subprocess
from pathlib import Path

import pytest

from tests.conftest import BIN, REPO, cli_env
from tests.deployments.conftest import DemoProject

pytestmark = pytest.mark.slow


def conductor(
    *args: str, env: dict[str, str], cwd: Path = REPO
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(BIN / "conductor"), *args], capture_output=True, text=True, env=env, cwd=cwd,
        timeout=300,
    )  # fmt: skip


def nothing_listens() -> str:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{s.getsockname()[1]}/api"


def test_check_exit_codes_and_every_problem_listed(
    tmp_path: Path, demo_project: DemoProject
) -> None:
    env = cli_env(nothing_listens(), tmp_path / "home")
    demo_project.write(
        """
        deployments:
          - {name: a, entrypoint: "demo_flows.py:plain_function", work_pool: {name: p}}
          - name: b
            entrypoint: demo_flows.py:demo_flow
            parameters: {request: {codebase: ., fail-on: high}}
            schedules: [{cron: "0 25 * * *", timezone: Europe/Berlin}]
            work_pool: {name: p}
        """
    )
    bad = conductor("deploy", "--check", "--prefect-file", str(demo_project.file), env=env)
    assert bad.returncode == 2, bad.stderr
    assert "4 problems" in bad.stderr
    for expected in ("a: entrypoint 'demo_flows.py:plain_function'", "unknown key 'fail-on'",
                     'Invalid cron string: "0 25 * * *"', "is unreachable"):  # fmt: skip
        assert expected in bad.stderr
    assert "Traceback" not in bad.stderr + bad.stdout

    no_server = {k: v for k, v in env.items() if k != "PREFECT_API_URL"}
    real = conductor("deploy", "--check", env=no_server)  # the real prefect.yaml, from REPO
    assert real.returncode == 2
    assert "PREFECT_API_URL is not set" in real.stderr
    assert "prefect server start" in real.stderr
    assert "1 problem" in real.stderr  # the file itself is fine

    missing = conductor("deploy", "--check", "--prefect-file", str(tmp_path / "x.yaml"), env=env)
    assert missing.returncode == 2
    assert "x.yaml does not exist" in missing.stderr


def test_check_then_create_pool(
    prefect_api: str, tmp_path: Path, demo_project: DemoProject
) -> None:
    env = cli_env(prefect_api, tmp_path / "home")
    args = ("deploy", "--check", "--prefect-file", str(demo_project.file))
    without = conductor(*args, env=env, cwd=tmp_path)
    assert without.returncode == 2
    assert f"work pool '{demo_project.pool}' does not exist" in without.stderr
    created = conductor(*args, "--create-pool", env=env, cwd=tmp_path)
    assert created.returncode == 0, created.stderr
    assert f"created work pool '{demo_project.pool}' (type process)" in created.stderr
    assert "demo-flow/nightly" in created.stderr
    assert "cron 0 2 * * * Europe/Berlin" in created.stderr
    again = conductor(*args, env=env, cwd=tmp_path)
    assert again.returncode == 0
    assert "created" not in again.stderr


def test_a_failing_prefect_deploy_exits_3(
    prefect_api: str, tmp_path: Path, demo_project: DemoProject
) -> None:
    (demo_project.root / "prefect.yaml").write_text(
        demo_project.file.read_text()
        + "build:\n  - prefect.deployments.steps.run_shell_script:\n      script: 'false'\n"
    )
    env = cli_env(prefect_api, tmp_path / "home")
    run = conductor("deploy", "--create-pool", "--prefect-file", str(demo_project.file), env=env)
    assert run.returncode == 3, run.stdout + run.stderr
    assert "prefect deploy exited with" in run.stderr
    assert "run_shell_script` failed" in run.stdout + run.stderr


def test_deploy_registers_every_deployment_with_its_pool(prefect_api: str, tmp_path: Path) -> None:
    """`conductor deploy --create-pool` from the repository: what prefect.yaml says, on the API."""
    from prefect.client.orchestration import get_client

    from ai_conductor.deployments import load_project

    project = load_project(REPO / "prefect.yaml")
    with get_client(sync_client=True) as client:
        for deployment in client.read_deployments():
            if deployment.name in {d.name for d in project.deployments}:
                client.delete_deployment(deployment.id)
    run = conductor("deploy", "--create-pool", env=cli_env(prefect_api, tmp_path / "home"))
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    assert "$ prefect --no-prompt deploy --prefect-file" in run.stderr
    assert "--all" in run.stderr
    with get_client(sync_client=True) as client:
        assert client.read_work_pool("conductor-process").type == "process"
        found = {d.name: d for d in client.read_deployments()}
    for entry in project.deployments:
        deployment = found[entry.name]
        assert deployment.work_pool_name == "conductor-process"
        assert deployment.parameters == entry.parameters
        assert deployment.tags == entry.tags
        assert [(s.schedule.cron, s.schedule.timezone, s.active) for s in deployment.schedules] == [  # type: ignore[union-attr]
            (s.cron, s.timezone, True) for s in entry.schedules
        ]
        assert deployment.pull_steps == [
            {"prefect.deployments.steps.set_working_directory": {"directory": str(REPO)}}
        ]
        schema = deployment.parameter_openapi_schema or {}
        assert set(entry.parameters) <= set(schema.get("properties", {}))
        assert not deployment.paused
