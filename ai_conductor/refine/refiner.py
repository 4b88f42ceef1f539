"""``refine()``: the verified tidy-up, the type report and the stack review, in that order.

The tidy-up follows the implementer's rules: a worktree, stable branches
``conductor/<workflow>/<task>/tidy[-<directory>]`` (reused when a re-run gives the same result),
the same gate in the project's environment, the public-API guard, the size limit, an audit
``attempt`` event per change, patches under ``$CONDUCTOR_HOME/patches/<run_id>``; the checkout
changes only with ``apply=True``. The type check and the stack review's deptry use the same
environment's interpreter. A ``refine`` event summarises the run.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from ai_conductor.analysis.files import check_codebase
from ai_conductor.analysis.models import AnalysisReport
from ai_conductor.environment import ProjectEnvironment, resolve_environment
from ai_conductor.errors import ConductorError, UsageError
from ai_conductor.implement.progress import Tracker
from ai_conductor.implement.workspace import apply_patch
from ai_conductor.protocols import ProgressObserver
from ai_conductor.refine.advice import LLMAdvisor
from ai_conductor.refine.models import RefineReport, StackReview, TidyResult, TidyStatus
from ai_conductor.refine.stack import Advise, review_stack, stack_checks
from ai_conductor.refine.tidy import TidyJob, since_files, tidy
from ai_conductor.refine.typecheck import type_report
from ai_conductor.settings import Settings, get_settings
from ai_conductor.store import events as ev
from ai_conductor.store import open_audit_log


def _attempt_event(
    result: TidyResult, run_id: str, workflow_id: str, task_id: str, env: ProjectEnvironment
) -> ev.AuditEvent:
    tests = result.verification.tests if result.verification else None
    ok = result.status in (TidyStatus.KEPT, TidyStatus.UNCHANGED)
    return ev.AuditEvent(
        workflow_id=workflow_id, task_id=task_id, agent_role="refiner", run_id=run_id,
        action="attempt", status=result.status.value,
        error_message=None if ok else result.reason[:2000],
        metadata={"step": "tidy", "change": result.name, "branch": result.branch,
                  "patch": result.patch, "touched": result.touched, "lines": result.lines,
                  "tests_passed": tests.passed if tests else None, "reason": result.reason[:500],
                  "unchanged_since": result.unchanged_since, "environment": env.kind.value,
                  "environment_reason": env.reason[:300], "python": env.python},
    )  # fmt: skip


def _apply(root: Path, results: list[TidyResult]) -> str | None:
    """Apply the verified tidy-up changes; why the checkout refused one, or None."""
    ours: set[str] = set()
    for result in results:
        if result.status is not TidyStatus.KEPT:
            continue
        try:
            ours.update(
                apply_patch(root, Path(result.patch or "").read_text(encoding="utf-8"), ours)
            )
        except UsageError as exc:
            return f"{exc}; the verified tidy-up is kept on branch {result.branch} ({result.patch})"
    return None


def _scope(root: Path, analysis: AnalysisReport | None, since: str | None,
           all_files: bool) -> tuple[list[str] | None, str]:  # fmt: skip
    """The tidy-up's files (None: all) and a phrase saying which."""
    if all_files:
        return None, "every file, as one change (--all-files)"
    if since is not None and analysis is not None:
        raise UsageError("tidy scope: give an analysis or --since REF, not both")
    if since is not None:
        files = since_files(root, since)
        return files, f"{len(files)} file(s) changed since {since}"
    if analysis is not None:
        files = sorted({f.path for f in analysis.findings})
        return files, f"the {len(files)} file(s) with findings in the analysis"
    return None, "every Python file, split into reviewable changes"


def refine(
    codebase: Path,
    *,
    stack: str | None = None,
    apply: bool = False,
    tidy_code: bool = True,
    types: bool = True,
    test_command: list[str] | None = None,
    test_timeout: float = 600,
    workflow_id: str = "refine",
    task_id: str = "refine",
    settings: Settings | None = None,
    advise: Advise | None = None,
    backend: str | None = None,
    backend_options: Mapping[str, Any] | None = None,
    test_env: str = "auto",
    analysis: AnalysisReport | None = None,
    since: str | None = None,
    all_files: bool = False,
    allow_api_changes: bool = False,
    progress: ProgressObserver | None = None,
    run_id: str | None = None,
    log: logging.Logger | logging.LoggerAdapter[logging.Logger] | None = None,
) -> RefineReport:
    """Refine ``codebase``; ``test_command`` None runs pytest in the project's environment
    when the project uses it, [] runs none.

    The tidy-up covers ``analysis``' files, or the files changed since the git ref ``since``,
    or every Python file (split into reviewable changes); ``all_files`` makes it one change of
    everything. ``backend`` (an LLM backend such as ``openai``, with ``backend_options``) adds a
    model's recommendation to each stack finding; ``advise`` is the same hook for any callable.
    ``run_id`` is the audit run id (a workflow task passes its workflow's); ``log`` gets each
    tidy-up change's verdict (a workflow task passes Prefect's run logger).
    """
    settings = settings or get_settings()
    root = check_codebase(codebase)
    stack_name = stack_checks(stack)[0] if stack is not None else None  # fail fast on a typo
    files, scope = _scope(root, analysis, since, all_files) if tidy_code else (None, "")
    advisor = None
    if backend is not None and stack_name is not None and advise is None:
        advisor = LLMAdvisor(root, stack_name, backend, backend_options or {})  # fails fast too
    work_id, started, tracker = uuid.uuid4().hex, datetime.now(UTC), Tracker(progress)
    run_id = run_id or work_id
    log = log or logging.getLogger("ai_conductor.refine")
    warnings: list[str] = []
    sink = open_audit_log(settings)
    tracker.step("environment")
    try:  # the tests need it built only when there is a tidy-up to verify
        env = resolve_environment(root, test_command=test_command, test_env=test_env,
                                  settings=settings, build=tidy_code)  # fmt: skip
    except ConductorError as exc:
        sink.record(ev.AuditEvent(workflow_id=workflow_id, task_id=task_id, agent_role="refiner",
                                  run_id=run_id, action="environment", status=ev.FAILED_STATUS,
                                  error_message=str(exc)[:2000]))  # fmt: skip
        sink.flush()
        raise
    results, applied, not_applied = None, False, None
    if tidy_code:
        if env.test_command is None:
            warnings.append(f"no test command: the tidy-up gate relies on the analyzer only "
                            f"({env.reason})")  # fmt: skip
        tracker.step("tidy")
        job = TidyJob(root=root, run_id=run_id, prefix=f"conductor/{workflow_id}/{task_id}",
                      environment=env, test_timeout=test_timeout, settings=settings, files=files,
                      allow_api_changes=allow_api_changes, all_files=all_files,
                      work_id=work_id)  # fmt: skip
        results = tidy(job)
        for result in results:
            sink.record(_attempt_event(result, run_id, workflow_id, task_id, env))
            first = result.reason.strip().splitlines()[0][:300] if result.reason.strip() else ""
            log.info("%s: %s%s", result.name, result.status.value, f": {first}" if first else "")
            tracker.finished(result.status in (TidyStatus.KEPT, TidyStatus.UNCHANGED))
        if apply and any(r.status is TidyStatus.KEPT for r in results):
            sink.flush()
            not_applied = _apply(root, results)
            applied = not_applied is None
    tracker.step("types")
    typed = type_report(root, settings, env.python) if types else None
    review = None
    if stack_name is not None:
        tracker.step("stack")
        found = review_stack(root, stack_name, advise=advise or advisor, warnings=warnings,
                             python=env.python)  # fmt: skip
        review = StackReview(name=stack_name, checks=_names(stack_name), findings=found)
        if advisor is not None:
            review.advice_backend = advisor.backend.name
            review.tokens, review.cost_usd = advisor.tokens, round(advisor.cost_usd, 6)
    report = RefineReport(
        run_id=run_id, codebase=str(root), started_at=started, finished_at=datetime.now(UTC),
        tidy=results, tidy_scope=scope, environment=env, applied=applied,
        not_applied=not_applied, type_report=typed, stack=review, warnings=warnings,
    )  # fmt: skip
    sink.record(ev.AuditEvent(
        workflow_id=workflow_id, task_id=task_id, agent_role="refiner", run_id=run_id,
        action="refine", status=ev.COMPLETED,
        metadata={"tidy": [r.status.value for r in results] if results is not None else None,
                  "applied": applied, "type_errors": typed.errors if typed else None,
                  "stack": stack_name, "stack_findings": len(review.findings) if review else None,
                  "environment": env.kind.value},
    ))  # fmt: skip
    sink.flush()
    tracker.step("done")
    return report


def _names(stack: str) -> list[str]:
    return [c.__name__.removeprefix("check_") for c in stack_checks(stack)[1]]
