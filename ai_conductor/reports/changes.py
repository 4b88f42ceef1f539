"""What implement and refine show in the Prefect UI: a table of changes (group, status, branch,
pull request, reason) and a Markdown summary. Pure builders: Prefect is called by the seam
(:func:`ai_conductor._prefect.publish_change_artifacts`)."""

from __future__ import annotations

from typing import Any

from ai_conductor.implement.models import ImplementReport
from ai_conductor.publish.markdown import code, text
from ai_conductor.publish.models import PublishResult
from ai_conductor.refine.models import RefineReport


def _pr(published: PublishResult | None, group: str) -> str:
    if published is None or published.pull_request is None:
        return ""
    return published.pull_request.url if group in published.commits else ""


def change_rows(report: ImplementReport | RefineReport) -> list[dict[str, Any]]:
    """One row per change: group, status, branch, pull_request, reason."""
    published = report.published
    left = published.left_out if published else {}
    rows: list[dict[str, Any]] = []
    if isinstance(report, ImplementReport):
        for c in report.changes:
            reason = left.get(c.group) or (c.attempts[-1].reason if c.attempts else c.summary)
            rows.append({"group": c.group, "status": c.status.value, "branch": c.branch or "",
                         "pull_request": _pr(published, c.group),
                         "reason": " ".join(reason.split())[:300]})  # fmt: skip
        return rows
    for t in report.tidy or []:
        reason = left.get(t.name) or t.reason
        rows.append({"group": t.name, "status": t.status.value, "branch": t.branch or "",
                     "pull_request": _pr(published, t.name),
                     "reason": " ".join(reason.split())[:300]})  # fmt: skip
    return rows


def change_markdown(report: ImplementReport | RefineReport, title: str) -> str:
    """The summary artifact: counts, the pull request, where the tests ran, each change."""
    rows = change_rows(report)
    kept = sum(r["status"] == "kept" for r in rows)
    lines = [f"# {text(title)}", "", f"{kept} of {len(rows)} change(s) verified and kept; "
             f"audit run {code(report.run_id)}.", ""]  # fmt: skip
    published = report.published
    if published is not None:
        pr = published.pull_request
        lines.append(f"**Pull request {published.status}:** [{text(pr.title)}]({pr.url})"
                     if pr else f"**Published nothing:** {text(published.note)}")  # fmt: skip
        lines.append("")
    if report.environment is not None:
        lines += [f"Tests ran in: {text(report.environment.describe())} "
                  f"({text(report.environment.reason)})", ""]  # fmt: skip
    if rows:
        lines += ["| change | status | branch | reason |", "|---|---|---|---|"]
        lines += [f"| {code(r['group'])} | {r['status']} | {code(r['branch'])} | "
                  f"{text(r['reason'], 200)} |" for r in rows]  # fmt: skip
    return "\n".join(lines) + "\n"
