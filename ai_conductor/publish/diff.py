"""Lines changed since a git ref, for `conductor analyze --diff-base REF`.

``git diff -U0 REF`` against the working tree (committed and uncommitted changes alike, as the
analyzer sees the files), run in the codebase with ``--relative`` so paths match the findings';
a file that is new since REF (or untracked, not ignored) counts whole. A finding is kept when
any of its lines was added or changed.
"""

from __future__ import annotations

import codecs
import re
from collections import Counter
from pathlib import Path

from ai_conductor._git import NO_DIFF_PROGRAMS
from ai_conductor.analysis.models import AnalysisReport, Category, Severity
from ai_conductor.errors import UsageError
from ai_conductor.implement.workspace import _git, _text

Changed = dict[str, set[int] | None]
"""Path -> changed line numbers; None: every line (a new file)."""
_HUNK = re.compile(r"^@@ -\d+(?:,\d+)? \+(\d+)(?:,(\d+))? @@")


def _path(header: str) -> str:
    name = header.strip()
    if name.startswith('"'):  # quoted by git: C-style escapes, UTF-8 bytes as octal
        raw = codecs.escape_decode(name[1:-1].encode())[0]
        name = bytes(raw).decode("utf-8", "surrogateescape")
    return name[2:] if name.startswith("b/") else name


def changed_lines(codebase: Path, ref: str) -> Changed:
    """What changed in ``codebase`` since ``ref`` (UsageError for an unknown ref or no git)."""
    if _git(codebase, "rev-parse", "--verify", "-q", f"{ref}^{{commit}}", check=False).returncode:
        raise UsageError(f"--diff-base {ref!r} is not a commit in {codebase} (fetch it first, "
                         "e.g. git fetch origin main, and pass origin/main)")  # fmt: skip
    out = _text(_git(codebase, "-c", "core.quotePath=false", "diff", "-U0", "--no-color",
                     "--no-renames", "--relative", *NO_DIFF_PROGRAMS, ref, "--",
                     error=UsageError).stdout)  # fmt: skip
    changed: Changed = {}
    current: str | None = None
    new_file = False
    for line in out.splitlines():
        if line.startswith("--- "):
            new_file = line[4:].strip() == "/dev/null"
        elif line.startswith("+++ "):
            current = None if line[4:].strip() == "/dev/null" else _path(line[4:])
            if current is not None:
                changed[current] = None if new_file else set()
        elif current is not None and (match := _HUNK.match(line)):
            lines = changed[current]
            if lines is not None:
                start, count = int(match.group(1)), int(match.group(2) or "1")
                lines.update(range(start, start + count))
    others = _git(codebase, "ls-files", "--others", "--exclude-standard", "-z")
    for name in _text(others.stdout).split("\0"):
        if name:
            changed[name] = None
    return changed


def on_changed_lines(report: AnalysisReport, changed: Changed, ref: str) -> AnalysisReport:
    """``report`` with only the findings on changed lines (summary recounted, a note added)."""
    kept = []
    for f in report.findings:
        lines = changed.get(f.path, set())
        if lines is None or any(n in lines for n in range(f.line, f.end_line + 1)):
            kept.append(f)
    severities, categories = Counter(f.severity for f in kept), Counter(f.category for f in kept)
    summary = report.summary.model_copy(update={
        "total": len(kept),
        "by_severity": {s.value: severities[s] for s in Severity if severities[s]},
        "by_category": {c.value: categories[c] for c in Category if categories[c]},
        "new": sum(f.status.value == "new" for f in kept),
        "existing": sum(f.status.value == "existing" for f in kept),
    })  # fmt: skip
    dropped = len(report.findings) - len(kept)
    note = (f"--diff-base {ref}: {len(kept)} finding(s) on the lines changed in "
            f"{len(changed)} file(s); {dropped} elsewhere not reported")  # fmt: skip
    return report.model_copy(
        update={"findings": kept, "summary": summary, "warnings": [*report.warnings, note]}
    )
