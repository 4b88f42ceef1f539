"""What a server run does in this process, per kind: validated parameters, then the work.

Each ``prepare_*`` runs at submit time (bad input fails before anything is queued) and returns
a :class:`Prepared`: the callable that does the work in a worker thread, and the checked,
resolved parameters a Prefect deployment gets instead (never the caller's raw strings). The
work returns ``(summary, report)``: a small JSON-able summary (kept in the audit log) and the
full report, saved under ``$CONDUCTOR_HOME/server/runs/RUN_ID.json`` (the
``conductor://runs/{run_id}/report`` resource).
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

from ai_conductor.errors import UsageError
from ai_conductor.server._prefect_runs import api_configured
from ai_conductor.server.params import AnalyzeParams, ImplementParams, WorkflowParams
from ai_conductor.server.policy import (
    check_backend,
    check_raw,
    check_spec,
    check_tools,
    confine_spec,
)
from ai_conductor.server.security import check_codebase_path
from ai_conductor.settings import Settings

if TYPE_CHECKING:
    from ai_conductor.spec import WorkflowSpec

Outcome = tuple[dict[str, Any], dict[str, Any]]
Progress = Callable[[dict[str, Any]], None]
Work = Callable[[str, Progress], Outcome]
INLINE = "<inline spec>"
"""How problems and warnings name a spec sent inline (lines count from its first line)."""


@dataclass(frozen=True)
class Prepared:
    """A checked run: what runs here, and what a deployment's flow run gets."""

    work: Work
    flow_request: dict[str, Any] = field(default_factory=dict)
    """The deployment's ``request`` parameter: resolved absolute paths and an inline,
    validated spec, so a worker never resolves a caller's relative path or re-reads a file."""


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


def prepare_analyze(params: AnalyzeParams, settings: Settings) -> Prepared:
    from ai_conductor.analysis import check_focus

    check_tools(params.tools, settings, "analyze")  # before any import
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

    request: dict[str, Any] = {"codebase": str(root), "focus": focus}
    if params.tools is not None:
        request["tools"] = params.tools
    return Prepared(work, request)


def checked_spec(
    settings: Settings,
    spec_path: str | None = None,
    spec: Mapping[str, Any] | str | None = None,
) -> WorkflowSpec:
    """A remote caller's spec (a path inside the roots, or inline: an object or YAML/JSON
    text), validated only after the raw data passed
    :func:`~ai_conductor.server.policy.check_raw` (validation imports the modules agents name)."""
    from ai_conductor._specsource import parse_document
    from ai_conductor.spec import load_spec, parse_spec, validate_data

    if isinstance(spec, str):
        doc = parse_document(spec, INLINE)
        check_raw(doc.data, settings, INLINE, doc)
        return validate_data(doc.data, source=INLINE, located=doc)
    if spec_path is None:
        data = dict(spec or {})
        check_raw(data, settings, INLINE)
        return validate_data(data, source=INLINE)
    path = check_codebase_path(spec_path, settings)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return load_spec(path)  # its error names the file and the reason
    doc = parse_document(text, str(path))
    check_raw(doc.data, settings, str(path), doc)
    return parse_spec(text, source=str(path), default_id=path.stem)  # the text checked


def prepare_workflow(params: WorkflowParams, settings: Settings) -> Prepared:
    spec = checked_spec(settings, params.spec_path, params.spec)
    if not spec.tasks:
        raise UsageError(f"workflow {spec.workflow_id!r} has no tasks to run")
    check_spec(spec, settings)
    codebase = check_codebase_path(params.codebase or spec.codebase, settings)
    spec = confine_spec(spec, codebase, settings)

    def work(run_id: str, progress: Progress) -> Outcome:
        from ai_conductor._prefect_env import quiet_prefect_defaults

        quiet_prefect_defaults()
        from ai_conductor.flows.workflow import RunRequest

        request = RunRequest(spec=spec, codebase=str(codebase), run_id=run_id)
        if not api_configured():  # Prefect's ephemeral server: one workflow run at a time
            with _EPHEMERAL:
                return _run_flow(spec, request, run_id)
        return _run_flow(spec, request, run_id)

    return Prepared(work, {"spec": spec.model_dump(mode="json"), "codebase": str(codebase)})


def _run_flow(spec: Any, request: Any, run_id: str) -> Outcome:
    """Run the workflow flow in this thread; its result, or the error that ended it."""
    from ai_conductor.flows.local import run_workflow_here

    result = run_workflow_here(request, flow_run_name=spec.workflow_id)
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


def prepare_implement(params: ImplementParams, settings: Settings) -> Prepared:
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

        options.progress = lambda p: progress(
            {"phase": p.phase, "done": p.done, "total": p.total, "kept": p.kept,
             "discarded": p.discarded}
        )  # fmt: skip
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

    return Prepared(work)
