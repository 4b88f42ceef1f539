"""vulture (optional): dead code across the whole program, used as a library.

Whole-program: whether a function is unused depends on every other file, so results are not
cached per file (``per_file=False``). Findings are low severity (info below 80% confidence):
vulture cannot see dynamic uses (getattr, frameworks' registries).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ai_conductor.analysis.models import Category, Finding, Severity
from ai_conductor.analysis.rules import tags_for
from ai_conductor.analysis.tools.base import ToolResult
from ai_conductor.errors import AnalysisToolError

MIN_CONFIDENCE = 60
SURE = 80
"""At or above this confidence a finding is ``low``, below it ``info``."""


@dataclass
class VultureTool:
    options: Mapping[str, Any] = field(default_factory=dict)
    """``min_confidence`` (default 60)."""
    name: str = field(default="vulture", init=False)
    per_file: bool = field(default=False, init=False)
    parallel: bool = field(default=False, init=False)

    @property
    def min_confidence(self) -> int:
        return int(self.options.get("min_confidence", MIN_CONFIDENCE))

    def version(self) -> str | None:
        try:
            import vulture
        except ImportError:
            return None
        return str(vulture.__version__)

    def config_key(self) -> str:
        return f"min_confidence={self.min_confidence}"

    def run(self, root: Path, files: list[str]) -> ToolResult:
        try:
            from vulture import Vulture
        except ImportError as exc:
            raise AnalysisToolError("vulture is not installed: pip install vulture") from exc

        errors: list[str] = []

        class Quiet(Vulture):  # type: ignore[misc]
            """Collects the messages vulture would print (unreadable files, syntax errors)."""

            def _log(self, *args: object, file: object = None, force: bool = False) -> None:
                if force:
                    errors.append("vulture: " + " ".join(str(a) for a in args).strip())

        scanner = Quiet()
        try:
            scanner.scavenge([str(root / rel) for rel in files])
            unused = scanner.get_unused_code(min_confidence=self.min_confidence)
        except (RecursionError, ValueError) as exc:
            raise AnalysisToolError(f"vulture failed on {root}: {exc}") from exc
        result = ToolResult(errors=errors)
        for item in unused:
            path = Path(item.filename)
            if not path.is_absolute() or not path.is_relative_to(root):
                continue  # vulture's bundled whitelists
            result.findings.append(_finding(path.relative_to(root).as_posix(), item))
        return result


def _finding(rel: str, item: Any) -> Finding:
    kind = str(item.typ).replace("_", "-")
    rule = f"VULTURE-{kind}"
    confidence = int(item.confidence)
    line = max(1, int(item.first_lineno))
    category = Category.MAINTAINABILITY
    return Finding(
        tool="vulture",
        rule_id=rule,
        rule_name=kind if kind.startswith("unreachable") else f"unused-{kind}",
        severity=Severity.LOW if confidence >= SURE else Severity.INFO,
        category=category,
        path=rel,
        line=line,
        end_line=max(line, int(item.last_lineno)),
        message=f"{item.message} ({confidence}% confidence)",
        tags=tags_for("vulture", rule, category),
    )
