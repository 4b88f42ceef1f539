"""radon, used in-process: cyclomatic complexity of every block and each file's
maintainability index. Complex functions and unmaintainable files become findings; every
block's complexity goes into the file's metrics (the hotspot ranking reads them)."""

from __future__ import annotations

import io
import tokenize
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ai_conductor.analysis.models import Category, FileMetrics, Finding, Hotspot, Severity
from ai_conductor.analysis.rules import tags_for
from ai_conductor.analysis.tools.base import ToolResult
from ai_conductor.errors import AnalysisToolError

CC_THRESHOLD = 10
"""Functions with a cyclomatic complexity above this are findings."""
MI_THRESHOLD = 10.0
"""Files with a maintainability index below this are findings."""
RANK_SEVERITY = {"A": Severity.LOW, "B": Severity.LOW, "C": Severity.LOW,
                 "D": Severity.MEDIUM, "E": Severity.HIGH, "F": Severity.HIGH}  # fmt: skip


def read_source(path: Path) -> str:
    """The file's text, decoded as Python does (PEP 263 coding line, else UTF-8)."""
    data = path.read_bytes()
    encoding, _ = tokenize.detect_encoding(io.BytesIO(data).readline)
    return data.decode(encoding)


@dataclass
class RadonTool:
    options: Mapping[str, Any] = field(default_factory=dict)
    """``cc_threshold`` (default 10) and ``mi_threshold`` (default 10)."""
    name: str = field(default="radon", init=False)
    per_file: bool = field(default=True, init=False)
    parallel: bool = field(default=True, init=False)

    @property
    def cc_threshold(self) -> int:
        return int(self.options.get("cc_threshold", CC_THRESHOLD))

    @property
    def mi_threshold(self) -> float:
        return float(self.options.get("mi_threshold", MI_THRESHOLD))

    def version(self) -> str | None:
        try:
            import radon
        except ImportError:
            return None
        return str(radon.__version__)

    def config_key(self) -> str:
        return f"cc>{self.cc_threshold};mi<{self.mi_threshold:g};mi=linear-v1"

    def run(self, root: Path, files: list[str]) -> ToolResult:
        try:
            from radon.complexity import add_inner_blocks, cc_rank, cc_visit

            from ai_conductor.analysis.tools._mi import maintainability
        except ImportError as exc:
            raise AnalysisToolError("radon is not installed: pip install radon") from exc
        result = ToolResult()
        for rel in files:
            try:
                code = read_source(root / rel)
                blocks = add_inner_blocks(cc_visit(code))
                mi = maintainability(code)
            except (
                OSError,
                UnicodeDecodeError,
                LookupError,
                SyntaxError,
                ValueError,
                RecursionError,
            ) as exc:
                result.errors.append(f"radon could not analyse {rel}: {exc}")
                continue
            blocks.sort(key=lambda b: (b.lineno, b.fullname))
            spots = [
                Hotspot(
                    path=rel,
                    name=b.fullname,
                    line=b.lineno,
                    complexity=b.complexity,
                    rank=cc_rank(b.complexity),
                )
                for b in blocks
            ]
            result.metrics[rel] = FileMetrics(maintainability=round(mi, 2), functions=spots)
            for block, spot in zip(blocks, spots, strict=True):
                if not hasattr(block, "methods") and spot.complexity > self.cc_threshold:
                    result.findings.append(self._complex(rel, spot, int(block.endline)))
            if mi < self.mi_threshold:
                result.findings.append(self._unmaintainable(rel, mi))
        return result

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
