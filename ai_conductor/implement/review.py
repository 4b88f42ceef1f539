"""Reviewable changes: no single change over a size a reviewer can read.

The limit is :data:`MAX_FILES` files or :data:`MAX_LINES` changed lines (added plus removed)
per change. Bigger scopes are split by directory (package) into several changes, each under
the limit where the files allow it (one file is never split); a proposed change over the limit
is refused with the reason (fed back to the backend). ``--all-files`` lifts the limit.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from pathlib import PurePosixPath

MAX_FILES = 20
MAX_LINES = 500


def changed_lines(diff: str) -> int:
    """Added plus removed lines of a unified diff."""
    return sum(
        1 for line in diff.splitlines()
        if line[:1] in "+-" and not line.startswith(("+++ ", "--- "))
    )  # fmt: skip


def size_refusal(touched: Sequence[str], diff: str) -> str | None:
    """Why the change is too big to review, or None."""
    lines = changed_lines(diff)
    if len(touched) <= MAX_FILES and lines <= MAX_LINES:
        return None
    return (
        f"the change is too big to review: {len(touched)} files, {lines} changed lines "
        f"(the limit is {MAX_FILES} files and {MAX_LINES} lines); make a smaller change that "
        "fixes the findings, or run with --all-files"
    )


def _label(folder: str) -> str:
    return "root" if folder in ("", ".") else folder


def _slices(files: list[str], weights: Mapping[str, int]) -> list[list[str]]:
    out: list[list[str]] = [[]]
    lines = 0
    for path in files:
        w = weights.get(path, 0)
        if out[-1] and (len(out[-1]) >= MAX_FILES or lines + w > MAX_LINES):
            out.append([])
            lines = 0
        out[-1].append(path)
        lines += w
    return out


def chunk(
    paths: Sequence[str], weights: Mapping[str, int] | None = None
) -> list[tuple[str, list[str]]]:
    """``paths`` in reviewable chunks, by directory: ``(label, paths)``, deterministic.

    Whole directories are packed together while the chunk stays within the limit; a directory
    over it is sliced. ``weights``: changed lines per path (none: count files only).
    """
    weights = weights or {}
    by_dir: dict[str, list[str]] = defaultdict(list)
    for path in sorted(set(paths)):
        by_dir[str(PurePosixPath(path).parent)].append(path)
    chunks: list[tuple[str, list[str]]] = []
    current: list[str] = []
    first, last, lines = "", "", 0

    def name() -> str:
        return first if first == last else f"{first}-to-{last}"

    for folder in sorted(by_dir):
        files = by_dir[folder]
        size = sum(weights.get(p, 0) for p in files)
        if current and (len(current) + len(files) > MAX_FILES or lines + size > MAX_LINES):
            chunks.append((name(), current))
            current, lines = [], 0
        if len(files) > MAX_FILES or size > MAX_LINES:
            parts = _slices(files, weights)
            chunks += [(f"{_label(folder)}-part{i}" if len(parts) > 1 else _label(folder), part)
                       for i, part in enumerate(parts, 1)]  # fmt: skip
            continue
        if not current:
            first = _label(folder)
        last = _label(folder)
        current += files
        lines += size
    if current:
        chunks.append((name(), current))
    return chunks
