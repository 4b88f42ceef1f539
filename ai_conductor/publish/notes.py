"""From an implement or refine report to a :class:`Publication`: which verified changes, on
which commits, what was discarded, and how everything was verified."""

from __future__ import annotations

import shlex
from collections.abc import Iterable
from pathlib import Path

from ai_conductor.analysis.models import AnalysisReport, Finding
from ai_conductor.environment.models import ProjectEnvironment
from ai_conductor.errors import UsageError
from ai_conductor.implement.models import AttemptStatus, ImplementReport, TestRun
from ai_conductor.implement.workspace import _git, _text, _toplevel
from ai_conductor.publish.models import ChangeNote, Dropped, FindingNote, Publication
from ai_conductor.refine.models import RefineReport, TidyStatus


def _sha(repo: Path, branch: str) -> str:
    return _text(_git(repo, "rev-parse", f"refs/heads/{branch}^{{commit}}").stdout).strip()


def _check_repo(repo: Path) -> None:
    """Publishing needs the codebase to be a git repository (with a remote)."""
    if _toplevel(repo.resolve()) is None:
        raise UsageError(
            f"--publish needs a git repository with a remote; {repo} is not one (the kept "
            "changes stay on branches of a temporary copy: see the patch files)"
        )


def _tests(run: TestRun | None) -> str:
    if run is None:
        return ""
    verdict = "passed" if run.passed else ("timed out" if run.timed_out else "failed")
    return f"`{shlex.join(run.command)}` {verdict} in {run.duration_s:.1f}s"


def _note(f: Finding) -> FindingNote:
    return FindingNote(rule=f"{f.tool}/{f.rule_id}", path=f.path, line=f.line,
                       message=f.message, severity=f.severity.value)  # fmt: skip


def _environment(env: ProjectEnvironment | None) -> tuple[str, str]:
    if env is None:
        return "", ""
    if env.test_command is None:  # no tests: the body's "tests: none found" line says it all
        return "", "none"
    return f"{env.describe()}; chosen because {env.reason}", shlex.join(env.test_command)


def from_implement(report: ImplementReport, analysis: AnalysisReport | None, repo: Path,
                   *, workflow_id: str, task_id: str) -> Publication:  # fmt: skip
    """The publication of an implement run's kept changes."""
    _check_repo(repo)
    known = {f.fingerprint: f for f in analysis.findings} if analysis else {}
    changes, dropped = [], []
    for c in report.changes:
        last = c.attempts[-1] if c.attempts else None
        if c.status is AttemptStatus.KEPT and c.branch:
            found = [_note(known[fp]) for fp in c.findings if fp in known]
            verdict = last.verification if last else None
            changes.append(ChangeNote(
                group=c.group, task=task_id, commit=_sha(repo, c.branch), branch=c.branch,
                title=(c.summary or f"fix {len(c.findings)} finding(s)") + f" ({c.group})",
                findings=found, files=last.touched if last else [],
                verification=verdict.reason if verdict else "",
                tests=_tests(verdict.tests if verdict else None),
            ))  # fmt: skip
        else:
            reason = (last.reason if last else c.summary) or c.status.value
            dropped.append(Dropped(group=c.group, task=task_id, status=c.status.value,
                                   reason=reason))  # fmt: skip
    env, command = _environment(report.environment)
    targeted = sum(len(c.findings) for c in report.changes)
    fixed = sum(len(c.findings) for c in changes)
    analyzer = []
    if analysis is not None:
        analyzer.append(f"before: analysis run {analysis.run_id} reported "
                        f"{len(analysis.findings)} finding(s)")  # fmt: skip
    analyzer.append(
        f"after: each change re-analysed in its worktree: its {fixed} of {targeted} targeted "
        "finding(s) gone, nothing new at or above medium in the files it touched"
    )
    return Publication(
        workflow_id=workflow_id, tasks=[task_id], run_id=report.run_id, codebase=report.codebase,
        changes=changes, dropped=dropped, analyzer=analyzer, environment=env,
        test_command=command, backend=report.backend, tokens=report.tokens,
        cost_usd=report.cost_usd,
        duration_s=(report.finished_at - report.started_at).total_seconds(),
    )  # fmt: skip


def from_refine(report: RefineReport, repo: Path, *, workflow_id: str, task_id: str) -> Publication:
    """The publication of a refine run's kept tidy-up changes."""
    _check_repo(repo)
    changes, dropped = [], []
    for t in report.tidy or []:
        verdict = t.verification
        if t.status is TidyStatus.KEPT and t.branch:
            changes.append(ChangeNote(
                group=t.name, task=task_id, commit=_sha(repo, t.branch), branch=t.branch,
                title=f"tidy formatting and import order ({len(t.touched)} file(s), "
                      f"{t.lines} line(s))",
                files=t.touched, verification=verdict.reason if verdict else t.reason,
                tests=_tests(verdict.tests if verdict else None),
            ))  # fmt: skip
        elif t.status in (TidyStatus.DISCARDED, TidyStatus.ERROR):
            dropped.append(Dropped(group=t.name, task=task_id, status=t.status.value,
                                   reason=t.reason))  # fmt: skip
    env, command = _environment(report.environment)
    return Publication(
        workflow_id=workflow_id, tasks=[task_id], run_id=report.run_id, codebase=report.codebase,
        changes=changes, dropped=dropped, environment=env, test_command=command,
        analyzer=[f"each tidy-up change re-analysed: nothing new at or above medium "
                  f"(scope: {report.tidy_scope or 'every Python file'})"],
        tokens=report.stack.tokens if report.stack else 0,
        cost_usd=report.stack.cost_usd if report.stack else 0.0,
        duration_s=(report.finished_at - report.started_at).total_seconds(),
    )  # fmt: skip


def combine(parts: Iterable[Publication]) -> Publication:
    """One publication of several tasks' changes (weekly-improve: fix, then refine)."""
    parts = list(parts)
    first = parts[0]
    return first.model_copy(update={
        "tasks": [t for p in parts for t in p.tasks],
        "changes": [c for p in parts for c in p.changes],
        "dropped": [d for p in parts for d in p.dropped],
        "analyzer": [line for p in parts for line in p.analyzer],
        "tokens": sum(p.tokens for p in parts), "cost_usd": sum(p.cost_usd for p in parts),
        "duration_s": sum(p.duration_s for p in parts),
        "backend": ", ".join(dict.fromkeys(p.backend for p in parts if p.backend)),
        "environment": next((p.environment for p in parts if p.environment), ""),
        "test_command": next((p.test_command for p in parts if p.test_command), ""),
    })  # fmt: skip
