"""Coverage: how many files each tool could read, in words, and the ``--min-coverage`` gate.

Every report (terminal summary, Markdown, SARIF notifications) describes a tool's coverage with
:func:`describe`, so they all say the same thing: ``bandit 788 of 1249 read, 461 failed:
syntax Python 3.11 cannot parse (461)``.
"""

from __future__ import annotations

from collections import Counter

from ai_conductor.analysis.models import AnalysisReport, ToolRun
from ai_conductor.errors import UsageError

MAX_REASONS = 3


def reasons(run: ToolRun) -> list[tuple[str, int]]:
    """Why files failed, most common first."""
    return Counter(f.reason for f in run.failures).most_common()


def describe(run: ToolRun) -> str:
    """``788 of 1249 read, 461 failed: syntax Python 3.11 cannot parse (461)``."""
    if not run.available:
        return "not installed: no file read"
    text = f"{run.files_read} of {run.files_total} read"
    if run.files_failed:
        why = reasons(run)
        shown = ", ".join(f"{reason} ({n})" for reason, n in why[:MAX_REASONS])
        more = f", {len(why) - MAX_REASONS} other reasons" if len(why) > MAX_REASONS else ""
        text += f", {run.files_failed} failed: {shown}{more}"
    return text


def check_min_coverage(value: float | None) -> float | None:
    """``value`` when it is a percentage (or None); :class:`UsageError` otherwise."""
    if value is not None and not 0 <= value <= 100:
        raise UsageError(f"--min-coverage {value:g}: give a percentage from 0 to 100")
    return value


def below(report: AnalysisReport, min_coverage: float | None) -> list[str]:
    """Tools that read less than ``min_coverage`` percent of their files, described (empty: the
    gate passes; a missing tool read nothing)."""
    if min_coverage is None:
        return []
    return [
        f"{run.name} read {run.coverage():.1f}% ({describe(run)})"
        for run in report.tools
        if run.coverage() < min_coverage
    ]
