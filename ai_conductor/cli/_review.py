"""`conductor analyze --diff-base REF [--publish]`: narrow the report to the changed lines, and
post it as a pull-request review."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from rich.console import Console
from rich.markup import escape

from ai_conductor.analysis.models import AnalysisReport
from ai_conductor.errors import UsageError


@dataclass
class ReviewFlags:
    diff_base: str | None = None
    publish: bool = False
    pull: int | None = None
    remote: str = "origin"
    forge: str | None = None
    changed: dict[str, set[int] | None] | None = None
    """Set by :func:`narrow`: the lines changed since ``diff_base``."""

    def check(self) -> None:
        if self.publish and self.diff_base is None:
            raise UsageError("analyze --publish reviews a pull request: add --diff-base REF "
                             "(the pull request's base, e.g. origin/main)")  # fmt: skip
        if not self.publish and (self.pull is not None or self.forge or self.remote != "origin"):
            raise UsageError("--pull, --forge and --remote go with --publish")


def narrow(report: AnalysisReport, codebase: Path, flags: ReviewFlags | None) -> AnalysisReport:
    """Only the findings on lines changed since ``--diff-base`` (the report unchanged without)."""
    if flags is None or flags.diff_base is None:
        return report
    from ai_conductor.publish.diff import changed_lines, on_changed_lines

    flags.changed = changed_lines(codebase, flags.diff_base)
    return on_changed_lines(report, flags.changed, flags.diff_base)


def post(report: AnalysisReport, codebase: Path, flags: ReviewFlags | None, err: Console) -> None:
    """Post (or update) the review when ``--publish`` was given."""
    if flags is None or not flags.publish or flags.diff_base is None or flags.changed is None:
        return
    from ai_conductor.publish.review import publish_review

    number, url, done = publish_review(
        codebase, report, flags.changed, flags.diff_base,
        remote=flags.remote, forge_name=flags.forge, pull=flags.pull,
    )  # fmt: skip
    err.print(f"[bold]review {done.summary}[/] on pull request #{number} ({escape(url)}): "
              f"{done.created} comment(s) posted, {done.updated} edited, {done.deleted} "
              f"removed, {done.kept} unchanged", highlight=False)  # fmt: skip
