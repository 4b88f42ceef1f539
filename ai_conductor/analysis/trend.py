"""The trend of a codebase across its stored analysis runs (new / fixed / total per run), for
the HTML report's chart."""

from __future__ import annotations

from ai_conductor.analysis.models import AnalysisReport
from ai_conductor.reports.html import TrendPoint, trend_points
from ai_conductor.reports.html_charts import MAX_RUNS
from ai_conductor.settings import Settings


def stored_trend(report: AnalysisReport, settings: Settings | None = None) -> list[TrendPoint]:
    """The latest runs of ``report``'s codebase (same history key: focus and tools), oldest
    first, ending with ``report`` (added when it was not stored)."""
    from ai_conductor.analysis.memory import FindingsMemory

    runs = FindingsMemory.open(settings).runs(report.codebase_id, limit=MAX_RUNS)
    return trend_points(runs, report)
