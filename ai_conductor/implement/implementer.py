"""The implementer: pick findings, group them per file, and for each group let a backend propose a
change in an isolated worktree that is kept only when the verification gate passes.

Every attempt, kept or discarded, is recorded in the audit log. Kept changes stay on their
stable branch (``conductor/<workflow>/<task>/<group>``, reused when a re-run gives the same
result) with a patch file; the user's checkout is only changed by ``apply=True``, and only with
verified patches. The tests run in the project's own environment
(:func:`~ai_conductor.environment.resolve_environment`), resolved once per run.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from ai_conductor.analysis.engine import check_focus
from ai_conductor.analysis.files import check_codebase
from ai_conductor.analysis.models import AnalysisReport, Finding, Severity
from ai_conductor.environment import ProjectEnvironment, resolve_environment
from ai_conductor.errors import ConductorError, UsageError
from ai_conductor.implement import branches
from ai_conductor.implement.budget import Budget
from ai_conductor.implement.change import Runner, change_summary
from ai_conductor.implement.models import AttemptStatus, ChangeResult, ImplementReport
from ai_conductor.implement.progress import Tracker
from ai_conductor.implement.reclaim import claimed
from ai_conductor.implement.review import MAX_FILES, chunk
from ai_conductor.implement.workspace import apply_patch
from ai_conductor.protocols import ProgressObserver
from ai_conductor.settings import Settings, get_settings
from ai_conductor.store import events as ev

__all__ = ["GROUPINGS", "ImplementOptions", "change_summary", "group", "implement", "select"]


@dataclass
class ImplementOptions:
    """How to implement: which findings, which backend, how to verify."""

    backend: str = "builtin"
    backend_options: dict[str, Any] = field(default_factory=dict)
    focus: list[str] = field(default_factory=list)
    min_severity: Severity = Severity.LOW
    attempts: int = 3
    test_command: list[str] | None = None
    """None: pytest in the project's environment when the project uses it; [] disables tests."""
    test_env: str = "auto"
    """Where the tests run: ``auto`` (the project's venv, its tool, else an isolated
    environment), ``isolated``, ``tox`` or ``nox`` (see :mod:`ai_conductor.environment`)."""
    allow_api_changes: bool = False
    """Keep changes that remove public module-level names (see :mod:`.api`)."""
    all_files: bool = False
    """Lift the size limit of one change (see :mod:`.review`)."""
    test_timeout: float = 600.0
    apply: bool = False
    concurrency: int = 2
    group_by: str = "file"
    """One change per ``file`` (default: patches never overlap) or per ``rule`` (one change
    fixes a rule everywhere; with ``apply``, a patch that overlaps an applied one is refused)."""
    tools: list[str] | None = None
    """Analyzer tools the gate re-runs (default: the analyzer's defaults)."""
    workflow_id: str = "implement"
    task_id: str = "implement"
    budget: Budget = field(default_factory=Budget)
    """Hard limits for the whole run (tokens, money, wall time); spent -> the run stops."""
    progress: ProgressObserver | None = None
    """Called with each step (changes done/total, attempt, kept/discarded, elapsed)."""
    run_id: str | None = None
    """Audit run id of the events and commits (a workflow task passes its workflow's run id,
    so ``conductor logs --run ID`` shows the whole run); None: a fresh one."""
    log: logging.Logger | logging.LoggerAdapter[logging.Logger] | None = None
    """Where each attempt's verdict is logged (a workflow task passes Prefect's run logger)."""


def select(findings: Sequence[Finding], options: ImplementOptions, backend: str) -> list[Finding]:
    """Findings in focus and at or above the minimum severity; the builtin backend only takes
    findings its tools can fix safely."""
    areas = check_focus(options.focus)
    chosen = [
        f for f in findings
        if f.severity.rank >= options.min_severity.rank
        and (not areas or any(a == f.category.value or a in f.tags for a in areas))
        and (backend != "builtin" or f.fixable)
    ]  # fmt: skip
    return sorted(chosen, key=Finding.sort_key)


GROUPINGS = ("file", "rule")


def group(findings: Sequence[Finding], by: str = "file") -> dict[str, list[Finding]]:
    """Findings per change: ``file:<path>`` or ``rule:<tool>:<rule_id>`` groups."""
    if by not in GROUPINGS:
        raise UsageError(f"unknown grouping {by!r}; choose from: {', '.join(GROUPINGS)}")
    groups: dict[str, list[Finding]] = defaultdict(list)
    for f in findings:
        groups[f"file:{f.path}" if by == "file" else f"rule:{f.tool}:{f.rule_id}"].append(f)
    return {name: part for name, found in groups.items() for name, part in _split(name, found)}


def _split(name: str, found: list[Finding]) -> list[tuple[str, list[Finding]]]:
    """A group over more than ``MAX_FILES`` files, as reviewable groups by directory."""
    paths = sorted({f.path for f in found})
    if len(paths) <= MAX_FILES:
        return [(name, found)]
    return [(f"{name}@{label}", [f for f in found if f.path in set(files)])
            for label, files in chunk(paths)]  # fmt: skip


def implement(
    analysis: AnalysisReport,
    codebase: Path | None = None,
    options: ImplementOptions | None = None,
    settings: Settings | None = None,
) -> ImplementReport:
    """Fix the selected findings of ``analysis`` in isolated worktrees; keep verified changes.

    Raises :class:`~ai_conductor.errors.ProjectEnvironmentError` (before any change is
    attempted) when the project's test environment cannot be built.
    """
    options = options or ImplementOptions()
    settings = settings or get_settings()
    root = check_codebase(codebase or Path(analysis.codebase))
    tracker = Tracker(options.progress)
    started = datetime.now(UTC)
    tracker.step("environment")
    environment = _environment(root, options, settings)
    run = Runner(analysis, root, options, settings, environment, tracker)
    groups = group(select(analysis.findings, options, run.backend.name), options.group_by)
    run.branch_names = branches.names(groups)
    warnings = [] if groups else ["no findings selected: nothing to implement"]
    if environment.test_command is None:
        warnings.append(
            f"no test command: the gate relies on the analyzer only ({environment.reason})"
        )
    tracker.step("changes", total=len(groups))
    with (
        claimed(run.run_dir) as reclaimed,
        ThreadPoolExecutor(max_workers=max(1, options.concurrency)) as pool,
    ):
        changes = list(pool.map(lambda item: run.change(*item), groups.items()))
    if reclaimed:
        warnings.append(f"removed the worktrees of {len(reclaimed)} killed run(s): "
                        f"{', '.join(reclaimed)}")  # fmt: skip
    if run.stopped:
        run.sink.record(
            ev.AuditEvent(
                workflow_id=options.workflow_id, task_id=options.task_id, run_id=run.run_id,
                agent_role="implementer", action="stopped", status="budget_exhausted",
                error_message=run.stopped,
            )
        )  # fmt: skip
    run.history.close()
    if run.history.problem:
        warnings.append(run.history.problem)
    applied, refused = _apply(run, changes) if options.apply else ([], {})
    run.sink.flush()
    tracker.step("done")
    kept = sum(c.status is AttemptStatus.KEPT for c in changes)
    run.log.info("implement: %d of %d change(s) verified and kept (run %s)", kept, len(changes),
                 run.run_id)  # fmt: skip
    budget = options.budget
    return ImplementReport(
        run_id=run.run_id, codebase=str(root), backend=run.backend.name, started_at=started,
        finished_at=datetime.now(UTC), changes=changes, applied=applied, not_applied=refused,
        warnings=warnings, environment=environment,
        stopped=run.stopped, tokens=budget.tokens, cost_usd=round(budget.cost_usd, 6),
    )  # fmt: skip


def _environment(root: Path, options: ImplementOptions, settings: Settings) -> ProjectEnvironment:
    """The project's test environment; a failed build is audited, then raised."""
    try:
        return resolve_environment(
            root, test_command=options.test_command, test_env=options.test_env, settings=settings
        )
    except ConductorError as exc:
        from ai_conductor.store import open_audit_log

        sink = open_audit_log(settings)
        sink.record(ev.AuditEvent(
            workflow_id=options.workflow_id, task_id=options.task_id, agent_role="implementer",
            run_id=options.run_id, action="environment", status=ev.FAILED_STATUS,
            error_message=str(exc)[:2000],
        ))  # fmt: skip
        sink.flush()
        raise


def _apply(run: Runner, changes: list[ChangeResult]) -> tuple[list[str], dict[str, str]]:
    """Apply kept patches to the checkout; a refused one (local edits, overlap) is reported,
    audited and skipped: its branch and patch file stay, nothing else is lost."""
    applied: list[str] = []
    refused: dict[str, str] = {}
    ours: set[str] = set()  # files earlier patches of this run changed: not "local edits"
    for change in changes:
        if change.status is not AttemptStatus.KEPT or not change.patch:
            continue
        try:
            ours.update(apply_patch(run.root, Path(change.patch).read_text(), ours))
        except UsageError as exc:
            refused[change.group] = str(exc)
        else:
            applied.append(change.group)
        run.sink.record(
            ev.AuditEvent(
                workflow_id=run.options.workflow_id, task_id=run.options.task_id,
                run_id=run.run_id, agent_role="implementer", action="apply",
                status="refused" if change.group in refused else "applied",
                error_message=refused.get(change.group),
                metadata={"group": change.group, "patch": change.patch, "branch": change.branch},
            )
        )  # fmt: skip
    return applied, refused
