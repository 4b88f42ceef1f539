"""The implementer: pick findings, group them per file, and for each group let a backend propose a
change in an isolated worktree that is kept only when the verification gate passes.

Every attempt, kept or discarded, is recorded in the audit log. Kept changes stay on their
branch (``conductor/<workflow>/<task>/<group>``) with a patch file; the user's checkout is only
changed by ``apply=True``, and only with verified patches.
"""

from __future__ import annotations

import re
import threading
import uuid
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
from ai_conductor.errors import AgentError, UsageError
from ai_conductor.implement.backends import load_backend
from ai_conductor.implement.backends.base import Backend
from ai_conductor.implement.budget import Budget
from ai_conductor.implement.edits import apply_edits
from ai_conductor.implement.guard import refusal
from ai_conductor.implement.history import History
from ai_conductor.implement.models import (
    Attempt,
    AttemptStatus,
    ChangeRequest,
    ChangeResult,
    ImplementReport,
    Verification,
)
from ai_conductor.implement.reclaim import claimed
from ai_conductor.implement.verify import detect_test_command, verify
from ai_conductor.implement.workspace import Workspace, apply_patch
from ai_conductor.settings import Settings, get_settings
from ai_conductor.store import events as ev
from ai_conductor.store import open_audit_log


@dataclass
class ImplementOptions:
    """How to implement: which findings, which backend, how to verify."""

    backend: str = "builtin"
    backend_options: dict[str, Any] = field(default_factory=dict)
    focus: list[str] = field(default_factory=list)
    min_severity: Severity = Severity.LOW
    attempts: int = 3
    test_command: list[str] | None = None
    """None: detect (pytest when the project uses it); [] disables tests."""
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
    return dict(groups)


def _slug(text: str) -> str:
    """A branch-name component: git refuses '..', a leading or trailing '.', and '.lock'."""
    slug = re.sub(r"\.{2,}", ".", re.sub(r"[^A-Za-z0-9._-]+", "-", text))
    slug = slug.strip("-.")[:80].rstrip("-.")
    return (slug[:-5] + "-lock" if slug.endswith(".lock") else slug) or "change"


class _Run:
    def __init__(
        self, analysis: AnalysisReport, root: Path, options: ImplementOptions, settings: Settings
    ) -> None:
        self.analysis, self.root, self.options, self.settings = analysis, root, options, settings
        self.run_id = uuid.uuid4().hex
        self.backend: Backend = load_backend(options.backend, options.backend_options)
        self.sink = open_audit_log(settings)
        self.git_lock = threading.Lock()  # git worktree add/remove on one repo: one at a time
        self.stopped: str | None = None
        self.history = History(settings)
        self.tests = (
            options.test_command if options.test_command is not None
            else detect_test_command(root)
        )  # fmt: skip

    def record(self, group: str, attempt: Attempt, findings: list[Finding]) -> None:
        tests = attempt.verification.tests if attempt.verification else None
        self.sink.record(
            ev.AuditEvent(
                workflow_id=self.options.workflow_id,
                task_id=self.options.task_id,
                agent_role="implementer",
                run_id=self.run_id,
                action="attempt",
                status=attempt.status.value,
                error_message=None if attempt.status is AttemptStatus.KEPT else attempt.reason,
                metadata={
                    "group": group, "attempt": attempt.number, "backend": self.backend.name,
                    "touched": attempt.touched, "findings": [f.fingerprint for f in findings],
                    "tests_passed": tests.passed if tests else None, "reason": attempt.reason[:500],
                },
            )
        )  # fmt: skip

    def change(self, name: str, findings: list[Finding]) -> ChangeResult:
        branch = f"conductor/{self.options.workflow_id}/{self.options.task_id}/{_slug(name)}"
        with self.git_lock:
            ws = Workspace.create(
                self.root, branch, self.settings.home_dir / "worktrees" / self.run_id
            )
        result = ChangeResult(
            group=name, findings=[f.fingerprint for f in findings], status=AttemptStatus.DISCARDED
        )
        feedback: str | None = None
        try:
            for n in range(1, self.options.attempts + 1):
                spent = self.options.budget.exceeded()
                if spent:
                    self.stopped = spent
                    result.status = AttemptStatus.ERROR
                    result.summary = f"stopped: {spent}"
                    break
                attempt, patch, fatal = self._attempt(ws, name, findings, n, feedback)
                result.attempts.append(attempt)
                self.record(name, attempt, findings)
                if attempt.status is AttemptStatus.KEPT:
                    unique = ws.branch.rsplit("/", 1)[-1]  # unique: Workspace suffixes it
                    path = self.settings.home_dir / "patches" / self.run_id / f"{unique}.patch"
                    path.parent.mkdir(parents=True, exist_ok=True)
                    path.write_text(patch)
                    path.with_suffix(".md").write_text(
                        change_summary(name, findings, attempt, ws.branch, self.backend.name)
                    )
                    ws.commit(f"{attempt.summary or 'fix findings'} ({name})")
                    result.status, result.branch, result.patch = (
                        AttemptStatus.KEPT,
                        ws.branch,
                        str(path),
                    )
                    result.summary = attempt.summary
                    break
                result.status = attempt.status  # discarded or error, until one is kept
                feedback = attempt.reason
                ws.reset()
                if fatal:
                    break
        finally:
            with self.git_lock:
                ws.remove(keep_branch=result.status is AttemptStatus.KEPT)
        return result

    def _attempt(
        self, ws: Workspace, name: str, findings: list[Finding], n: int, feedback: str | None
    ) -> tuple[Attempt, str, bool]:
        request = ChangeRequest(
            group=name, findings=findings, instructions=", ".join(self.options.focus),
            history=self.history.lookup(findings) if n == 1 else [],
        )  # fmt: skip
        try:
            try:
                proposal = self.backend.propose(request, ws.path, feedback)
            except AgentError as exc:  # tokens spent on a failed call still count
                self.options.budget.charge(getattr(exc, "tokens", 0), getattr(exc, "cost_usd", 0))
                raise
            self.options.budget.charge(proposal.tokens, proposal.cost_usd)
            if proposal.edits:
                apply_edits(ws.path, proposal.edits)
            touched = ws.touched()
            refused = refusal(touched, findings, ws.diff()) if touched else None
            verdict = (
                Verification(passed=False, reason=refused) if refused
                else verify(
                    ws.path, touched, findings, self.analysis.findings,
                    test_command=self.tests, test_timeout=self.options.test_timeout,
                    tools=self.options.tools, settings=self.settings,
                )
            )  # fmt: skip
        except AgentError as exc:
            why = f"{exc}" + ("" if exc.retryable else " (not retryable)")
            return Attempt(number=n, status=AttemptStatus.ERROR, reason=why), "", not exc.retryable
        status = AttemptStatus.KEPT if verdict.passed else AttemptStatus.DISCARDED
        patch = ws.diff() if verdict.passed else ""
        attempt = Attempt(
            number=n, status=status, reason=verdict.reason, touched=touched,
            verification=verdict, summary=proposal.summary,
        )  # fmt: skip
        return attempt, patch, False


def implement(
    analysis: AnalysisReport,
    codebase: Path | None = None,
    options: ImplementOptions | None = None,
    settings: Settings | None = None,
) -> ImplementReport:
    """Fix the selected findings of ``analysis`` in isolated worktrees; keep verified changes."""
    options = options or ImplementOptions()
    settings = settings or get_settings()
    root = check_codebase(codebase or Path(analysis.codebase))
    run = _Run(analysis, root, options, settings)
    started = datetime.now(UTC)
    groups = group(select(analysis.findings, options, run.backend.name), options.group_by)
    warnings = [] if groups else ["no findings selected: nothing to implement"]
    if run.tests is None:
        warnings.append("no test command found: the gate relies on the analyzer only")
    with (
        claimed(settings.home_dir / "worktrees" / run.run_id) as reclaimed,
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
    budget = options.budget
    return ImplementReport(
        run_id=run.run_id, codebase=str(root), backend=run.backend.name, started_at=started,
        finished_at=datetime.now(UTC), changes=changes, applied=applied, not_applied=refused,
        warnings=warnings,
        stopped=run.stopped, tokens=budget.tokens, cost_usd=round(budget.cost_usd, 6),
    )  # fmt: skip


def _apply(run: _Run, changes: list[ChangeResult]) -> tuple[list[str], dict[str, str]]:
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


def change_summary(
    group: str, findings: Sequence[Finding], attempt: Attempt, branch: str, backend: str
) -> str:
    """The Markdown note kept beside a patch: what changed, why, which findings, the verdict."""
    lines = [f"# {group}", "", f"- what: {attempt.summary or 'fix findings'}",
             f"- who: the {backend} backend, attempt {attempt.number}",
             f"- branch: `{branch}`", f"- files: {', '.join(attempt.touched)}", "",
             "## Why: the findings it fixes", ""]  # fmt: skip
    lines += [f"- `{f.path}:{f.line}` {f.rule_id} ({f.severity.value}): {f.message} "
              f"[{f.fingerprint[:12]}]" for f in findings]  # fmt: skip
    lines += [
        "",
        "## Verification",
        "",
        attempt.verification.reason if attempt.verification else "",
    ]
    return "\n".join(lines) + "\n"
