"""The audit flow: analyse a codebase (a path, or a git URL and branch), store and report.

This is the flow nightly deployments schedule. The analysis itself is the same library call
`conductor analyze` makes; the flow adds the checkout, report files, Prefect artifacts, the
audit-log trail and the quality gate as the flow run's final state.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from prefect import task
from prefect.runtime import flow_run
from pydantic import BaseModel, ConfigDict, Field

from ai_conductor._prefect import conductor_flow, run_logger
from ai_conductor._urls import without_credentials
from ai_conductor.analysis import AnalysisReport, analyze
from ai_conductor.analysis.gate import FailOn, gate
from ai_conductor.analysis.gate import QualityGateFailed as QualityGateFailed
from ai_conductor.flows.checkout import checkout
from ai_conductor.settings import get_settings
from ai_conductor.store import events as ev
from ai_conductor.store import open_audit_log


class AuditRequest(BaseModel):
    """Parameters of an audit run; the Prefect UI renders this as a form."""

    model_config = ConfigDict(use_attribute_docstrings=True)

    codebase: str = "."
    """A local directory, or a git URL (https://, ssh://, git@, file://) to clone."""
    branch: str | None = None
    """Branch or tag to check out when ``codebase`` is a git URL (default: its HEAD)."""
    focus: list[str] = Field(default_factory=list)
    """Focus areas: security, performance, complexity, database, api, algorithms, bugs, style."""
    fail_on: FailOn = "none"
    """The run fails when a reported finding is at least this severe."""
    new_only: bool = False
    """Report (and gate on) only findings that are new since the last audit."""
    min_coverage: float | None = Field(default=None, ge=0, le=100)
    """The run fails when a tool could read less than this percentage of the files."""
    output_dir: str | None = None
    """Where to write analysis.json, analysis.sarif, analysis.md and analysis.html (default:
    none); the HTML report also gets a link artifact."""
    sarif_category: str = "ai-conductor"
    """SARIF ``automationDetails`` category (code scanning keeps one analysis per category)."""
    tools: list[str] | None = None
    """Analyzer tools to run (default: ruff, bandit, radon)."""


@task(name="analyze-codebase", persist_result=False)
def analyze_task(path: Path, codebase_id: str, request: AuditRequest) -> AnalysisReport:
    return analyze(path, focus=request.focus, tools=request.tools, codebase_id=codebase_id)


def _write_outputs(report: AnalysisReport, request: AuditRequest) -> tuple[list[str], Path | None]:
    """Write the reports into ``output_dir``; warnings, and the HTML report's path if written."""
    from ai_conductor.analysis.trend import stored_trend
    from ai_conductor.reports import append_step_summary, to_markdown, write_report

    warnings: list[str] = []
    html: Path | None = None
    if request.output_dir:
        out = Path(request.output_dir)
        for name, fmt in (("analysis.json", "json"), ("analysis.sarif", "sarif"),
                          ("analysis.md", "markdown")):  # fmt: skip
            warnings += write_report(report, out / name, fmt, category=request.sarif_category)
        html = out / "analysis.html"
        warnings += write_report(report, html, "html", trend=stored_trend(report, get_settings()))
    append_step_summary(to_markdown(report), get_settings())
    return warnings, html


@conductor_flow(name="conductor-audit")
def audit_flow(request: AuditRequest) -> dict[str, Any]:
    """Analyse, store, report; fail the run when the quality gate fails."""
    from ai_conductor.analysis.coverage import below
    from ai_conductor.analysis.history import narrow
    from ai_conductor.reports import publish_artifacts, publish_report_link

    log = run_logger()
    sink = open_audit_log(get_settings())
    shown = without_credentials(request.codebase)
    workflow = f"audit:{shown}"[:255]
    flow_run_id = str(flow_run.id)  # on every event: concurrent audits of one codebase differ
    params = request.model_dump(mode="json") | {"codebase": shown, "flow_run_id": flow_run_id}
    sink.record(ev.AuditEvent(workflow, ev.STARTED, ev.RUNNING, agent_role="analyzer",
                              metadata=params))  # fmt: skip
    try:
        with checkout(request.codebase, request.branch, purpose="audit", depth=50) as here:
            path, codebase_id = here.path, here.codebase_id
            report = analyze_task(path, codebase_id, request)
        if request.new_only:
            report = narrow(report, (), new_only=True)
        warnings, html = _write_outputs(report, request)
        for warning in warnings + report.warnings:
            log.warning(warning)
        keys = publish_artifacts(report)
        if html is not None:
            keys.append(publish_report_link(report, html))
        failing = gate(report, request.fail_on)
        uncovered = below(report, request.min_coverage)
        gate_summary: dict[str, Any] = {"fail_on": request.fail_on, "failing": len(failing)}
        if request.min_coverage is not None:  # the keys appear only with the coverage gate
            gate_summary |= {"min_coverage": request.min_coverage, "uncovered": uncovered}
        summary = {
            "run_id": report.run_id, "flow_run_id": flow_run_id, "codebase_id": report.codebase_id,
            "summary": report.summary.model_dump(mode="json"), "artifacts": keys,
            "gate": gate_summary,
        }  # fmt: skip
    except Exception as exc:
        sink.record(ev.AuditEvent(workflow, ev.FINISHED, ev.FAILED_STATUS, agent_role="analyzer",
                                  error_message=str(exc),
                                  metadata={"flow_run_id": flow_run_id}))  # fmt: skip
        sink.flush()
        raise
    status = ev.FAILED_STATUS if failing or uncovered else ev.COMPLETED
    sink.record(ev.AuditEvent(workflow, ev.FINISHED, status, agent_role="analyzer",
                              run_id=report.run_id, metadata=summary))  # fmt: skip
    sink.flush()
    if failing or uncovered:
        reasons = [f"{len(failing)} finding(s) at or above {request.fail_on}"] if failing else []
        reasons += [f"{u} < {request.min_coverage:g}%" for u in uncovered]
        raise QualityGateFailed(f"{'; '.join(reasons)} in {report.codebase_id}")
    return summary
