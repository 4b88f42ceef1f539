"""Test helpers: a codebase written with Python 3.12 syntax, and a tool that crashes on demand."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import ClassVar

from ai_conductor.analysis.tools.base import ToolResult
from ai_conductor.errors import AnalysisToolError

MODERN = r"""import pickle

type Pair[T] = tuple[T, T]


def first[T](items: list[T]) -> T:
    return items[0]


def label(names: list[str]) -> str:
    return f"{'\n'.join(names)} {f"{f"{len(names)}"}"}"


def load(data: bytes) -> object:
    return pickle.loads(data)
"""
"""PEP 695 aliases and generics, PEP 701 f-strings (nested, backslash), and a bandit finding."""
CLASSIC = "import pickle\n\n\ndef load(data):\n    return pickle.loads(data)\n"


def write_codebase(root: Path, *, modern: int, classic: int, requires: str = ">=3.12") -> Path:
    """``modern`` files with 3.12 syntax and ``classic`` ones, spread over two packages."""
    (root / "pyproject.toml").parent.mkdir(parents=True, exist_ok=True)
    (root / "pyproject.toml").write_text(
        f'[project]\nname = "newsyntax"\nversion = "0"\nrequires-python = "{requires}"\n'
    )
    for i in range(modern + classic):
        path = root / ("pkg_a" if i % 2 else "pkg_b") / f"m{i:03d}.py"
        path.parent.mkdir(exist_ok=True)
        path.write_text(MODERN if i < modern else CLASSIC)
    return root


def modern_paths(root: Path) -> set[str]:
    return {
        p.relative_to(root).as_posix() for p in root.rglob("*.py") if "type Pair" in p.read_text()
    }


@dataclass
class CrashyTool:
    """Fails (like a crashed tool) on any chunk that contains ``boom.py``; records its chunks."""

    options: dict[str, object] = field(default_factory=dict)
    name: str = field(default="crashy", init=False)
    per_file: bool = field(default=True, init=False)
    parallel: bool = field(default=True, init=False)
    in_subprocess: bool = field(default=True, init=False)

    _lock: ClassVar[threading.Lock] = threading.Lock()
    seen: ClassVar[list[list[str]]] = []
    """Every chunk any instance was given (the engine may copy tools)."""

    def version(self) -> str | None:
        return "1.0"

    def config_key(self) -> str:
        return ""

    def run(self, root: Path, files: list[str]) -> ToolResult:
        with self._lock:
            CrashyTool.seen.append(list(files))
        if "boom.py" in files:
            raise AnalysisToolError("crashy exploded")
        return ToolResult()
