"""The improve flow (weekly-improve) on a real Prefect engine: a git URL cloned, analyze -> fix
-> refine, one pull request on the GitHub stand-in; visible in Prefect (run logger, keyed
artifacts) and in the audit log under the flow run's id."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest

from tests.conftest import REPO
from tests.forge._github import GitHubStandIn
from tests.forge.conftest import TOKEN, Setup, github_env

BRANCH = "conductor/improve/fix+refine"


@pytest.fixture
def configured(setup: Setup, github: GitHubStandIn, prefect_api: str,
               monkeypatch: pytest.MonkeyPatch) -> Setup:  # fmt: skip
    import logging

    import ai_conductor.flows.improve  # noqa: F401  (prefect configures logging at import)
    from ai_conductor.settings import reload_settings
    from ai_conductor.store import close_all

    # the session runs Prefect with PREFECT_LOGGING_LEVEL=WARNING (quiet tests); run loggers at
    # INFO here, as a worker or `conductor serve` has them, so the run's lines reach the API
    run_loggers = [logging.getLogger(n) for n in ("prefect.flow_runs", "prefect.task_runs")]
    levels = [logger.level for logger in run_loggers]
    for logger in run_loggers:
        logger.setLevel(logging.INFO)  # setLevel: also clears the loggers' level caches
    for key, value in {**github_env(github), "CONDUCTOR_FORGE": "github",
                       "CONDUCTOR_HOME": str(setup.home)}.items():  # fmt: skip
        monkeypatch.setenv(key, value)
    close_all()
    reload_settings()
    yield setup
    for logger, level in zip(run_loggers, levels, strict=True):
        logger.setLevel(level)
    close_all()
    reload_settings()


def _logs(flow_run_id: uuid.UUID) -> list[str]:
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import LogFilter, LogFilterFlowRunId
    from prefect.logging.handlers import APILogHandler

    APILogHandler().flush()

    with get_client(sync_client=True) as client:
        found = client.read_logs(LogFilter(flow_run_id=LogFilterFlowRunId(any_=[flow_run_id])))
    return [entry.message for entry in found]


def _artifacts(flow_run_id: uuid.UUID) -> dict[str, object]:
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterFlowRunId

    flt = ArtifactFilter(flow_run_id=ArtifactFilterFlowRunId(any_=[flow_run_id]))
    with get_client(sync_client=True) as client:
        return {a.key: a for a in client.read_artifacts(artifact_filter=flt) if a.key}


def test_improve_flow_clones_fixes_tidies_and_opens_one_pull_request(
    configured: Setup, github: GitHubStandIn
) -> None:
    from ai_conductor.flows.improve import ImproveRequest, improve_flow
    from ai_conductor.store import open_audit_log

    setup = configured
    request = ImproveRequest(codebase=setup.bare.as_uri(), branch="main",
                             spec_path=str(REPO / "workflows" / "improve.yaml"))  # fmt: skip
    summary = improve_flow(request)

    assert summary["status"] == "completed"
    published = summary["published"]
    assert published["status"] == "opened", published
    assert published["branch"] == BRANCH
    assert published["base"] == "main"
    assert github.errors == []
    assert len(github.pulls) == 1
    assert github.pulls[1].head == BRANCH
    assert setup.remote_branch(BRANCH) is not None
    assert set(published["commits"]) >= {"file:app.py", "file:util.py"}

    run_id = uuid.UUID(summary["run_id"])
    messages = "\n".join(_logs(run_id))
    assert "file:app.py attempt 1: kept" in messages
    assert "pull request opened #1" in messages
    assert "task 'fix' (agent implementer) started" in messages
    keys = set(_artifacts(run_id))
    assert {"conductor-improve-fix-summary", "conductor-improve-fix-changes",
            "conductor-improve-refine-summary", "conductor-improve-refine-changes",
            "conductor-improve-publication-summary", "conductor-improve-publication-changes",
            "conductor-improve-publication-pull-request"} <= keys, keys  # fmt: skip

    events = open_audit_log().query(run_id=summary["run_id"], limit=1000)
    by_task = {(e.task_id, e.action) for e in events}
    assert ("fix", "attempt") in by_task
    assert ("refine", "attempt") in by_task
    assert ("fix+refine", "publish") in by_task
    assert TOKEN not in str([e.model_dump() for e in events])

    again = improve_flow(request)
    assert again["published"]["status"] in ("unchanged", "updated")
    assert len(github.pulls) == 1
    assert len(github.made("POST", r"/repos/acme/shop/pulls")) == 1
    assert github.errors == []


def test_the_clone_keeps_no_credentials_and_is_removed(tmp_path: Path) -> None:
    from ai_conductor.flows.checkout import checkout

    bare = tmp_path / "r.git"
    import subprocess

    subprocess.run(["git", "init", "-q", "--bare", str(bare)], check=True)
    with (
        pytest.raises(Exception, match="cannot clone"),  # empty repository: nothing to clone
        checkout(bare.as_uri(), "nope", purpose="improve"),
    ):
        pass


def test_a_spec_task_with_publish_true_opens_its_own_pull_request(
    configured: Setup, github: GitHubStandIn
) -> None:
    from ai_conductor.api import run_spec

    spec = {
        "workflow_id": "nightly-fix",
        "tasks": [
            {"id": "analyze", "agent": "analyzer"},
            {"id": "fix", "agent": "implementer", "dependencies": ["analyze"],
             "inputs": {"publish": True, "forge": "github", "labels": ["bot"]}},
        ],
    }  # fmt: skip
    result = run_spec(spec, codebase=configured.project)
    assert result.ok, {k: t.error for k, t in result.tasks.items()}
    out = result.tasks["fix"].output or {}
    assert out["published"]["status"] == "opened"
    assert github.pulls[1].head == "conductor/nightly-fix/fix"
    assert github.pulls[1].labels == ["bot"]
    assert f"`{result.run_id}`" in github.pulls[1].body  # the audit run id of the workflow
    assert github.errors == []
