"""One history per codebase: compare a run with the last one, then narrow the report.

Every run is compared and stored whole, whatever the focus: the focus (and ``--new-only``)
only narrow what is reported, never what is remembered. What a run could not check again (a
tool that did not run or is missing, a file a tool could not read, a skipped file) is neither
"fixed" nor forgotten: those earlier findings are carried into the stored run unchanged.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from ai_conductor.analysis.models import (
    AnalysisReport,
    Category,
    Finding,
    FindingStatus,
    Severity,
    Summary,
)

if TYPE_CHECKING:
    from ai_conductor.analysis.memory import FindingsMemory
    from ai_conductor.analysis.memory_schema import Dismissal

NEW, EXISTING, FIXED = FindingStatus.NEW, FindingStatus.EXISTING, FindingStatus.FIXED


@dataclass(frozen=True)
class Comparison:
    """A run compared with its codebase's history."""

    report: AnalysisReport
    """Statuses set, fixed listed, dismissed left out, summary recomputed."""
    carried: list[Finding]
    """Earlier findings the run could not check again: stored with it, not reported."""
    dismissed: list[Finding]
    """The run's findings left out because a user dismissed them."""


@dataclass(frozen=True)
class Baseline:
    """The latest stored run of a codebase, as (fingerprint, tool, path) of its findings."""

    run_id: str
    index: list[tuple[str, str, str]]


def unchecked(report: AnalysisReport) -> Callable[[str, str], bool]:
    """Whether ``report`` could not have found a finding of (tool, path) again."""
    ran = {t.name for t in report.tools if t.available}
    failed = {(t.name, f.path) for t in report.tools for f in t.failures}
    skipped = {s.path for s in report.skipped}
    return lambda tool, path: tool not in ran or (tool, path) in failed or path in skipped


def compare(report: AnalysisReport, memory: FindingsMemory) -> Comparison:
    """``report`` classified against the codebase's history (see :class:`Comparison`)."""
    dismissed = memory.dismissed()
    dropped = [f for f in report.findings if f.fingerprint and f.fingerprint in dismissed]
    base = memory.baseline(report.codebase_id)
    if base is None:
        return Comparison(_classify(report, set(), [], dismissed, copy=False), [], dropped)
    stale = unchecked(report)
    present = {f.fingerprint for f in report.findings if f.fingerprint}
    carry = {fp for fp, tool, path in base.index if fp not in present and stale(tool, path)}
    carry -= set(dismissed)
    gone = {fp for fp, _, _ in base.index if fp not in present and fp not in carry}
    gone -= set(dismissed)
    loaded = memory.load(base.run_id, carry | gone) if carry or gone else []
    before = {fp for fp, _, _ in base.index} - carry
    gone_findings = [f for f in loaded if f.fingerprint in gone]
    out = _classify(report, before, gone_findings, dismissed, copy=False)
    carried = list({f.fingerprint: f for f in loaded if f.fingerprint in carry}.values())
    return Comparison(out, carried, dropped)


def classify(
    report: AnalysisReport, previous: list[Finding] | None, dismissed: Mapping[str, Dismissal]
) -> AnalysisReport:
    """A copy of ``report`` compared with the ``previous`` run's findings (None: no such run).

    Dismissed findings are dropped (and counted); the rest are new or existing; previous findings
    that are gone (and not dismissed) become ``fixed``; the summary is recomputed.
    """
    earlier = [p for p in previous or [] if p.fingerprint and p.status is not FIXED]
    before = {p.fingerprint for p in earlier}
    return _classify(report, before, earlier, dismissed)


def _classify(
    report: AnalysisReport,
    before: set[str],
    earlier: Iterable[Finding],
    dismissed: Mapping[str, Dismissal],
    *,
    copy: bool = True,
) -> AnalysisReport:
    """``copy=False`` sets the statuses on the report's own findings (a fresh scan's)."""
    out = report.model_copy()
    present = {f.fingerprint for f in out.findings if f.fingerprint}
    kept = [f for f in out.findings if not (f.fingerprint and f.fingerprint in dismissed)]
    if copy:
        kept = [f.model_copy() for f in kept]
    for f in kept:
        f.status = EXISTING if f.fingerprint in before else NEW
    fixed: dict[str, Finding] = {}
    for p in earlier:
        if p.fingerprint not in present and p.fingerprint not in dismissed:
            fixed.setdefault(p.fingerprint, p.model_copy(update={"status": FIXED}, deep=True))
    out.findings, out.fixed = kept, list(fixed.values())
    out.summary = summarize(kept, fixed=len(fixed), dismissed=len(report.findings) - len(kept))
    return out


def summarize(
    findings: Sequence[Finding], *, fixed: int, dismissed: int, hidden: int = 0
) -> Summary:
    """Counts of the reported ``findings``; ``hidden`` existing ones were left out of them."""
    severities, categories = (
        Counter(f.severity for f in findings),
        Counter(f.category for f in findings),
    )
    return Summary(
        total=len(findings),
        by_severity={s.value: severities[s] for s in Severity if severities[s]},
        by_category={c.value: categories[c] for c in Category if categories[c]},
        new=sum(f.status is NEW for f in findings),
        existing=sum(f.status is EXISTING for f in findings) + hidden,
        fixed=fixed,
        dismissed=dismissed,
    )


def narrow(
    report: AnalysisReport,
    focus: Sequence[str],
    *,
    new_only: bool = False,
    dismissed: Sequence[Finding] | None = None,
) -> AnalysisReport:
    """The report of ``focus`` (all areas when empty), only new findings with ``new_only``.

    ``summary.total``, ``by_severity`` and ``by_category`` count exactly the reported findings;
    ``new``, ``existing``, ``fixed`` and ``dismissed`` are the history of the focused areas
    (with ``new_only``, the existing ones are counted but not listed). ``dismissed``: the
    dismissed findings of the run, to count those of the focus.
    """
    from ai_conductor.analysis.engine import in_focus

    if not focus and not new_only:
        return report
    findings = [f for f in report.findings if in_focus(f, focus)]
    fixed = [f for f in report.fixed if in_focus(f, focus)]
    shown = [f for f in findings if f.status is NEW] if new_only else findings
    hidden = len(findings) - len(shown)
    n_dismissed = report.summary.dismissed
    if focus and dismissed is not None:
        n_dismissed = sum(in_focus(f, focus) for f in dismissed)
    out = report.model_copy(
        update={"findings": shown, "fixed": fixed, "focus": list(focus) or report.focus}
    )
    out.summary = summarize(shown, fixed=len(fixed), dismissed=n_dismissed, hidden=hidden)
    return out
