"""What a server run does in this process, per kind: validated parameters, then the work.

Each ``prepare_*`` runs at submit time (bad input fails before anything is queued) and returns
a callable that does the work in a worker thread. The work returns ``(summary, report)``: a
small JSON-able summary (kept in the audit log) and the full report, saved under
``$CONDUCTOR_HOME/server/runs/RUN_ID.json`` (the ``conductor://runs/{run_id}/report`` resource).
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any, cast

from ai_conductor import _runtime
from ai_conductor.errors import ConductorError, UsageError
from ai_conductor.server._prefect_runs import api_configured
from ai_conductor.server.params import AnalyzeParams, ImplementParams, WorkflowParams
from ai_conductor.server.policy import check_backend, check_spec
from ai_conductor.server.security import check_codebase_path
from ai_conductor.settings import Settings

Outcome = tuple[dict[str, Any], dict[str, Any]]
Progress = Callable[[dict[str, Any]], None]
Work = Callable[[str, Progress], Outcome]


def report_path(settings: Settings, run_id: str) -> Path:
    """Where the full report of server run ``run_id`` is kept."""
    if not run_id or not all(c.isalnum() or c in "-_" for c in run_id):
        raise UsageError(f"not a run id: {run_id!r}")
    return settings.home_dir / "server" / "runs" / f"{run_id}.json"


def save_report(settings: Settings, run_id: str, report: dict[str, Any]) -> Path:
    path = report_path(settings, run_id)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(report, indent=2, default=str), encoding="utf-8")
    tmp.replace(path)
    return path


def load_report(settings: Settings, run_id: str) -> dict[str, Any] | None:
    path = report_path(settings, run_id)
    if not path.is_file():
        return None
    return cast("dict[str, Any]", json.loads(path.read_text(encoding="utf-8")))


def prepare_analyze(params: AnalyzeParams, settings: Settings) -> Work:
    from ai_conductor.analysis import check_focus

    root = check_codebase_path(params.codebase, settings)
    focus = check_focus(params.focus)

    def work(run_id: str, progress: Progress) -> Outcome:
        from ai_conductor.analysis import analyze

        def tell(phase: str, done: int, total: int) -> None:
            progress({"phase": phase, "done": done, "total": total})

        report = analyze(root, settings=settings, focus=focus, tools=params.tools, progress=tell)
        summary = {
            "analysis_run_id": report.run_id,
            "codebase": report.codebase,
            "files_analyzed": report.files_analyzed,
            "summary": report.summary.model_dump(mode="json"),
            "warnings": report.warnings,
        }
        return summary, report.model_dump(mode="json")

    return work


def prepare_workflow(params: WorkflowParams, settings: Settings) -> Work:
    from ai_conductor.spec import load_spec, validate_data

    if params.spec_path is not None:
        spec = load_spec(check_codebase_path(params.spec_path, settings))
    else:
        spec = validate_data(dict(params.spec or {}), source="<inline spec>")
    if not spec.tasks:
        raise UsageError(f"workflow {spec.workflow_id!r} has no tasks to run")
    check_spec(spec, settings)
    codebase = check_codebase_path(params.codebase or spec.codebase, settings)

    def work(run_id: str, progress: Progress) -> Outcome:
        from ai_conductor._prefect_env import quiet_prefect_defaults

        quiet_prefect_defaults()
        from ai_conductor.flows.workflow import RunRequest

        request = RunRequest(spec=spec, codebase=str(codebase), run_id=run_id)
        if not api_configured():  # Prefect's ephemeral server: one workflow run at a time
            with _EPHEMERAL:
                return _run_flow(spec, request, run_id)
        return _run_flow(spec, request, run_id)

    return work


def _run_flow(spec: Any, request: Any, run_id: str) -> Outcome:
    """Run the workflow flow in this thread; its result, or the error that ended it."""
    from ai_conductor.flows.workflow import workflow_flow

    handle = _runtime.open_run(run_id)
    try:
        flow = workflow_flow.with_options(flow_run_name=spec.workflow_id)
        state: Any = flow(request, return_state=True)
        result = handle.result
        if result is None:
            error = state.result(raise_on_failure=False)
            if isinstance(error, ConductorError):
                raise error
            raise ConductorError(f"the workflow run crashed: {state.message or error}")
    finally:
        _runtime.close_run(run_id)
    summary = {
        "workflow_id": result.workflow_id,
        "status": result.status.value,
        "ok": result.ok,
        "counts": result.counts(),
        "summary": result.summary_line(),
    }
    return summary, result.model_dump(mode="json")


_EPHEMERAL = threading.Lock()
"""Without PREFECT_API_URL every flow run would start Prefect's ephemeral server: concurrent
starts collide (port in use, start-up timeouts), so in-process workflow runs go one at a time.
Point PREFECT_API_URL at a Prefect server for concurrent workflow runs."""


def prepare_implement(params: ImplementParams, settings: Settings) -> Work:
    check_backend(params.backend, settings, "implement")  # before touching any path
    from ai_conductor.analysis.models import AnalysisReport
    from ai_conductor.implement import ImplementOptions
    from ai_conductor.reports import load_analysis

    if params.analysis is not None:
        analysis = load_analysis(check_codebase_path(params.analysis, settings))
    else:
        stored = load_report(settings, str(params.analysis_run_id))
        if stored is None or "findings" not in stored:
            raise UsageError(
                f"no analysis report for run {params.analysis_run_id!r}: give the run id of a "
                "finished analyze run (list_runs shows them) or an analysis.json path"
            )
        analysis = AnalysisReport.model_validate(stored)
    codebase = check_codebase_path(params.codebase or analysis.codebase, settings)
    options = ImplementOptions(backend=params.backend, focus=params.focus, apply=params.apply)

    def work(run_id: str, progress: Progress) -> Outcome:
        from ai_conductor.implement import implement

        report = implement(analysis, codebase, options, settings)
        summary = {
            "implement_run_id": report.run_id,
            "backend": report.backend,
            "changes": len(report.changes),
            "kept": sum(c.status.value == "kept" for c in report.changes),
            "applied": report.applied,
            "stopped": report.stopped,
            "tokens": report.tokens,
            "cost_usd": report.cost_usd,
            "warnings": report.warnings,
        }
        return summary, report.model_dump(mode="json")

    return work
