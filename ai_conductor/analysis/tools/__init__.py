"""The analyzer-tool registry, and the helpers the subprocess-based plugins share.

Built-in tools are named in :data:`TOOLS`; a third-party tool registers a name in the
``ai_conductor.analyzer_tools`` entry-point group or is named by its import path
``package.module:Class`` (the plugin loader, ``ai_conductor._plugins``). Either way the class is
instantiated with no argument, or with ``options=`` when options are given, and must satisfy
:class:`~ai_conductor.protocols.AnalyzerTool`; an attribute that is not a class with the tool's
methods is refused before anything is called.
"""

from __future__ import annotations

import functools
import importlib.metadata
import os
import shutil
import subprocess
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from ai_conductor._plugins import Family, create
from ai_conductor.analysis.tools.base import ToolResult
from ai_conductor.errors import AnalysisToolError
from ai_conductor.protocols import AnalyzerTool

__all__ = [
    "DEFAULT_TOOLS",
    "FAMILY",
    "OPTIONAL_TOOLS",
    "TOOLS",
    "AnalyzerTool",
    "ToolResult",
    "find_binary",
    "load_tool",
    "run_command",
]

TOOLS: dict[str, str] = {
    "ruff": "ai_conductor.analysis.tools.ruff:RuffTool",
    "bandit": "ai_conductor.analysis.tools.bandit:BanditTool",
    "radon": "ai_conductor.analysis.tools.radon:RadonTool",
    "vulture": "ai_conductor.analysis.tools.vulture:VultureTool",
    "semgrep": "ai_conductor.analysis.tools.semgrep:SemgrepTool",
    "taint": "ai_conductor.analysis.tools.taint:TaintTool",
}
FAMILY = Family("analyzer tool", "ai_conductor.analyzer_tools", TOOLS, AnalyzerTool)
"""For the plugin loader: the built-ins above, plugins, import paths."""
DEFAULT_TOOLS = ("ruff", "bandit", "radon", "taint")
OPTIONAL_TOOLS = ("vulture", "semgrep")

TIMEOUT_S = 600.0
BATCH = 2000
"""Files per subprocess call: keeps the argv well below the OS limit on huge codebases."""


def load_tool(name: str, options: Mapping[str, Any] | None = None) -> AnalyzerTool:
    """The tool called ``name``: a short name, a plugin's name or ``package.module:Class``."""
    tool: AnalyzerTool = create(FAMILY, name, **({"options": dict(options)} if options else {}))
    return tool


@functools.lru_cache(maxsize=32)
def find_binary(name: str) -> str | None:
    """``name`` installed next to the running Python first (the venv), then on PATH."""
    folder = Path(sys.executable).parent
    for candidate in (folder / name, folder / f"{name}.exe"):
        if candidate.is_file() and os.access(candidate, os.X_OK):
            return str(candidate)
    return shutil.which(name)


def run_command(tool: str, argv: Sequence[str], cwd: Path, ok_codes: Sequence[int] = (0,)) -> str:
    """Run ``argv`` (no shell, no stdin, with a timeout) and return its stdout.

    Raises ``AnalysisToolError`` naming the tool when it cannot start, runs too long or exits
    with a code outside ``ok_codes``.
    """
    try:
        done = subprocess.run(
            list(argv), cwd=cwd, stdin=subprocess.DEVNULL, capture_output=True,
            text=True, encoding="utf-8", errors="replace", timeout=TIMEOUT_S, check=False,
        )  # fmt: skip
    except FileNotFoundError as exc:
        raise AnalysisToolError(f"{tool} is not installed: pip install {tool}") from exc
    except subprocess.TimeoutExpired as exc:
        raise AnalysisToolError(
            f"{tool} ran longer than {TIMEOUT_S:.0f} s on {cwd}; analyse fewer files"
        ) from exc
    except OSError as exc:
        raise AnalysisToolError(f"{tool} could not start: {exc}") from exc
    if done.returncode not in ok_codes:
        detail = (done.stderr or done.stdout).strip()[-2000:] or "no output"
        raise AnalysisToolError(f"{tool} failed with exit code {done.returncode}: {detail}")
    return done.stdout


@functools.lru_cache(maxsize=32)
def binary_version(binary: str, distribution: str | None = None) -> str | None:
    """The version a ``binary --version`` prints first (``ruff 0.17.6`` -> ``0.17.6``).

    A binary installed beside this interpreter belongs to ``distribution`` of this environment:
    its metadata answers without starting a process (bandit takes ~0.3 s to print a version).
    """
    if distribution and Path(binary).parent == Path(sys.executable).parent:
        try:
            return importlib.metadata.version(distribution)
        except importlib.metadata.PackageNotFoundError:
            pass
    words = version_output(binary).split()
    return words[1] if len(words) > 1 else (words[0] if words else None)


def version_output(binary: str, flag: str = "--version") -> str:
    """What ``binary flag`` prints (empty when it cannot run)."""
    try:
        return subprocess.run(
            [binary, flag], stdin=subprocess.DEVNULL, capture_output=True,
            text=True, timeout=60, check=False,
        ).stdout  # fmt: skip
    except (OSError, subprocess.SubprocessError):
        return ""


def batches(files: Sequence[str], size: int = BATCH) -> list[list[str]]:
    return [list(files[i : i + size]) for i in range(0, len(files), size)]


def relative(root: Path, filename: str) -> str:
    """A tool's file name (absolute, ``./x.py`` or relative) as a POSIX path relative to root."""
    path = Path(filename)
    if not path.is_absolute():
        return path.as_posix()
    for base, target in ((root, path), (root.resolve(), path.resolve())):
        if target.is_relative_to(base):
            return target.relative_to(base).as_posix()
    return path.as_posix()  # outside the root: kept as the tool printed it
