"""Hotspots: complex functions, weighted by how often their file changes in git (churn)."""

from __future__ import annotations

import subprocess
from collections import Counter
from collections.abc import Sequence
from pathlib import Path

from ai_conductor._git import git_env
from ai_conductor.analysis.models import Hotspot

TOP = 20
MIN_COMPLEXITY = 6
HISTORY = 500
"""Commits of history read for churn."""


def churn(root: Path) -> Counter[str]:
    """How many of the last ``HISTORY`` commits touched each file (empty outside git)."""
    if not (root / ".git").exists():
        return Counter()
    try:
        out = subprocess.run(
            ["git", "log", f"-n{HISTORY}", "--no-merges", "--format=", "--name-only", "--", "."],
            cwd=root, env=git_env(root), stdin=subprocess.DEVNULL, capture_output=True,
            text=True, timeout=60, check=True,
        ).stdout  # fmt: skip
    except (OSError, subprocess.SubprocessError):
        return Counter()
    return Counter(line for line in out.splitlines() if line.endswith(".py"))


def candidates(functions: Sequence[Hotspot]) -> list[Hotspot]:
    """The functions complex enough to rank (the others never make the list)."""
    return [fn for fn in functions if fn.complexity >= MIN_COMPLEXITY]


def rank_spots(spots: Sequence[Hotspot], root: Path, top: int = TOP) -> list[Hotspot]:
    """The ``top`` of ``spots`` by complexity x (1 + churn)."""
    changes = churn(root) if spots else Counter()
    scored = sorted(
        ((fn.complexity * (1 + changes.get(fn.path, 0)), fn) for fn in spots),
        key=lambda pair: (-pair[0], pair[1].path, pair[1].line),
    )
    return [
        fn.model_copy(update={"churn": changes.get(fn.path, 0), "score": float(score)})
        for score, fn in scored[:top]
    ]
