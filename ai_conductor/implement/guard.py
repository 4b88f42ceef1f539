"""Checks on a proposed change before the gate runs anything: it stays within its findings'
files and does not silence analyzers instead of fixing the code.

Both run before the project's tests, so a change that writes, say, a ``conftest.py`` or edits
``pyproject.toml`` to disable a rule is refused without any of its code being executed.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from ai_conductor.analysis.models import Finding

SUPPRESSION = re.compile(
    r"#\s*(?:noqa\b|nosec\b|type:\s*ignore\b|pragma:\s*no\s*cover\b|pylint:\s*disable\b)"
    r"|\bNOSONAR\b|#\s*nosemgrep\b",
    re.IGNORECASE,
)
"""Comments that hide a finding from an analyzer rather than fix it."""


def out_of_scope(touched: Sequence[str], findings: Sequence[Finding]) -> list[str]:
    """Touched files that none of the change's findings are in."""
    allowed = {f.path for f in findings}
    return [path for path in touched if path not in allowed]


def added_suppressions(diff: str) -> list[str]:
    """Added lines of a unified diff that carry a suppression comment (first five)."""
    found = []
    for line in diff.splitlines():
        if line.startswith("+") and not line.startswith("+++") and SUPPRESSION.search(line):
            found.append(line[1:].strip()[:200])
    return found[:5]


def refusal(touched: Sequence[str], findings: Sequence[Finding], diff: str) -> str | None:
    """Why the change is refused before verification, or None when it may be verified."""
    outside = out_of_scope(touched, findings)
    if outside:
        allowed = ", ".join(sorted({f.path for f in findings}))
        return (
            f"the change touched files outside its findings: {', '.join(outside)}; "
            f"change only {allowed} (other files, tests and configuration stay as they are)"
        )
    hidden = added_suppressions(diff)
    if hidden:
        return (
            "suppression comments are not fixes (noqa, nosec, type: ignore, ...): "
            + "; ".join(hidden)
            + "; fix the code instead"
        )
    return None
