"""Merging duplicates across tools and giving findings stable fingerprints.

A fingerprint is ``sha256(rule, path, normalised source context, occurrence)``: the context is
the finding's first source line with all whitespace removed, so it survives lines moving and
whitespace-only edits; ``occurrence`` tells apart identical lines with the same rule in a file.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path

from ai_conductor.analysis.models import Finding

TOOL_PRIORITY = {"ruff": 0, "bandit": 1, "radon": 2, "semgrep": 3, "vulture": 4}


def merge_duplicates(
    findings: list[Finding], equivalent: Callable[[str, str, str, str], bool]
) -> list[Finding]:
    """One finding per problem: equivalent rules of different tools on the same line merge.

    The surviving findings are updated in place (``also_reported_by``, severity, tags).
    """
    by_line: dict[tuple[str, int], list[Finding]] = defaultdict(list)
    for f in sorted(findings, key=lambda f: (TOOL_PRIORITY.get(f.tool, 9), f.tool, f.rule_id)):
        by_line[(f.path, f.line)].append(f)
    merged: list[Finding] = []
    for group in by_line.values():
        kept: list[Finding] = []
        for f in group:
            twin = next(
                (k for k in kept
                 if k.tool != f.tool and equivalent(k.tool, k.rule_id, f.tool, f.rule_id)),
                None,
            )  # fmt: skip
            if twin is None:  # findings are fresh objects (tool output or cache): no copy needed
                kept.append(f)
                continue
            twin.also_reported_by.append(f"{f.tool}:{f.rule_id}")
            if f.severity.rank > twin.severity.rank:
                twin.severity = f.severity
            twin.tags = sorted(set(twin.tags) | set(f.tags))
            twin.fixable = twin.fixable or f.fixable
        merged.extend(kept)
    return merged


def _context(lines: list[str], line: int) -> str:
    text = lines[line - 1] if 0 < line <= len(lines) else ""
    return "".join(text.split())


def fingerprint_all(findings: list[Finding], root: Path) -> None:
    """Set ``fingerprint`` on every finding (in place), reading each file's source once."""
    sources: dict[str, list[str]] = {}
    seen: dict[tuple[str, str, str], int] = defaultdict(int)
    for f in sorted(findings, key=lambda f: (f.path, f.line, f.column, f.rule_id)):
        if f.path not in sources:
            try:
                text = (root / f.path).read_text(encoding="utf-8", errors="replace")
                sources[f.path] = text.splitlines()
            except OSError:
                sources[f.path] = []
        context = _context(sources[f.path], f.line)
        key = (f.rule_id, f.path, context)
        occurrence = seen[key]
        seen[key] += 1
        blob = "\0".join((f.rule_id, f.path, context, str(occurrence)))
        f.fingerprint = hashlib.sha256(blob.encode("utf-8", "surrogateescape")).hexdigest()[:32]
