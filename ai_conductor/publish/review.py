"""`conductor analyze --diff-base REF --publish`: the findings on a pull request's changed lines
as one review: inline comments where the line is in the diff, and a summary of them all.

The pull request is ``--pull N``, else the one the CI job runs for (GitHub's
``refs/pull/N/merge``, GitLab's ``CI_MERGE_REQUEST_IID``), else the open one whose head is the
checked-out branch. Comments refer to the pull request's head commit (a CI job may have checked
out a merge commit). Re-running updates the conductor's review (found by a hidden marker)
instead of adding another; see :meth:`ai_conductor.protocols.Forge.publish_review`.
"""

from __future__ import annotations

import re
from pathlib import Path

from ai_conductor.analysis.models import AnalysisReport, Finding
from ai_conductor.errors import UsageError
from ai_conductor.forge.config import detect, forge_config
from ai_conductor.forge.models import (
    MARKER_PREFIX,
    RUN_LINE,
    InlineComment,
    Review,
    ReviewResult,
)
from ai_conductor.forge.registry import open_forge
from ai_conductor.implement.workspace import _git, _text
from ai_conductor.protocols import Forge
from ai_conductor.publish.diff import Changed
from ai_conductor.publish.gitops import read_remote
from ai_conductor.publish.markdown import code, fit, text
from ai_conductor.settings import Settings, get_settings

MARKER = f"{MARKER_PREFIX}review -->"
MAX_INLINE = 50
"""Inline comments at most (the most severe first); the summary lists every finding."""


def _comment(f: Finding, prefix: str) -> InlineComment:
    fix = " A safe automatic fix exists (`conductor implement`)." if f.fixable else ""
    body = (f"**{f.severity.value}** {code(f'{f.tool}/{f.rule_id}')}: {text(f.message, 500)}"
            f"{fix}")  # fmt: skip
    return InlineComment(path=prefix + f.path, line=f.line, body=body, key=f.fingerprint or
                         f"{f.tool}-{f.rule_id}-{f.path}-{f.line}")  # fmt: skip


def build(report: AnalysisReport, changed: Changed, ref: str, commit: str,
          prefix: str = "") -> Review:  # fmt: skip
    """The review of ``report``'s findings (already narrowed to the changed lines); ``prefix``
    is the codebase's path inside the repository (comments name repository paths)."""
    ordered = sorted(report.findings, key=Finding.sort_key)
    inline = [f for f in ordered if changed.get(f.path, set()) is None
              or f.line in (changed.get(f.path) or set())][:MAX_INLINE]  # fmt: skip
    comments = [_comment(f, prefix) for f in inline]

    def summary(rows: int | None) -> str:
        counts = ", ".join(f"{v} {k}" for k, v in report.summary.by_severity.items() if v)
        lines = [f"### ai-conductor: {len(ordered)} finding(s) on the lines changed since "
                 f"{code(ref)}" + (f" ({counts})" if counts else ""), ""]  # fmt: skip
        if ordered:
            shown = ordered if rows is None else ordered[:rows]
            lines += ["| severity | rule | where | message |", "|---|---|---|---|"]
            lines += [f"| {f.severity.value} | {code(f'{f.tool}/{f.rule_id}')} | "
                      f"{code(f'{f.path}:{f.line}')} | {text(f.message, 200)} |"
                      for f in shown]  # fmt: skip
            if len(shown) < len(ordered):
                lines.append(f"\n… and {len(ordered) - len(shown)} more")
        else:
            lines.append("Nothing to report on the changed lines.")
        lines += ["", f"{len(comments)} {RUN_LINE} {code(report.run_id)}.", "", MARKER]
        return "\n".join(lines) + "\n"

    return Review(marker=MARKER, commit=commit, summary=fit(summary), comments=comments)


def pull_number(forge: Forge, repo: Path, settings: Settings, pull: int | None) -> int:
    """The pull request to review (see the module docstring)."""
    if pull is not None:
        return pull
    if forge.name in ("github", "gitea") and settings.github_ref:
        found = re.match(r"^refs/pull/(\d+)/", settings.github_ref)
        if found:
            return int(found.group(1))
    if forge.name == "gitlab" and settings.gitlab_merge_request:
        return settings.gitlab_merge_request
    branch = _text(_git(repo, "symbolic-ref", "-q", "--short", "HEAD", check=False).stdout)
    if branch.strip():
        open_pr = forge.find_pull_request(branch.strip(), None)
        if open_pr is not None:
            return open_pr.number
    raise UsageError(
        "no pull request to review: pass --pull N, or run in a pull-request job "
        "(GITHUB_REF refs/pull/N/merge, CI_MERGE_REQUEST_IID), or on a branch with an open one"
    )


def publish_review(codebase: Path, report: AnalysisReport, changed: Changed, ref: str, *,
                   remote: str = "origin", forge_name: str | None = None, pull: int | None = None,
                   settings: Settings | None = None) -> tuple[int, str, ReviewResult]:  # fmt: skip
    """Post or update the review; ``(pull request number, its URL, what was done)``."""
    settings = settings or get_settings()
    inside = _git(codebase, "rev-parse", "--show-toplevel", "--show-prefix", error=UsageError)
    top, _, prefix = _text(inside.stdout).partition("\n")
    repo = Path(top.strip())
    where = read_remote(repo, remote)
    forge = open_forge(forge_config(detect(where, forge_name, settings), where, settings))
    try:
        number = pull_number(forge, repo, settings, pull)
        pr = forge.get_pull_request(number)
        head = pr.head_sha or _text(_git(repo, "rev-parse", "HEAD").stdout).strip()
        done = forge.publish_review(number, build(report, changed, ref, head, prefix.strip()))
    finally:
        forge.close()
    return number, pr.url, done
