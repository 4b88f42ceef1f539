"""SARIF ``toolExecutionNotifications``: each tool's coverage, each file it could not read, the
run's warnings and what the report left out."""

from __future__ import annotations

from typing import Any

from ai_conductor.analysis.coverage import describe
from ai_conductor.analysis.models import AnalysisReport, ToolRun

MAX_FILE_NOTES = 1000
"""Per tool; the rest are counted in one more notification (all are in analysis.json)."""


def _uri(path: str) -> str:
    from ai_conductor.reports.sarif import sarif_uri

    return sarif_uri(path)


def _tool_notes(run: ToolRun) -> list[dict[str, Any]]:
    level = "error" if run.error or not run.available else "warning" if run.files_failed else "note"
    python = f" (Python {run.python})" if run.python else ""
    notes: list[dict[str, Any]] = [
        {
            "level": level,
            "message": {"text": f"{run.name}{python}: {describe(run)}"},
            "properties": {
                "tool": run.name,
                "files": run.files_total,
                "filesFailed": run.files_failed,
                "coverage": round(run.coverage(), 2),
            },
        }
    ]
    if run.error:
        notes.append({"level": "error", "message": {"text": f"{run.name}: {run.error}"}})
    for failure in run.failures[:MAX_FILE_NOTES]:
        location = {"artifactLocation": {"uri": _uri(failure.path), "uriBaseId": "%SRCROOT%"}}
        notes.append(
            {
                "level": "warning",
                "message": {"text": f"{run.name} could not read this file: {failure.reason}"},
                "locations": [{"physicalLocation": location}],
                "properties": {"tool": run.name},
            }
        )
    if len(run.failures) > MAX_FILE_NOTES:
        more = len(run.failures) - MAX_FILE_NOTES
        text = f"{run.name} could not read {more} more files (listed in analysis.json)"
        notes.append({"level": "warning", "message": {"text": text}})
    return notes


def notifications(report: AnalysisReport, cuts: list[str]) -> list[dict[str, Any]]:
    """Every tool's coverage and failures, the run's warnings, then each cut the report made."""
    notes = [note for run in report.tools for note in _tool_notes(run)]
    notes += [{"level": "warning", "message": {"text": w}} for w in report.warnings]
    notes += [{"level": "warning", "message": {"text": cut}} for cut in cuts]
    return notes
