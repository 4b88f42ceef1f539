"""Prefect artifacts for an analysis: the Markdown summary, a table of findings, and a link to
the HTML report when one was written.

They are created through :mod:`ai_conductor._prefect`, imported inside the functions: importing
``ai_conductor.reports`` stays cheap for the CLI.
"""

from __future__ import annotations

import re
from pathlib import Path, PurePath
from typing import Any

from ai_conductor.analysis.models import AnalysisReport, Finding
from ai_conductor.reports.markdown import to_markdown

MAX_TABLE_ROWS = 1_000


def artifact_slug(text: str, *, max_len: int = 40) -> str:
    """Lowercase letters, digits and single dashes: what Prefect accepts in artifact keys."""
    slug = re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")
    return slug[:max_len].rstrip("-") or "codebase"


def finding_rows(findings: list[Finding], *, limit: int = MAX_TABLE_ROWS) -> list[dict[str, Any]]:
    """The table artifact's rows, most severe first."""
    return [
        {
            "severity": f.severity.value,
            "status": f.status.value,
            "rule": f"{f.tool}/{f.rule_id}",
            "path": f.path,
            "line": f.line,
            "message": f.message,
        }
        for f in sorted(findings, key=Finding.sort_key)[:limit]
    ]


def publish_artifacts(report: AnalysisReport, *, key_prefix: str = "conductor") -> list[str]:
    """Create the summary (Markdown) and findings (table) artifacts; return their keys.

    Call it inside a flow or task run to attach the artifacts to that run.
    """
    from ai_conductor._prefect import markdown_artifact, table_artifact

    name = PurePath(report.codebase).name or report.codebase_id
    slug = artifact_slug(name)
    prefix = artifact_slug(key_prefix)
    summary_key = f"{prefix}-analysis-{slug}"
    table_key = f"{prefix}-findings-{slug}"
    rows = finding_rows(report.findings)
    shown = f"the {len(rows)} most severe of " if len(rows) < len(report.findings) else ""
    markdown_artifact(
        to_markdown(report),
        key=summary_key,
        description=f"ai-conductor analysis of {report.codebase} (run {report.run_id})",
    )
    table_artifact(
        rows,
        key=table_key,
        description=f"{shown}{len(report.findings)} findings in {report.codebase}",
    )
    return [summary_key, table_key]


def publish_report_link(
    report: AnalysisReport, path: Path, *, key_prefix: str = "conductor"
) -> str:
    """A link artifact to the HTML report at ``path`` (a ``file://`` URI); return its key.

    Browsers do not follow ``file://`` links from a web page, so the description names the
    path as text too. Call it inside a flow or task run.
    """
    from ai_conductor._prefect import link_artifact

    name = PurePath(report.codebase).name or report.codebase_id
    key = f"{artifact_slug(key_prefix)}-report-{artifact_slug(name)}"
    where = path.resolve()
    link_artifact(
        where.as_uri(),
        text=f"HTML report of {name}",
        key=key,
        description=f"ai-conductor report of {report.codebase} (run {report.run_id}): open "
        f"{where} in a browser",
    )
    return key
