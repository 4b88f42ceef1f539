"""weekly-improve: clone a repository (a git URL and branch, or use a directory), run the
improve workflow (analyze -> fix -> refine) on it, publish one pull request, clean up.

The workflow is ``workflows/improve.yaml`` (``spec_path``), run by the same task graph as
`conductor run` but always fresh (the clone is new each time, so nothing persisted from an
earlier run may stand in for its branches). The kept changes of every implementer and refiner
task go into one pull request on ``conductor/<workflow>/<task>+<task>`` (fix first, then the
tidy-up; a change that does not apply on top of the others is left out with the reason).
A clone URL's own ``user:token@`` is used for git only, per command: the clone's
``.git/config`` holds the URL without it. The temporary clone is removed at the end.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from prefect import task
from prefect.runtime import flow_run
from pydantic import BaseModel, ConfigDict, Field

from ai_conductor import _runtime
from ai_conductor._prefect import conductor_flow, run_logger
from ai_conductor._urls import without_userinfo
from ai_conductor.errors import WorkflowFailed
from ai_conductor.flows.checkout import checkout
from ai_conductor.flows.engine import GraphRun
from ai_conductor.publish.gitops import Credentials
from ai_conductor.publish.models import Publication, PublishOptions, PublishResult
from ai_conductor.settings import get_settings
from ai_conductor.spec import load_spec
from ai_conductor.store import open_audit_log


class ImproveRequest(BaseModel):
    """Parameters of an improve run; the Prefect UI renders this as a form."""

    model_config = ConfigDict(use_attribute_docstrings=True)

    codebase: str = "."
    """A git URL (https://, ssh://, git@, file://) to clone, or a directory on the worker."""
    branch: str | None = None
    """Branch to check out and open the pull request against (default: the remote's HEAD)."""
    spec_path: str = "workflows/improve.yaml"
    """The improve workflow: analyze, then implementer and refiner tasks."""
    publish: bool = True
    """Push the kept changes and open (or update) one pull request."""
    remote: str = "origin"
    """The remote to publish to (a clone's is always ``origin``)."""
    draft: bool = False
    """Open the pull request as a draft."""
    forge: Literal["github", "gitlab", "gitea"] | None = None
    """The forge; default: ``CONDUCTOR_FORGE``, else from the URL (github.com, gitlab.com...)."""
    labels: list[str] = Field(default_factory=lambda: ["ai-conductor"])
    """Labels of the pull request."""


def publication_of(result: Any, spec: Any) -> Publication | None:
    """One publication of the kept changes of the run's implementer and refiner tasks."""
    from ai_conductor.analysis.models import AnalysisReport
    from ai_conductor.implement.models import ImplementReport
    from ai_conductor.publish.notes import combine, from_implement, from_refine
    from ai_conductor.refine.models import RefineReport

    parts, analysis, root = [], None, Path(result.codebase)
    for t in spec.tasks:
        out = result.tasks[t.id].output or {}
        if "schema_version" in out and "findings" in out:
            analysis = AnalysisReport.model_validate(out)
        elif "changes" in out and "backend" in out:
            parts.append(from_implement(ImplementReport.model_validate(out), analysis, root,
                                        workflow_id=spec.workflow_id, task_id=t.id))  # fmt: skip
        elif "tidy" in out and "tidy_scope" in out:
            parts.append(from_refine(RefineReport.model_validate(out), root,
                                     workflow_id=spec.workflow_id, task_id=t.id))  # fmt: skip
    return combine(parts) if parts else None


@task(name="publish-pull-request", persist_result=False)
def publish_task(root: Path, publication: Publication, options: PublishOptions,
                 credentials: Credentials | None) -> PublishResult:  # fmt: skip
    from ai_conductor.publish.publisher import publish

    return publish(root, publication, options, log=run_logger(), credentials=credentials)


@conductor_flow(name="conductor-improve")
def improve_flow(request: ImproveRequest) -> dict[str, Any]:
    """Clone, analyse, fix, tidy, publish one pull request, clean up."""
    from ai_conductor.flows._improve_report import artifacts

    log = run_logger()
    spec = load_spec(request.spec_path)
    run_id = str(flow_run.id)
    shown = without_userinfo(request.codebase)
    settings = get_settings()
    sink = open_audit_log(settings)
    log.info("improving %s (%s) with %s", shown, request.branch or "default branch",
             request.spec_path)  # fmt: skip
    try:
        with checkout(request.codebase, request.branch, purpose="improve") as here:
            root, creds = here.path, here.credentials
            graph = GraphRun(spec, root, run_id, settings=settings, sink=sink, logger=log,
                             fresh=True)  # fmt: skip
            result = graph.execute()
            if not result.ok:
                raise WorkflowFailed(result)
            publication = publication_of(result, spec)
            published = None
            if request.publish and publication is not None:
                options = PublishOptions(remote=request.remote, draft=request.draft,
                                         forge=request.forge, labels=request.labels,
                                         base=request.branch)  # fmt: skip
                published = publish_task(root, publication, options, creds)
    finally:
        sink.flush()
        _runtime.close_run(run_id)
    keys = artifacts(publication, published) if publication is not None else []
    pr = published.pull_request if published else None
    return {"run_id": run_id, "codebase": shown, "status": result.status.value,
            "published": published.model_dump(mode="json") if published else None,
            "pull_request": pr.url if pr else None, "artifacts": keys}  # fmt: skip
