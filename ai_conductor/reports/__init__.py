"""Reports of an analysis: ``analysis.json``, SARIF for GitHub code scanning, Markdown, and one
self-contained HTML page (:mod:`ai_conductor.reports.html`).

Importing this package does not import Prefect (see :mod:`ai_conductor.reports.artifacts`).
The ``json_report`` names load on first use, so ``python -m ai_conductor.reports.json_report``
runs without runpy's "found in sys.modules" warning.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ai_conductor.analysis.models import AnalysisReport
from ai_conductor.errors import UsageError
from ai_conductor.reports.artifacts import publish_artifacts, publish_report_link
from ai_conductor.reports.markdown import append_step_summary, to_markdown
from ai_conductor.reports.sarif import dumps as dumps_sarif
from ai_conductor.reports.sarif import to_sarif

if TYPE_CHECKING:
    from ai_conductor.reports.html_charts import TrendPoint
    from ai_conductor.reports.json_report import analysis_json_schema, load_analysis, to_json

FORMATS = ("json", "sarif", "markdown", "html")
DEFAULT_CATEGORY = "ai-conductor"


def render(
    report: AnalysisReport,
    fmt: str,
    *,
    category: str = DEFAULT_CATEGORY,
    trend: Sequence[TrendPoint] = (),
) -> tuple[str, list[str]]:
    """The report in ``fmt`` (one of :data:`FORMATS`) and warnings about what was left out.

    ``trend``: the codebase's stored runs, for the HTML page's trend chart. The text has no
    trailing newline (``write_report`` adds one).
    """
    if fmt == "json":
        from ai_conductor.reports.json_report import to_json

        return to_json(report).rstrip("\n"), []
    if fmt == "sarif":
        doc, warnings = to_sarif(report, category=category)
        return dumps_sarif(doc).rstrip("\n"), warnings
    if fmt == "markdown":
        return to_markdown(report).rstrip("\n"), []
    if fmt == "html":
        from ai_conductor.reports.html import to_html

        return to_html(report, trend=trend), []
    raise UsageError(f"unknown report format {fmt!r}: choose one of {', '.join(FORMATS)}")


def write_report(
    report: AnalysisReport,
    path: Path,
    fmt: str,
    *,
    category: str = DEFAULT_CATEGORY,
    trend: Sequence[TrendPoint] = (),
) -> list[str]:
    """Render and write atomically (temp file in the same directory, then replace)."""
    text, warnings = render(report, fmt, category=category, trend=trend)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as fh:
            fh.write(text + "\n")
        os.chmod(tmp, path.stat().st_mode & 0o777 if path.exists() else 0o644)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    return warnings


def __getattr__(name: str) -> Any:
    if name in ("analysis_json_schema", "load_analysis", "to_json"):
        from ai_conductor.reports import json_report

        return getattr(json_report, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "DEFAULT_CATEGORY",
    "FORMATS",
    "analysis_json_schema",
    "append_step_summary",
    "load_analysis",
    "publish_artifacts",
    "publish_report_link",
    "render",
    "to_json",
    "to_markdown",
    "to_sarif",
    "write_report",
]
