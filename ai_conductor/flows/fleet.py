"""The fleet flow: audit a list of repositories at once, one report per repository plus a roll-up.

Each repository is one coarse Prefect task (checkout, analysis, its three reports), mapped over
the list on a task runner chosen per run: Prefect's ``ThreadPoolTaskRunner`` capped at
``max_concurrency``, or prefect-dask's ``DaskTaskRunner`` (a scheduler at ``dask_address``, or a
local cluster of ``max_concurrency`` single-threaded workers). A repository that cannot be
audited is a ``failed`` line of the roll-up while the others finish; after the roll-up is
written, a failed repository or the quality gate fails the flow run.
"""

from __future__ import annotations

from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import Any

from prefect.cache_policies import NO_CACHE
from prefect.futures import PrefectFuture
from prefect.runtime import flow_run

from ai_conductor._paths import expand_user
from ai_conductor._prefect import conductor_flow, conductor_task, run_logger
from ai_conductor._urls import without_credentials
from ai_conductor.analysis import analyze, check_focus
from ai_conductor.analysis.gate import QualityGateFailed, gate
from ai_conductor.errors import ConductorError
from ai_conductor.flows.checkout import checkout
from ai_conductor.flows.fleet_models import FleetRepo, FleetRequest, RepoJob, RepoOutcome
from ai_conductor.flows.fleet_rollup import (
    REPORT_FILES,
    assign_slugs,
    base_name,
    build_rollup,
    scrub,
    write_rollup,
)
from ai_conductor.flows.fleet_runner import build_task_runner
from ai_conductor.settings import get_settings
from ai_conductor.store import events as ev
from ai_conductor.store import open_audit_log

ROLLUP_KEY = "conductor-fleet-rollup"
WORKFLOW_ID = "fleet"


class FleetFailed(ConductorError):
    """Some repositories of a fleet audit could not be audited (the roll-up says why)."""


def plan(request: FleetRequest, out_dir: Path) -> list[RepoJob]:
    """One job per repository, checked before anything runs (focus, tools, unique slugs)."""
    from ai_conductor.analysis.tools import load_tool

    focus = check_focus(request.focus)
    for tool in request.tools or []:
        load_tool(tool)
    slugs = assign_slugs([(r.codebase, r.branch, r.name) for r in request.repos])
    return [
        RepoJob(slug=slug, name=base_name(r.codebase, r.name), codebase=r.codebase,
                branch=r.branch, focus=focus, tools=request.tools, fail_on=request.fail_on,
                out_dir=str(out_dir))
        for r, slug in zip(request.repos, slugs, strict=True)
    ]  # fmt: skip


@conductor_task(name="audit-repo", task_run_name="audit-{job.slug}", persist_result=False,
                cache_policy=NO_CACHE)  # fmt: skip
def audit_repo(job: RepoJob) -> RepoOutcome:
    """Check out, analyse and write ``<out_dir>/<slug>/analysis.{json,sarif,md}``."""
    from ai_conductor.reports import write_report

    started = datetime.now(UTC)
    with checkout(job.codebase, job.branch, purpose="audit", depth=50) as here:
        path, codebase_id = here.path, here.codebase_id
        report = analyze(path, focus=job.focus, tools=job.tools, codebase_id=codebase_id)
    warnings, reports = list(report.warnings), {}
    for fmt, filename in REPORT_FILES:
        warnings += write_report(report, Path(job.out_dir) / job.slug / filename, fmt)
        reports[fmt] = f"{job.slug}/{filename}"
    failing, s = gate(report, job.fail_on), report.summary
    return RepoOutcome(
        slug=job.slug, name=job.name, codebase=without_credentials(job.codebase),
        branch=job.branch, codebase_id=report.codebase_id, run_id=report.run_id,
        findings=s.total, by_severity=s.by_severity, new=s.new, existing=s.existing,
        fixed=s.fixed, gate="failed" if failing else "passed", gate_failing=len(failing),
        reports=reports, warnings=[scrub(w, job.codebase) for w in warnings],
        started_at=started, finished_at=datetime.now(UTC),
    )  # fmt: skip


def _outcome(job: RepoJob, future: PrefectFuture[RepoOutcome]) -> RepoOutcome:
    try:
        return future.result()
    except Exception as exc:  # one repository's failure is a line of the roll-up
        kind = "" if isinstance(exc, ConductorError) else f"{type(exc).__name__}: "
        return RepoOutcome(
            slug=job.slug, name=job.name, codebase=without_credentials(job.codebase),
            branch=job.branch, status="failed", error=scrub(f"{kind}{exc}", job.codebase),
        )  # fmt: skip


@conductor_flow(name="conductor-fleet-audit")
def fleet_audit_flow(request: FleetRequest) -> dict[str, Any]:
    """Audit every repository (bounded concurrency), write the roll-up, then apply the gate."""
    from ai_conductor._prefect import markdown_artifact
    from ai_conductor.reports import append_step_summary

    log, settings = run_logger(), get_settings()
    run_id, started = str(flow_run.id), datetime.now(UTC)
    default_dir = settings.home_dir / "fleet" / f"{started:%Y%m%d-%H%M%S}-{run_id[:8]}"
    out_dir = expand_user(request.output_dir or default_dir).resolve()
    jobs = plan(request, out_dir)
    sink = open_audit_log(settings)
    event = partial(ev.AuditEvent, WORKFLOW_ID, run_id=run_id, agent_role=ev.CONDUCTOR_ROLE)
    shown = [{"codebase": without_credentials(j.codebase), "branch": j.branch, "slug": j.slug}
             for j in jobs]  # fmt: skip
    sink.record(
        event(ev.STARTED, ev.RUNNING, metadata=request.model_dump(mode="json") | {"repos": shown})
    )
    try:
        with build_task_runner(request) as runner:
            futures = runner.map(audit_repo, {"job": jobs})  # type: ignore[arg-type]
            outcomes = [_outcome(job, future) for job, future in zip(jobs, futures, strict=True)]
        rollup = build_rollup(
            outcomes, run_id=run_id, started_at=started.isoformat(),
            finished_at=datetime.now(UTC).isoformat(), fail_on=request.fail_on,
            task_runner=request.task_runner, max_concurrency=request.max_concurrency,
            output_dir=str(out_dir),
        )  # fmt: skip
        json_path, _, markdown = write_rollup(rollup, out_dir)
        what = f"fleet audit of {len(jobs)} repositories"
        markdown_artifact(markdown, key=ROLLUP_KEY, description=what)
        append_step_summary(markdown, settings)
    except Exception as exc:
        sink.record(event(ev.FINISHED, ev.FAILED_STATUS, error_message=str(exc)))
        sink.flush()
        raise
    for o in outcomes:
        ok = o.status == "completed"
        action, status = (ev.SUCCEEDED, ev.COMPLETED) if ok else (ev.FAILED, ev.FAILED_STATUS)
        sink.record(event(action, status, task_id=o.slug, agent_role="analyzer",
                          error_message=o.error, metadata=o.model_dump(mode="json")))  # fmt: skip
    final = ev.COMPLETED if rollup["passed"] else ev.FAILED_STATUS
    sink.record(event(ev.FINISHED, final, metadata={"totals": rollup["totals"],
                                                    "rollup": str(json_path)}))  # fmt: skip
    sink.flush()
    log.info("fleet roll-up: %s", json_path)
    _raise_if_failed(rollup, request.fail_on, json_path)
    return rollup


def _raise_if_failed(rollup: dict[str, Any], fail_on: str, json_path: Path) -> None:
    failed, gate_failed = rollup["failed"], rollup["gate_failed"]
    gate = f"{len(gate_failed)} failing the gate (fail_on {fail_on}): {', '.join(gate_failed)}"
    if failed:
        also = f"; {gate}" if gate_failed else ""
        raise FleetFailed(f"{len(failed)} of {len(rollup['repos'])} repositories could not be "
                          f"audited: {', '.join(failed)}{also} (see {json_path})")  # fmt: skip
    if gate_failed:
        raise QualityGateFailed(f"repositories {gate} (see {json_path})")


__all__ = ["FleetFailed", "FleetRepo", "FleetRequest", "build_task_runner", "fleet_audit_flow"]
