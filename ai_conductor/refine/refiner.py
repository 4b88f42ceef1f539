"""``refine()``: the verified tidy-up, the type report and the stack review, in that order.

The tidy-up follows the implementer's rules: a worktree on ``conductor/<workflow>/<task>/tidy``,
the same gate, an audit ``attempt`` event, a patch under ``$CONDUCTOR_HOME/patches/<run_id>``;
the checkout changes only with ``apply=True``. A ``refine`` event summarises the run.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from ai_conductor.analysis.files import check_codebase
from ai_conductor.errors import UsageError
from ai_conductor.implement.verify import detect_test_command
from ai_conductor.implement.workspace import apply_patch
from ai_conductor.refine.advice import LLMAdvisor
from ai_conductor.refine.models import RefineReport, StackReview, TidyResult, TidyStatus
from ai_conductor.refine.stack import Advise, review_stack, stack_checks
from ai_conductor.refine.tidy import tidy
from ai_conductor.refine.typecheck import type_report
from ai_conductor.settings import Settings, get_settings
from ai_conductor.store import events as ev
from ai_conductor.store import open_audit_log


def _attempt_event(
    result: TidyResult, run_id: str, workflow_id: str, task_id: str
) -> ev.AuditEvent:
    tests = result.verification.tests if result.verification else None
    ok = result.status in (TidyStatus.KEPT, TidyStatus.UNCHANGED)
    return ev.AuditEvent(
        workflow_id=workflow_id, task_id=task_id, agent_role="refiner", run_id=run_id,
        action="attempt", status=result.status.value,
        error_message=None if ok else result.reason[:2000],
        metadata={"step": "tidy", "branch": result.branch, "patch": result.patch,
                  "touched": result.touched, "tests_passed": tests.passed if tests else None,
                  "reason": result.reason[:500]},
    )  # fmt: skip


def _apply(root: Path, result: TidyResult) -> str | None:
    """Apply the verified tidy-up; why the checkout refused it, or None when applied."""
    try:
        apply_patch(root, Path(result.patch or "").read_text(encoding="utf-8"))
    except UsageError as exc:
        return f"{exc}; the verified tidy-up is kept on branch {result.branch} ({result.patch})"
    return None


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
) -> RefineReport:
    """Refine ``codebase``; ``test_command`` None detects the tests, [] runs none.

    ``backend`` (an LLM backend such as ``openai``, with ``backend_options``) adds a model's
    recommendation to each stack finding; ``advise`` is the same hook for any callable.
    """
    settings = settings or get_settings()
    root = check_codebase(codebase)
    stack_name = stack_checks(stack)[0] if stack is not None else None  # fail fast on a typo
    advisor = None
    if backend is not None and stack_name is not None and advise is None:
        advisor = LLMAdvisor(root, stack_name, backend, backend_options or {})  # fails fast too
    run_id, started = uuid.uuid4().hex, datetime.now(UTC)
    warnings: list[str] = []
    sink = open_audit_log(settings)
    result, applied, not_applied = None, False, None
    if tidy_code:
        tests = test_command if test_command is not None else detect_test_command(root)
        if tests is None:
            warnings.append("no test command found: the tidy-up gate relies on the analyzer only")
        branch = f"conductor/{workflow_id}/{task_id}/tidy"
        result = tidy(root, run_id=run_id, branch=branch, tests=tests, test_timeout=test_timeout,
                      settings=settings)  # fmt: skip
        sink.record(_attempt_event(result, run_id, workflow_id, task_id))
        if apply and result.status is TidyStatus.KEPT:
            sink.flush()
            not_applied = _apply(root, result)
            applied = not_applied is None
    typed = type_report(root, settings) if types else None
    review = None
    if stack_name is not None:
        found = review_stack(root, stack_name, advise=advise or advisor, warnings=warnings)
        review = StackReview(name=stack_name, checks=_names(stack_name), findings=found)
        if advisor is not None:
            review.advice_backend = advisor.backend.name
            review.tokens, review.cost_usd = advisor.tokens, round(advisor.cost_usd, 6)
    report = RefineReport(
        run_id=run_id, codebase=str(root), started_at=started, finished_at=datetime.now(UTC),
        tidy=result, applied=applied, not_applied=not_applied, type_report=typed, stack=review,
        warnings=warnings,
    )  # fmt: skip
    sink.record(ev.AuditEvent(
        workflow_id=workflow_id, task_id=task_id, agent_role="refiner", run_id=run_id,
        action="refine", status=ev.COMPLETED,
        metadata={"tidy": result.status.value if result else None, "applied": applied,
                  "type_errors": typed.errors if typed else None, "stack": stack_name,
                  "stack_findings": len(review.findings) if review else None},
    ))  # fmt: skip
    sink.flush()
    return report


def _names(stack: str) -> list[str]:
    return [c.__name__.removeprefix("check_") for c in stack_checks(stack)[1]]
