"""Fault-injection helpers: git repositories with findings, waiting, and the figures recorder.

Each fault test records its figures (kills injected, events lost, requests, ...) with
:func:`record_figures`; they are printed at the end of the session (``-s`` or the terminal
summary) and, when ``CONDUCTOR_FAULT_FIGURES`` names a file, appended to it as JSON lines.
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path
from typing import Any

GIT = ["git", "-c", "user.name=t", "-c", "user.email=t@e", "-c", "commit.gpgsign=false"]
FIGURES: list[dict[str, Any]] = []


def record_figures(test: str, **figures: Any) -> None:
    """Keep ``figures`` for the session summary (and CONDUCTOR_FAULT_FIGURES)."""
    FIGURES.append({"test": test, **figures})
    target = os.environ.get("CONDUCTOR_FAULT_FIGURES")
    if target:
        with open(target, "a", encoding="utf-8") as out:
            out.write(json.dumps({"test": test, **figures}) + "\n")


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if FIGURES:
        terminalreporter.section("fault injection figures")
        for row in FIGURES:
            terminalreporter.write_line(json.dumps(row))


def git(root: Path, *args: str) -> str:
    return subprocess.run(
        [*GIT, *args], cwd=root, capture_output=True, text=True, check=True
    ).stdout


def make_repo(root: Path, files: dict[str, str]) -> Path:
    """A git repository holding ``files``, all committed."""
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)
    git(root, "init", "-q", "-b", "main")
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "init")
    return root


def f401_repo(root: Path, modules: int = 3) -> Path:
    """A repository whose modules each import something unused (ruff F401, safely fixable)."""
    files = {f"pkg/m{i}.py": f"import os\nimport sys\n\n\ndef f{i}():\n    return {i}\n"
             for i in range(modules)}  # fmt: skip
    return make_repo(root, {"pkg/__init__.py": "", **files})
