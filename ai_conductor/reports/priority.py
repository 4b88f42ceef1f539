"""What a capped report keeps: security findings first, then the most severe; and what it cut.

GitHub reads 5,000 SARIF results per run and a Markdown summary lists 50: when a report has to
leave findings out, the weak-random-for-a-token finding must not give way to unused imports.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

from ai_conductor.analysis.models import Category, Finding


def priority(finding: Finding) -> tuple[bool, int, str, int, str]:
    """Sort key: security before everything else, then severity, then place."""
    return (
        finding.category is not Category.SECURITY,
        -finding.severity.rank,
        finding.path,
        finding.line,
        finding.rule_id,
    )


def by_priority(findings: Sequence[Finding]) -> list[Finding]:
    return sorted(findings, key=priority)


def cut_by_category(dropped: Sequence[Finding]) -> str:
    """``style 800, maintainability 200 (every security finding kept)``."""
    counts = Counter(f.category.value for f in dropped)
    order = [c.value for c in Category]
    text = ", ".join(f"{c} {counts[c]}" for c in order if counts[c])
    if not counts[Category.SECURITY.value]:
        text += " (every security finding kept)"
    return text
