"""The workflow runner flow: load a spec, run its task graph, fail unless every task completed."""

from __future__ import annotations

from pathlib import Path

from prefect.runtime import flow_run
from pydantic import BaseModel, ConfigDict, Field

from ai_conductor import _runtime
from ai_conductor._paths import expand_user
from ai_conductor._prefect import conductor_flow, run_logger
from ai_conductor._urls import redact_userinfo
from ai_conductor.errors import ConfigError, SpecError, SpecProblem, WorkflowFailed
from ai_conductor.flows.engine import GraphRun
from ai_conductor.results import WorkflowResult
from ai_conductor.settings import get_settings
from ai_conductor.spec import WorkflowSpec, check_graph, load_spec
from ai_conductor.store import open_audit_log


class RunRequest(BaseModel):
    """Parameters of a workflow run; the Prefect UI renders this as a form."""

    model_config = ConfigDict(use_attribute_docstrings=True)

    spec_path: str | None = None
    """Path to a YAML or JSON workflow spec (on the machine that runs the flow)."""
    spec: WorkflowSpec | None = None
    """An inline spec, instead of spec_path."""
    codebase: str | None = None
    """Codebase to run against; default: the spec's ``codebase`` (relative to the working dir)."""
    fresh: bool = Field(default=False)
    """Ignore results persisted by earlier runs and execute every task."""
    run_id: str | None = None
    """Audit-log id of this run; default: the Prefect flow run id."""

    def load(self) -> WorkflowSpec:
        if self.spec is not None:
            problems = check_graph(self.spec)
            if problems:
                raise SpecError("<inline spec>", problems)
            return self.spec
        if self.spec_path:
            return load_spec(self.spec_path)
        raise SpecError("<request>", [SpecProblem("give either spec_path or spec")])

    def resolve_codebase(self, spec: WorkflowSpec) -> Path:
        path = expand_user(self.codebase or spec.codebase).resolve()
        if not path.is_dir():
            what = "does not exist" if not path.exists() else "is not a directory"
            shown = redact_userinfo(str(path))  # a git URL given as a codebase
            raise ConfigError(f"codebase {shown!r} {what}; pass --codebase PATH")
        return path


@conductor_flow(name="conductor-workflow")
def workflow_flow(request: RunRequest) -> WorkflowResult:
    """Run a workflow spec: each spec task is a Prefect task run, bounded by max_parallel_tasks."""
    spec = request.load()
    codebase = request.resolve_codebase(spec)
    settings = get_settings()
    sink = open_audit_log(settings)
    run = GraphRun(
        spec,
        codebase,
        request.run_id or str(flow_run.id),
        settings=settings,
        sink=sink,
        logger=run_logger(),  # type: ignore[arg-type]
        fresh=request.fresh,
    )
    try:
        result = run.execute()
    finally:
        sink.flush()
        if request.run_id is None:  # started by Prefect (a deployment): nobody else reads it
            _runtime.close_run(run.run_id)
    if not result.ok:
        raise WorkflowFailed(result)
    return result
