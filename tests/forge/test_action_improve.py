"""The composite action's improve mode, run step by step as GitHub runs it (the local runner of
tests/test_github_actions.py), against a checkout whose origin is a bare repository and the
GitHub stand-in; and the scheduled improve workflow's permissions."""

from __future__ import annotations

from pathlib import Path

from tests.conftest import REPO
from tests.forge._github import GitHubStandIn
from tests.forge.conftest import TOKEN, Setup
from tests.test_github_actions import ACTION, load, run_action


def test_improve_mode_opens_one_pull_request(
    setup: Setup, github: GitHubStandIn, prefect_api: str, tmp_path: Path
) -> None:
    env = {"GITHUB_API_URL": github.url, "GITHUB_REPOSITORY": "acme/shop",
           "PREFECT_API_URL": prefect_api}  # fmt: skip
    run = run_action({"mode": "improve", "install": "false", "token": TOKEN}, setup.project,
                     tmp_path, env=env)  # fmt: skip
    assert not run.failed, [s.log[-3000:] for s in run.steps if s.returncode]
    ran = {s.name: s.would_run for s in run.steps}
    assert ran["Improve"]
    assert not ran["Analyze"]
    assert not ran["Quality gate"]
    assert not ran["Upload SARIF to code scanning"]
    assert run.outputs["pull-request"] == "https://github.example/acme/shop/pull/1"
    assert github.pulls[1].head == "conductor/improve/fix+refine"
    assert github.errors == []
    assert TOKEN not in run.summary + "".join(s.log for s in run.steps)
    assert TOKEN not in (setup.project / ".git" / "config").read_text()


def test_improve_mode_without_a_token_stops_clearly(setup: Setup, tmp_path: Path) -> None:
    run = run_action({"mode": "improve", "install": "false", "token": ""}, setup.project,
                     tmp_path)  # fmt: skip
    improve = next(s for s in run.steps if s.name == "Improve")
    assert improve.returncode == 2
    assert "publish needs a token" in improve.log


def test_the_improve_workflow_has_the_permissions_it_needs() -> None:
    wf = load(REPO / ".github" / "workflows" / "improve.yml")
    assert wf["on"]["schedule"][0]["cron"]
    assert "workflow_dispatch" in wf["on"]
    assert wf["permissions"] == {"contents": "read"}
    (job,) = wf["jobs"].values()
    assert job["permissions"] == {"contents": "write", "pull-requests": "write"}
    (step,) = [s for s in job["steps"] if s.get("uses") == "./"]
    assert step["with"]["mode"] == "improve"
    assert str(step["with"]["publish"]).lower() == "true"
    assert load(ACTION)["inputs"]["token"]["default"] == "${{ github.token }}"
