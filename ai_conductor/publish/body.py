"""The pull-request title and body: the review a person reads before merging.

The body lists each fixed finding (rule, ``path:line``, message) with the commit that fixes it,
what was discarded and why (collapsed), how the changes were verified (analyzer before and
after, the test command, the project environment and how it was chosen, durations), the budget
spent and the audit run id. It ends with a hidden marker naming the publication.
"""

from __future__ import annotations

from ai_conductor.forge.models import MARKER_PREFIX
from ai_conductor.publish.markdown import code, details, fit, text
from ai_conductor.publish.models import ChangeNote, Publication


def marker(publication: Publication) -> str:
    return f"{MARKER_PREFIX}publication {publication.workflow_id}/{'+'.join(publication.tasks)} -->"


def title(publication: Publication, published: int) -> str:
    noun = "change" if published == 1 else "changes"
    fixed = sum(len(c.findings) for c in publication.changes)
    what = f", {fixed} finding(s) fixed" if fixed else ""
    return f"ai-conductor: {published} verified {noun}{what} ({publication.workflow_id}/" \
           f"{'+'.join(publication.tasks)})"  # fmt: skip


def _findings(changes: list[ChangeNote], commits: dict[str, str], rows: int | None) -> list[str]:
    listed = [(c, f) for c in changes for f in c.findings]
    if not listed:
        return []
    shown = listed if rows is None else listed[:rows]
    out = ["### Fixed findings", "", "| rule | where | message | commit |", "|---|---|---|---|"]
    for c, f in shown:
        out.append(f"| {code(f.rule)} | {code(f'{f.path}:{f.line}')} | {text(f.message, 160)} | "
                   f"{code(commits.get(c.group, '')[:10])} |")  # fmt: skip
    if len(shown) < len(listed):
        out.append(f"\n… and {len(listed) - len(shown)} more (see the commit messages)")
    return [*out, ""]


def _changes(changes: list[ChangeNote], commits: dict[str, str]) -> list[str]:
    out = ["### Commits", ""]
    for n, c in enumerate(changes, 1):
        sha = commits.get(c.group, "")
        files = ", ".join(code(f, 80) for f in c.files[:5]) + (" …" if len(c.files) > 5 else "")
        out.append(f"{n}. {code(sha[:10])} {text(c.title, 160)} (task {code(c.task)}; {files})")
        if c.tests:
            out.append(f"   - tests: {text(c.tests, 200)}")
    return [*out, ""]


def _dropped(publication: Publication, left_out: dict[str, str], rows: int | None) -> list[str]:
    items = [(d.group, d.status, d.reason) for d in publication.dropped]
    items += [(g, "left out", why) for g, why in left_out.items()]
    if not items:
        return []
    shown = items if rows is None else items[:rows]
    lines = [f"- {code(g)} ({s}): {text(why, 400)}" for g, s, why in shown]
    if len(shown) < len(items):
        lines.append(f"- … and {len(items) - len(shown)} more (`conductor logs --run "
                     f"{publication.run_id}`)")  # fmt: skip
    return details(f"Not included: {len(items)} change(s)", lines)


def _verified(publication: Publication) -> list[str]:
    out = ["### How it was verified", ""]
    out += [f"- analyzer, {text(line, 400)}" for line in publication.analyzer]
    if publication.test_command == "none":
        out.append("- tests: none found (the gate relied on the analyzer)")
    elif publication.test_command:
        out.append(f"- tests: {code(publication.test_command)}")
    if publication.environment:
        out.append(f"- environment: {text(publication.environment, 400)}")
    out.append(f"- duration: {publication.duration_s:.1f}s")
    spent = f"{publication.tokens} token(s), ${publication.cost_usd:.4f}"
    backend = f" (backend {code(publication.backend)})" if publication.backend else ""
    out.append(f"- budget spent: {spent}{backend}")
    out.append(
        f"- audit run: {code(publication.run_id)} (`conductor logs --run {publication.run_id}`)"
    )
    return [*out, ""]


def render(publication: Publication, commits: dict[str, str], left_out: dict[str, str]) -> str:
    """The body, fitted to the platforms' size limit."""
    changes = [c for c in publication.changes if c.group in commits]

    def body(rows: int | None) -> str:
        lines = [
            f"**ai-conductor** kept {len(changes)} verified change(s) of workflow "
            f"{code(publication.workflow_id)}; each is its own commit below.",
            "",
            *_findings(changes, commits, rows),
            *_changes(changes if rows is None else changes[: max(rows, 1)], commits),
            *_dropped(publication, left_out, rows),
            *_verified(publication),
            "<sub>The conductor rewrites this branch on each run while the pull request is open; "
            "it refuses to overwrite commits it did not make.</sub>",
            "",
            marker(publication),
        ]
        return "\n".join(lines) + "\n"

    return fit(body)
