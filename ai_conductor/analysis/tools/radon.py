"""radon: cyclomatic complexity of every block and each file's maintainability index.

radon parses with the interpreter it runs under, so it runs as a small worker script
(``analysis/workers/radon_measure.py``) under the interpreter chosen for the codebase (see
``analysis/toolenv.py``): 3.12 syntax is read by a 3.12 interpreter. Complex functions and
unmaintainable files become findings; every block's complexity goes into the file's metrics (the
hotspot ranking reads them); files it cannot parse are failures, counted per file.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ai_conductor.analysis.models import Category, FileMetrics, Finding, Hotspot, Severity
from ai_conductor.analysis.rules import tags_for
from ai_conductor.analysis.toolenv import ToolPython, current
from ai_conductor.analysis.tools import batches, run_command
from ai_conductor.analysis.tools.base import ToolResult
from ai_conductor.errors import AnalysisToolError

CC_THRESHOLD = 10
"""Functions with a cyclomatic complexity above this are findings."""
MI_THRESHOLD = 10.0
"""Files with a maintainability index below this are findings."""
RANK_SEVERITY = {"A": Severity.LOW, "B": Severity.LOW, "C": Severity.LOW,
                 "D": Severity.MEDIUM, "E": Severity.HIGH, "F": Severity.HIGH}  # fmt: skip
WORKER = Path(__file__).parents[1] / "workers" / "radon_measure.py"


@dataclass
class RadonTool:
    options: Mapping[str, Any] = field(default_factory=dict)
    """``cc_threshold`` (default 10) and ``mi_threshold`` (default 10)."""
    name: str = field(default="radon", init=False)
    per_file: bool = field(default=True, init=False)
    parallel: bool = field(default=True, init=False)
    in_subprocess: bool = field(default=True, init=False)
    """Its work runs in child processes: the engine runs chunks on threads."""
    python: ToolPython = field(default_factory=current, init=False)
    """The interpreter radon parses with (set by the engine for each codebase)."""

    @property
    def cc_threshold(self) -> int:
        return int(self.options.get("cc_threshold", CC_THRESHOLD))

    @property
    def mi_threshold(self) -> float:
        return float(self.options.get("mi_threshold", MI_THRESHOLD))

    def use_python(self, python: ToolPython) -> None:
        self.python = python

    def version(self) -> str | None:
        try:
            import radon
        except ImportError:
            return None
        return str(radon.__version__)

    def config_key(self) -> str:
        return (
            f"cc>{self.cc_threshold};mi<{self.mi_threshold:g};mi=linear-v1;py={self.python.minor}"
        )

    def run(self, root: Path, files: list[str]) -> ToolResult:
        result = ToolResult()
        for batch in batches(files):
            out = run_command("radon", [str(self.python.python), str(WORKER), *batch], root)
            try:
                data = json.loads(out)
                for rel, reason in data["failures"].items():
                    result.failures[rel] = str(reason)
                for rel, measured in data["files"].items():
                    self._collect(rel, measured, result)
            except (ValueError, KeyError, TypeError, IndexError) as exc:
                raise AnalysisToolError(
                    f"radon's worker printed output we cannot read: {exc!r}"
                ) from exc
        return result

    def _collect(self, rel: str, measured: dict[str, Any], result: ToolResult) -> None:
        spots = []
        for name, line, end, complexity, rank, is_class in measured["blocks"]:
            spot = Hotspot(path=rel, name=name, line=line, complexity=complexity, rank=rank)
            spots.append(spot)
            if not is_class and complexity > self.cc_threshold:
                result.findings.append(self._complex(rel, spot, int(end)))
        mi = float(measured["mi"])
        result.metrics[rel] = FileMetrics(maintainability=mi, functions=spots)
        if mi < self.mi_threshold:
            result.findings.append(self._unmaintainable(rel, mi))

    def _complex(self, rel: str, spot: Hotspot, end: int) -> Finding:
        category = Category.COMPLEXITY
        return Finding(
            tool="radon", rule_id="CC", rule_name="high-cyclomatic-complexity",
            severity=RANK_SEVERITY.get(spot.rank, Severity.HIGH), category=category,
            path=rel, line=spot.line, end_line=max(spot.line, end),
            message=f"{spot.name} has a cyclomatic complexity of {spot.complexity} "
            f"(rank {spot.rank}, threshold {self.cc_threshold}): split it into smaller functions",
            tags=tags_for("radon", "CC", category),
        )  # fmt: skip

    def _unmaintainable(self, rel: str, mi: float) -> Finding:
        category = Category.MAINTAINABILITY
        return Finding(
            tool="radon", rule_id="MI", rule_name="low-maintainability-index",
            severity=Severity.LOW, category=category, path=rel, line=1, end_line=1,
            message=f"maintainability index {mi:.1f} is below {self.mi_threshold:g} "
            "(long, complex, uncommented code)",
            tags=tags_for("radon", "MI", category),
        )  # fmt: skip
