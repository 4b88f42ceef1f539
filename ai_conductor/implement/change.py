"""One change of an implement run: a detached worktree, attempts by the backend, the checks
(scope, suppressions, public API, size), the gate in the project's environment, and, when
verified, the commit published on the change's stable branch (see :mod:`.branches`)."""

from __future__ import annotations

import logging
import threading
import uuid
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from ai_conductor.analysis.models import AnalysisReport, Finding
from ai_conductor.environment import ProjectEnvironment
from ai_conductor.errors import AgentError, ConductorError
from ai_conductor.implement import branches
from ai_conductor.implement.api import api_refusal
from ai_conductor.implement.backends import load_backend
from ai_conductor.implement.edits import apply_edits
from ai_conductor.implement.guard import refusal
from ai_conductor.implement.history import History
from ai_conductor.implement.models import (
    Attempt,
    AttemptStatus,
    ChangeRequest,
    ChangeResult,
    Verification,
)
from ai_conductor.implement.progress import Tracker
from ai_conductor.implement.review import size_refusal
from ai_conductor.implement.verify import verify
from ai_conductor.implement.workspace import Workspace
from ai_conductor.protocols import Backend
from ai_conductor.settings import Settings
from ai_conductor.store import events as ev
from ai_conductor.store import open_audit_log

if TYPE_CHECKING:
    from ai_conductor.implement.implementer import ImplementOptions


def api_check(ws: Workspace, touched: list[str]) -> str | None:
    """The public-API guard on the workspace's change (see :mod:`.api`)."""

    def current(path: str) -> str | None:
        target = ws.path / path
        return target.read_text("utf-8", "surrogateescape") if target.is_file() else None

    return api_refusal(touched, ws.original, current)


def checks(ws: Workspace, touched: list[str], findings: Sequence[Finding], diff: str,
           *, allow_api_changes: bool, all_files: bool) -> str | None:  # fmt: skip
    """Why the change is refused before anything of it runs, or None."""
    return (
        refusal(touched, findings, diff)
        or (None if allow_api_changes else api_check(ws, touched))
        or (None if all_files else size_refusal(touched, diff))
    )


class Runner:
    """What every change of one run shares: backend, audit log, environment, git lock."""

    def __init__(self, analysis: AnalysisReport, root: Path, options: ImplementOptions,
                 settings: Settings, environment: ProjectEnvironment,
                 tracker: Tracker) -> None:  # fmt: skip
        self.analysis, self.root, self.options, self.settings = analysis, root, options, settings
        self.environment, self.tracker = environment, tracker
        self.work_id = uuid.uuid4().hex
        """Names this invocation's worktrees and patches (unique even inside one workflow run)."""
        self.run_id = options.run_id or self.work_id
        """The audit run id (a workflow's run id when a workflow task runs the implementer)."""
        self.log = options.log or logging.getLogger("ai_conductor.implement")
        self.backend: Backend = load_backend(options.backend, options.backend_options)
        self.sink = open_audit_log(settings)
        self.git_lock = threading.Lock()  # worktree add/remove and ref updates: one at a time
        self.stopped: str | None = None
        self.history = History(settings)
        self.run_dir = settings.home_dir / "worktrees" / self.work_id
        self.branch_names: dict[str, str] = {}

    def branch(self, group: str) -> str:
        prefix = f"conductor/{self.options.workflow_id}/{self.options.task_id}"
        return f"{prefix}/{self.branch_names.get(group) or branches.slug(group)}"

    def record(self, group: str, attempt: Attempt, findings: list[Finding]) -> None:
        tests = attempt.verification.tests if attempt.verification else None
        verdict = attempt.reason.strip().splitlines()[0][:300] if attempt.reason.strip() else ""
        self.log.info("%s attempt %d: %s%s", group, attempt.number, attempt.status.value,
                      f": {verdict}" if verdict else "")  # fmt: skip
        self.sink.record(
            ev.AuditEvent(
                workflow_id=self.options.workflow_id, task_id=self.options.task_id,
                agent_role="implementer", run_id=self.run_id, action="attempt",
                status=attempt.status.value,
                error_message=None if attempt.status is AttemptStatus.KEPT else attempt.reason,
                metadata={
                    "group": group, "attempt": attempt.number, "backend": self.backend.name,
                    "touched": attempt.touched, "findings": [f.fingerprint for f in findings],
                    "tests_passed": tests.passed if tests else None, "reason": attempt.reason[:500],
                    "environment": self.environment.kind.value,
                    "environment_reason": self.environment.reason[:300],
                    "python": self.environment.python,
                },
            )
        )  # fmt: skip

    def change(self, name: str, findings: list[Finding]) -> ChangeResult:
        result = ChangeResult(
            group=name, findings=[f.fingerprint for f in findings], status=AttemptStatus.DISCARDED
        )
        branch = self.branch(name)
        with self.git_lock:
            why = branches.problem(self.root, branch)
            ws = (
                None
                if why
                else Workspace.create(self.root, self.run_dir, branch.rsplit("/", 1)[-1])
            )
        if ws is None:
            result.status, result.summary = AttemptStatus.ERROR, str(why)
            self.tracker.finished(False)
            return result
        try:
            self._attempts(ws, name, findings, branch, result)
        finally:
            with self.git_lock:
                ws.remove()
            self.tracker.finished(result.status is AttemptStatus.KEPT)
        return result

    def _attempts(self, ws: Workspace, name: str, findings: list[Finding], branch: str,
                  result: ChangeResult) -> None:  # fmt: skip
        feedback: str | None = None
        for n in range(1, self.options.attempts + 1):
            spent = self.options.budget.exceeded()
            if spent:
                self.stopped = spent
                result.status, result.summary = AttemptStatus.ERROR, f"stopped: {spent}"
                return
            self.tracker.attempt(name, n)
            attempt, patch, commit, fatal = self._attempt(ws, name, findings, n, feedback)
            result.attempts.append(attempt)
            self.record(name, attempt, findings)
            if attempt.status is AttemptStatus.KEPT and commit:
                self._keep(ws, name, findings, attempt, patch, commit, branch, result)
                return
            result.status = attempt.status  # discarded or error, until one is kept
            feedback = attempt.reason
            ws.reset()
            if fatal:
                return

    def _keep(self, ws: Workspace, name: str, findings: list[Finding], attempt: Attempt,
              patch: str, commit: str, branch: str, result: ChangeResult) -> None:  # fmt: skip
        try:
            with self.git_lock:
                published = branches.publish(ws, branch, commit)
        except ConductorError as exc:
            attempt.status, attempt.reason = AttemptStatus.ERROR, f"verified, not published: {exc}"
            result.status, result.summary = AttemptStatus.ERROR, attempt.reason
            return
        path = (
            self.settings.home_dir / "patches" / self.work_id / f"{branch.rsplit('/', 1)[-1]}.patch"
        )
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(patch, encoding="utf-8", errors="surrogateescape")
        if published.status == "unchanged":
            result.unchanged_since = published.since_run or "an earlier run"
        result.replaced = published.previous
        path.with_suffix(".md").write_text(
            change_summary(name, findings, attempt, branch, self.backend.name, self.environment)
        )
        result.status, result.branch, result.patch = AttemptStatus.KEPT, branch, str(path)
        result.summary = attempt.summary

    def _attempt(
        self, ws: Workspace, name: str, findings: list[Finding], n: int, feedback: str | None
    ) -> tuple[Attempt, str, str | None, bool]:
        opts = self.options
        request = ChangeRequest(
            group=name, findings=findings, instructions=", ".join(opts.focus),
            history=self.history.lookup(findings) if n == 1 else [],
            allow_api_changes=opts.allow_api_changes,
        )  # fmt: skip
        commit = None
        try:
            try:
                proposal = self.backend.propose(request, ws.path, feedback)
            except AgentError as exc:  # tokens spent on a failed call still count
                opts.budget.charge(getattr(exc, "tokens", 0), getattr(exc, "cost_usd", 0))
                raise
            opts.budget.charge(proposal.tokens, proposal.cost_usd)
            if proposal.edits:
                apply_edits(ws.path, proposal.edits)
            touched = ws.touched()
            diff = ws.diff() if touched else ""
            refused = checks(ws, touched, findings, diff, allow_api_changes=opts.allow_api_changes,
                             all_files=opts.all_files) if touched else None  # fmt: skip
            if refused:
                verdict = Verification(passed=False, reason=refused)
            else:
                if touched:  # committed before the tests run: what they leave behind is not in it
                    message = f"{proposal.summary or 'fix findings'} ({name})"
                    trailers = branches.trailers(
                        self.run_id, name, [f.fingerprint for f in findings]
                    )
                    commit = ws.commit(message[:200], trailers)
                verdict = verify(
                    ws.path, touched, findings, self.analysis.findings,
                    environment=self.environment, test_timeout=opts.test_timeout,
                    tools=opts.tools, settings=self.settings,
                )  # fmt: skip
                ws.clean()
        except AgentError as exc:
            why = f"{exc}" + ("" if exc.retryable else " (not retryable)")
            attempt = Attempt(number=n, status=AttemptStatus.ERROR, reason=why)
            return attempt, "", None, not exc.retryable
        status = AttemptStatus.KEPT if verdict.passed else AttemptStatus.DISCARDED
        attempt = Attempt(
            number=n, status=status, reason=verdict.reason, touched=touched,
            verification=verdict, summary=proposal.summary,
        )  # fmt: skip
        return attempt, diff if verdict.passed else "", commit if verdict.passed else None, False


def change_summary(
    group: str, findings: Sequence[Finding], attempt: Attempt, branch: str, backend: str,
    environment: ProjectEnvironment | None = None,
) -> str:  # fmt: skip
    """The Markdown note kept beside a patch: what changed, why, which findings, the verdict,
    and where the tests ran."""
    lines = [f"# {group}", "", f"- what: {attempt.summary or 'fix findings'}",
             f"- who: the {backend} backend, attempt {attempt.number}",
             f"- branch: `{branch}`", f"- files: {', '.join(attempt.touched)}"]  # fmt: skip
    if environment is not None:
        lines.append(
            f"- tests ran in: {environment.describe()}; chosen because {environment.reason}"
        )
    lines += ["", "## Why: the findings it fixes", ""]
    lines += [f"- `{f.path}:{f.line}` {f.rule_id} ({f.severity.value}): {f.message} "
              f"[{f.fingerprint[:12]}]" for f in findings]  # fmt: skip
    lines += [
        "",
        "## Verification",
        "",
        attempt.verification.reason if attempt.verification else "",
    ]
    return "\n".join(lines) + "\n"
