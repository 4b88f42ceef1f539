"""Precision-first merging: one finding per problem, carrying the more precise tool's verdict.

Three tools can report the same problem: ruff's S rules mirror bandit's B tests (S608 ==
B608), and the taint rules (``ai_conductor.analysis.taint``) model the same sinks with data
flow. Each overlap was decided on the labelled corpus (``benchmarks/corpus/security``,
``python benchmarks/security.py --rules``; the table is in ``docs/analysis-merging.md`` and a
test re-derives it from the corpus):

1. **Taint over patterns.** A ruff or bandit finding at a sink the taint rules model
   (:data:`REFUTABLE`) merges into the taint finding whose sink or trace covers its line (one
   finding, with the CWE and the source -> sink trace). Where no request data reaches the sink,
   it is kept only when a function parameter, ``sys.argv``, the environment or ``input()`` does
   (a ``reach`` finding: the caller may pass request data, beyond an intra-procedural engine);
   when only constants, sanitized values or table lookups reach it, data flow refutes it and it
   is dropped (counted in ``report.extra["merge"]``). This needs the taint tool to have run;
   without it nothing is refuted.
2. **Our rule over an equal pattern rule.** Weak hashes: the taint tool's ``weak-hash`` rule
   (CWE-328) matched ruff S324 / bandit B324 case for case; it wins, and theirs are dropped
   where it ran.
3. **ruff over bandit.** Where ruff's twin flagged every vulnerable case bandit's test did with
   no more false positives, bandit does not run that test at all when ruff runs
   (:data:`BANDIT_SKIPPED_WITH_RUFF`, faster) and ruff's finding is kept when both report.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Collection, Iterable, Mapping, Sequence
from typing import Any

from ai_conductor.analysis.models import Finding
from ai_conductor.analysis.normalize import merge_duplicates
from ai_conductor.analysis.rules import check_class, equivalent
from ai_conductor.analysis.taint import REACH

TAINT = "taint"

REFUTABLE = frozenset(
    {"102", "301", "302", "307", "308", "310", "506", "608", "610", "611", "703", "704"}
    | {str(n) for n in range(602, 608)}
    | {"609"}
    | {str(n) for n in range(313, 321)}
)
"""ruff S / bandit B numbers whose checks are calls the taint rules model as sinks."""

DOMINATED_BY_TAINT = {"303": "weak-hash", "324": "weak-hash"}
"""Pattern rules a ``mode: search`` rule of the taint tool matched case for case."""

BANDIT_SKIPPED_WITH_RUFF = (
    "B102", "B113", "B301", "B302", "B307", "B308", "B310", "B314", "B318", "B324",
    "B501", "B506", "B602", "B603", "B605", "B607", "B608", "B611", "B704",
)  # fmt: skip
"""bandit tests whose ruff twin (same number) did at least as well on the corpus."""


def _number(finding: Finding) -> str | None:
    rule = finding.rule_id
    if finding.tool in ("ruff", "bandit") and len(rule) == 4 and rule[1:].isdigit():
        return rule[1:] if rule[0] in "SB" else None
    return None


def _covers(taint: Finding, other: Finding) -> bool:
    """The taint finding's sink or a step of its trace lies on ``other``'s lines (a call
    spread over lines: ruff reports ``eval(`` on one line, the sink argument is on the next)."""
    first, last = other.line, max(other.line, other.end_line)
    overlaps = taint.line <= last and first <= taint.end_line
    return overlaps or any(first <= s.line <= last for s in taint.trace)


def _absorb(kept: Finding, other: Finding) -> None:
    """``other`` reported the same problem: record it, keep ``kept``'s verdict and CWE."""
    kept.also_reported_by.append(f"{other.tool}:{other.rule_id}")
    kept.tags = sorted(set(kept.tags) | {t for t in other.tags if not t.startswith("CWE-")})
    if other.line == kept.line:
        kept.fixable = kept.fixable or other.fixable


def merge(
    findings: Iterable[Finding], ran: Collection[str]
) -> tuple[list[Finding], dict[str, int]]:
    """The merged findings and how many of each ``tool:rule`` data flow refuted.

    ``ran``: tools that ran without a tool-level error (only they can refute others).
    """
    taint: dict[tuple[str, str], list[Finding]] = defaultdict(list)
    reach: dict[str, list[Finding]] = defaultdict(list)
    others: list[Finding] = []
    for f in findings:
        if f.tool == TAINT and f.rule_id == REACH:
            reach[f.path].append(f)
        elif f.tool == TAINT:
            taint[(f.path, check_class(TAINT, f.rule_id) or "")].append(f)
        else:
            others.append(f)
    refuted: Counter[str] = Counter()
    kept: list[Finding] = []
    for f in others:
        number = _number(f)
        klass = check_class(f.tool, f.rule_id)
        if TAINT not in ran or number is None or klass is None:
            kept.append(f)
            continue
        reported = [t for t in taint.get((f.path, klass), []) if _covers(t, f)]
        if reported:
            _absorb(min(reported, key=lambda t: abs(t.line - f.line)), f)
        elif number in DOMINATED_BY_TAINT:
            refuted[_key(f)] += 1
        elif number not in REFUTABLE or any(_covers(t, f) for t in reach[f.path]):
            kept.append(f)
        else:
            refuted[_key(f)] += 1
    reported_taint = [t for group in taint.values() for t in group]
    merged = merge_duplicates(kept, equivalent) + reported_taint
    return merged, dict(sorted(refuted.items()))


def _key(f: Finding) -> str:
    return f"{f.tool}:{f.rule_id}"


def skip_redundant(
    tools: Sequence[str], options: Mapping[str, Mapping[str, Any]]
) -> dict[str, dict[str, Any]]:
    """Per-tool options with bandit told to skip the tests ruff does at least as well, when
    ruff runs too (an explicit ``skip`` option given for bandit is kept and extended)."""
    merged = {name: dict(value) for name, value in options.items()}
    names = {t.strip().lower() for t in tools}
    if {"ruff", "bandit"} <= names:
        bandit = merged.setdefault("bandit", {})
        given = [str(t) for t in bandit.get("skip", ())]
        bandit["skip"] = sorted({*given, *BANDIT_SKIPPED_WITH_RUFF})
    return merged
