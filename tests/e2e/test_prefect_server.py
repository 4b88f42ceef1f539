"""End to end against a real `prefect server start` (SQLite, then PostgreSQL) and process workers:
deploy prefect.yaml, run `nightly-audit` from the CLI and through the API, read the run's
artifacts and the audit log; on PostgreSQL two workers share concurrent runs, and the fleet
flow fans three repositories out over a Dask cluster."""

from __future__ import annotations

import importlib.util
import json
import re
import shutil
import subprocess
import uuid
from pathlib import Path
from typing import Any

import pytest
import yaml
from prefect.client.schemas.objects import FlowRun

from tests.conftest import REPO, _missing
from tests.e2e import _barrier, _checks, _stack
from tests.e2e.conftest import Stack

pytestmark = [pytest.mark.slow, pytest.mark.timeout(300)]

AUDIT = "conductor-audit/nightly-audit"
DEPLOYMENTS = {
    d["name"] for d in yaml.safe_load((REPO / "prefect.yaml").read_text())["deployments"]
}


def audit_params(codebase: Path, fail_on: str = "none") -> dict[str, object]:
    """nightly-audit's parameters for ``codebase`` (the deployment's gate is fail_on: high)."""
    return {"request": {"codebase": str(codebase), "focus": ["security"], "fail_on": fail_on}}


def run_deployment(stack: Stack, name: str, params: dict[str, Any], timeout: float) -> FlowRun:
    """`prefect.deployments.run_deployment` against the stack's server (0: return at once)."""
    from prefect.deployments import run_deployment as run
    from prefect.settings import PREFECT_API_URL, temporary_settings

    with temporary_settings({PREFECT_API_URL: stack.server.api_url}):
        flow_run = run(name, parameters=params, timeout=timeout, poll_interval=1, as_subflow=False)
    assert isinstance(flow_run, FlowRun)
    return flow_run


def test_prefect_yaml_deploys_every_deployment(stack: Stack) -> None:
    assert stack.deploy is not None
    assert stack.deploy.returncode == 0, f"{stack.deploy_argv}:\n{stack.deploy.stdout[-4000:]}"

    def on_server() -> dict[str, uuid.UUID]:
        with _checks.client(stack.server.api_url) as c:
            return {d.name: d.id for d in c.read_deployments(limit=100)}

    deployed = on_server()
    assert set(deployed) == DEPLOYMENTS
    with _checks.client(stack.server.api_url) as c:
        pool = c.read_work_pool(_stack.WORK_POOL)
        assert pool.type == "process"
        nightly = c.read_deployment_by_name(AUDIT)
        assert nightly.work_pool_name == _stack.WORK_POOL
        schema = nightly.parameter_openapi_schema  # the UI renders the pydantic model as a form
        assert "request" in schema["properties"]
        assert "AuditRequest" in json.dumps(schema)
        crons = [s.schedule for s in c.read_deployment_schedules(nightly.id)]
        assert crons, "nightly-audit has no schedule"
        assert all(getattr(s, "cron", None) and getattr(s, "timezone", None) for s in crons)
    # the server's scheduler creates the cron runs of nightly-audit (in the future)
    scheduled = _checks.scheduled_runs(stack.server.api_url, nightly.id)
    assert scheduled, "the scheduler created no runs for nightly-audit"
    assert all(r.auto_scheduled for r in scheduled)
    if stack.backend == "postgresql":  # `conductor deploy` deployed; the plain CLI works too:
        assert stack.deploy_argv == [_stack.CONDUCTOR, "deploy", "--create-pool"]
        again = _stack.run([_stack.PREFECT, "--no-prompt", "deploy", "--all"], stack.cli_env(),
                           cwd=REPO, timeout=240)  # fmt: skip
        assert again.returncode == 0, again.stdout[-4000:]
        assert on_server() == deployed  # re-deploying updates in place


def test_nightly_audit_from_the_cli(workers: Stack, tmp_path: Path) -> None:
    codebase = _checks.make_codebase(tmp_path, f"cli-{workers.backend}")
    params = json.dumps(audit_params(codebase))
    argv = [_stack.PREFECT, "deployment", "run", AUDIT, "--params", params,
            "--watch", "--watch-timeout", "150"]  # fmt: skip
    done = _stack.run(argv, workers.cli_env(), cwd=tmp_path, timeout=200)
    assert done.returncode == 0, done.stdout[-4000:]
    assert "Flow run finished successfully in 'Completed'" in done.stdout
    match = re.search(r"UUID: ([0-9a-f-]{36})", done.stdout)
    assert match, done.stdout
    flow_run = _checks.wait_final(workers.server.api_url, uuid.UUID(match.group(1)), timeout=10)
    assert flow_run.state.is_completed()
    assert flow_run.parameters == audit_params(codebase)
    _checks.check_audit_run(workers.server.api_url, workers.audit_url, flow_run.id, codebase)
    assert _checks.worker_of(workers.server, flow_run.id) in workers.worker_names


def test_nightly_audit_through_the_api(workers: Stack, tmp_path: Path) -> None:
    codebase = _checks.make_codebase(tmp_path, f"api-{workers.backend}")
    flow_run = run_deployment(workers, AUDIT, audit_params(codebase), timeout=150)
    assert _checks.completed(flow_run), flow_run.state
    api = workers.server.api_url
    _checks.check_audit_run(api, workers.audit_url, flow_run.id, codebase)


@pytest.mark.parametrize("stack", ["sqlite"], indirect=True)
def test_run_workflow_runs_the_demo_spec(workers: Stack, tmp_path: Path) -> None:
    codebase = tmp_path / "sample"
    shutil.copytree(REPO / "examples" / "sample_project", codebase)
    params = {"request": {"spec_path": "workflows/demo.yaml", "codebase": str(codebase)}}
    flow_run = run_deployment(workers, "conductor-workflow/run-workflow", params, timeout=150)
    assert _checks.completed(flow_run), flow_run.state
    rows = _checks.audit_rows(workers.audit_url, run_id=str(flow_run.id))
    finished = {r["task_id"]: r["status"] for r in rows if r["action"] in ("succeeded", "finished")}
    expected = {"compile", "unit-tests", "line-count", "analyze", "summary"}
    assert {k: v for k, v in finished.items() if k in expected} == dict.fromkeys(
        expected, "completed"
    )
    assert {r["workflow_id"] for r in rows} == {"demo"}
    assert rows[0]["action"] == "started"
    assert rows[-1]["action"] == "finished"
    assert rows[-1]["status"] == "completed"


@pytest.mark.postgres
@pytest.mark.parametrize("stack", ["postgresql"], indirect=True)
def test_two_workers_share_concurrent_runs_and_the_gate_fails_one(
    workers: Stack, tmp_path: Path
) -> None:
    assert len(workers.worker_names) == 2
    passing = _checks.make_codebase(tmp_path, "gate-none")
    gated = _checks.make_codebase(tmp_path, "gate-high")
    runs = [
        run_deployment(workers, AUDIT, audit_params(passing, fail_on="none"), timeout=0),
        run_deployment(workers, AUDIT, audit_params(gated, fail_on="high"), timeout=0),
    ]
    api = workers.server.api_url
    ok, failed = (_checks.wait_final(api, r.id) for r in runs)
    assert ok.state.is_completed(), ok.state
    assert failed.state.is_failed(), failed.state
    # each worker takes one flow run at a time (--limit 1): the two runs went to both workers
    assert {_checks.worker_of(workers.server, r.id) for r in (ok, failed)} == set(
        workers.worker_names
    )
    _checks.check_audit_run(api, workers.audit_url, ok.id, passing)
    events = _checks.audit_rows(workers.audit_url, workflow_id=f"audit:{gated}")
    assert [(e["action"], e["status"]) for e in events] == [
        ("started", "running"),
        ("finished", "failed"),
    ]
    assert events[1]["metadata"]["gate"] == {"fail_on": "high", "failing": 1}


def git_repo(root: Path) -> str:
    """``root`` as a one-commit git repository; its file:// URL."""
    who = {"NAME": "t", "EMAIL": "t@example.org"}
    env = {f"GIT_{role}_{k}": v for role in ("AUTHOR", "COMMITTER") for k, v in who.items()}
    env["PATH"] = "/usr/bin:/bin"
    for argv in (["git", "init", "-q", "-b", "main"], ["git", "add", "-A"],
                 ["git", "commit", "-q", "-m", "init"]):  # fmt: skip
        subprocess.run(argv, cwd=root, env=env, check=True, capture_output=True)
    return root.as_uri()


@pytest.mark.postgres
@pytest.mark.parametrize("stack", ["postgresql"], indirect=True)
def test_fleet_audit_of_three_repositories_on_a_dask_cluster(
    workers: Stack, tmp_path: Path
) -> None:
    if importlib.util.find_spec("prefect_dask") is None:
        _missing("prefect-dask is not installed (pip install 'ai-conductor[dask]')")
    if "fleet-audit" not in DEPLOYMENTS:
        pytest.fail("prefect.yaml has no fleet-audit deployment")
    repos = [_checks.make_codebase(tmp_path, f"repo-{n}") for n in ("a", "b", "c")]
    barrier = tmp_path / "barrier"
    for repo in repos:  # each audit finishes only once all three are in progress
        _barrier.arm(repo, barrier, parties=3)
    out = tmp_path / "fleet-out"
    request = {
        "repos": [{"codebase": str(repos[0])}, {"codebase": str(repos[1])},
                  {"codebase": git_repo(repos[2]), "branch": "main"}],
        "task_runner": "dask", "max_concurrency": 3, "output_dir": str(out),
        "tools": ["ruff", "tests.e2e._barrier:BarrierTool"],
    }  # fmt: skip
    fleet = "conductor-fleet-audit/fleet-audit"
    flow_run = run_deployment(workers, fleet, {"request": request}, timeout=180)
    assert _checks.completed(flow_run), flow_run.state

    rollup = json.loads((out / "fleet-rollup.json").read_text())
    assert rollup["failed"] == []
    assert rollup["task_runner"] == "dask"
    assert [r["status"] for r in rollup["repos"]] == ["completed"] * 3
    # the three audits were in progress at the same time (the barrier did not time out)
    assert [r["warnings"] for r in rollup["repos"]] == [[], [], []]
    assert len(list(barrier.iterdir())) == 3
    assert rollup["totals"]["by_severity"]["high"] == 3
    for repo in rollup["repos"]:
        for name in ("analysis.json", "analysis.sarif", "analysis.md"):
            assert (out / repo["slug"] / name).is_file()
    api, run_id = workers.server.api_url, flow_run.id
    rollup_artifact = _checks.artifacts(api, run_id)["conductor-fleet-rollup"]
    assert all(repo["slug"] in rollup_artifact.data for repo in rollup["repos"])
    worker_logs = "".join(w.log.read_text(errors="replace") for w in workers.server.workers)
    assert "prefect.task_runner.dask - Creating a new Dask cluster" in worker_logs
    rows = _checks.audit_rows(workers.audit_url, workflow_id="fleet", run_id=str(run_id))
    assert rows[0]["action"] == "started"
    assert sorted(r["task_id"] for r in rows if r["action"] == "succeeded") == sorted(
        r["slug"] for r in rollup["repos"]
    )
    assert (rows[-1]["action"], rows[-1]["status"]) == ("finished", "completed")


@pytest.mark.parametrize("stack", ["sqlite"], indirect=True)
def test_weekly_improve_on_a_git_url_ends_with_one_pull_request(
    workers: Stack, tmp_path: Path
) -> None:
    """weekly-improve, run by a process worker: clone a local bare repository by URL, analyse,
    fix, tidy, push one branch and open one pull request on the GitHub stand-in (its token in
    a Prefect Secret block named by the run's environment); nothing of the token anywhere."""
    from prefect.blocks.system import Secret
    from prefect.settings import PREFECT_API_URL, temporary_settings

    from tests.forge._github import GitHubStandIn
    from tests.forge.conftest import APP, TOKEN, UTIL, git

    bare = tmp_path / "shop.git"
    git(tmp_path, "init", "-q", "--bare", "-b", "main", str(bare))
    work = tmp_path / "work"
    work.mkdir()
    (work / "app.py").write_text(APP)
    (work / "util.py").write_text(UTIL)
    git(work, "init", "-q", "-b", "main")
    git(work, "add", "-A")
    git(work, "commit", "-qm", "initial")
    git(work, "push", "-q", bare.as_uri(), "main")
    github = GitHubStandIn(bare, TOKEN).start()
    try:
        with temporary_settings({PREFECT_API_URL: workers.server.api_url}):
            Secret(value=TOKEN).save("e2e-github-token", overwrite=True)
        env = {"CONDUCTOR_FORGE": "github", "GITHUB_API_URL": github.url,
               "GITHUB_REPOSITORY": "acme/shop",
               "CONDUCTOR_GITHUB_TOKEN_BLOCK": "e2e-github-token"}  # fmt: skip
        params = {"request": {"codebase": bare.as_uri(), "branch": "main"}}
        from prefect.deployments import run_deployment as run

        with temporary_settings({PREFECT_API_URL: workers.server.api_url}):
            flow_run = run("conductor-improve/weekly-improve", parameters=params, timeout=250,
                           poll_interval=1, as_subflow=False,
                           job_variables={"env": env})  # fmt: skip
        assert isinstance(flow_run, FlowRun)
        assert _checks.completed(flow_run), flow_run.state
        assert github.errors == []
        assert len(github.pulls) == 1
        pull = github.pulls[1]
        assert (pull.head, pull.base) == ("conductor/improve/fix+refine", "main")
        assert "`ruff/F401`" in pull.body
        head = git(bare, "rev-parse", "conductor/improve/fix+refine")
        assert git(bare, "log", "--format=%s", f"main..{head}").count("conductor: ") >= 2

        api = workers.server.api_url
        found = _checks.artifacts(api, flow_run.id)
        link = found["conductor-improve-publication-pull-request"]
        assert "https://github.example/acme/shop/pull/1" in str(link.data)
        assert {"conductor-improve-fix-changes", "conductor-improve-refine-summary"} <= set(found)
        rows = _checks.audit_rows(workers.audit_url, run_id=str(flow_run.id))
        actions = {(r["task_id"], r["action"], r["status"]) for r in rows}
        assert ("fix+refine", "publish", "opened") in actions
        assert any(t == "fix" and a == "attempt" for t, a, _ in actions)
        wanted = ("pull request opened #1", "attempt 1: kept")
        messages = _checks.log_messages(api, flow_run.id, *wanted)
        leaks = [str(rows), str([a.data for a in found.values()]), str(messages), pull.body]
        assert all(TOKEN not in text for text in leaks)
        started = next(r for r in rows if r["action"] == "started" and r["task_id"] is None)
        clone = Path(started["metadata"]["codebase"])
        assert clone.name == "repo"
        assert clone.parent.name.startswith("conductor-improve-")
        assert not clone.parent.exists()  # the temporary clone is gone
    finally:
        github.stop()
