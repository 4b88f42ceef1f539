"""The improve flow's artifacts: the pull request's body as the summary, a table of every
change (kept, left out, discarded) and a link to the pull request."""

from __future__ import annotations

from typing import Any

from ai_conductor import _prefect
from ai_conductor.publish import body
from ai_conductor.publish.models import Publication, PublishResult


def rows(publication: Publication, published: PublishResult | None) -> list[dict[str, Any]]:
    pr = published.pull_request.url if published and published.pull_request else ""
    commits = published.commits if published else {}
    left = published.left_out if published else {}
    out = [{"group": c.group, "task": c.task,
            "status": "published" if c.group in commits else ("left out" if c.group in left
                                                               else "kept"),
            "branch": publication.branch if c.group in commits else c.branch,
            "pull_request": pr if c.group in commits else "",
            "reason": left.get(c.group, c.verification)[:300]}
           for c in publication.changes]  # fmt: skip
    out += [{"group": d.group, "task": d.task, "status": d.status, "branch": "",
             "pull_request": "", "reason": " ".join(d.reason.split())[:300]}
            for d in publication.dropped]  # fmt: skip
    return out


def artifacts(publication: Publication, published: PublishResult | None) -> list[str]:
    from ai_conductor.reports.artifacts import artifact_slug

    key = f"conductor-{artifact_slug(publication.workflow_id, max_len=30)}-publication"
    pr = published.pull_request if published else None
    summary = (
        body.render(publication, published.commits, published.left_out)
        if published
        else body.render(publication, {c.group: "" for c in publication.changes}, {})
    )
    return _prefect.publish_change_artifacts(
        key, markdown=summary, rows=rows(publication, published),
        link=(pr.url, f"pull request #{pr.number}: {pr.title}") if pr else None,
        description=f"ai-conductor {publication.workflow_id}: {len(publication.changes)} kept "
                    f"change(s) (run {publication.run_id})",
    )  # fmt: skip
