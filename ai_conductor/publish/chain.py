"""The published branch: each verified change cherry-picked onto the base, in order, as its own
commit whose message names its findings, with the conductor's trailers.

Picking is ``git merge-tree --write-tree`` (a three-way merge computed without a worktree:
nothing is checked out, no filter or hook runs) plus ``git commit-tree`` with the source
commit's dates, so the same changes on the same base give the same commits, run after run: an
unchanged publication is not pushed again. A change that conflicts with the ones before it (or
with the base) is left out with the reason. Before anything is pushed, every commit the remote
branch has beyond the base must carry the ``Conductor-Run`` trailer: commits someone else made
there are never overwritten.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from ai_conductor.errors import PublishRefused
from ai_conductor.implement.branches import CHANGE, FINDINGS, RUN
from ai_conductor.publish.gitops import Git, changed_files
from ai_conductor.publish.models import ChangeNote

MAX_LISTED = 30
"""Findings listed in one commit message."""
PUBLISHED = "Conductor-Publication"
"""Trailer naming the publication (``<workflow>/<tasks>``) a published commit belongs to."""


@dataclass
class Chain:
    """The commits built on ``base``."""

    base: str
    tip: str
    commits: dict[str, str] = field(default_factory=dict)
    left_out: dict[str, str] = field(default_factory=dict)


def message(change: ChangeNote, source: str, publication: str) -> str:
    """The published commit's message: subject, the findings it fixes, the trailers."""
    subject = f"conductor: {change.title}".splitlines()[0][:72].rstrip()
    lines = [subject, ""]
    if change.findings:
        lines.append("Fixes:")
        for f in change.findings[:MAX_LISTED]:
            lines.append(f"- {f.rule} at {f.path}:{f.line}: {' '.join(f.message.split())[:120]}")
        if len(change.findings) > MAX_LISTED:
            lines.append(f"- and {len(change.findings) - MAX_LISTED} more")
    else:
        lines.append(f"Files: {changed_files(change.files)}")
    if change.verification:
        lines += ["", f"Verified: {' '.join(change.verification.split())[:300]}"]
    keep = [
        line for line in source.splitlines() if re.match(rf"^({RUN}|{CHANGE}|{FINDINGS}):", line)
    ]
    return "\n".join([*lines, "", *keep, f"{PUBLISHED}: {publication}"]) + "\n"


def check_ours(git: Git, base: str, tip: str, branch: str) -> None:
    """Refuse (``PublishRefused``) when the remote ``branch`` has commits beyond ``base`` that
    the conductor did not make."""
    out = git.out("log", "--format=%H%x00%B%x01", f"{base}..{tip}", "--")
    for entry in filter(None, (e.strip() for e in out.split("\x01"))):
        sha, _, body = entry.partition("\x00")
        if not re.search(rf"^{RUN}:\s*\S", body, re.MULTILINE):
            subject = body.strip().splitlines()[0][:60] if body.strip() else ""
            raise PublishRefused(
                f"{git.remote.name} branch {branch} has commit {sha[:12]} ({subject!r}) that the "
                "conductor did not make: not overwriting it. Merge or move that work, or delete "
                f"the branch on the remote (git push {git.remote.name} --delete {branch}) to let "
                "the conductor recreate it"
            )


def _dates(git: Git, sha: str) -> dict[str, str]:
    name, email, date = git.out("log", "-1", "--format=%an%x00%ae%x00%aI", sha).split("\x00")
    return {"GIT_AUTHOR_NAME": name, "GIT_AUTHOR_EMAIL": email, "GIT_AUTHOR_DATE": date,
            "GIT_COMMITTER_NAME": "ai-conductor", "GIT_COMMITTER_EMAIL": "ai-conductor@localhost",
            "GIT_COMMITTER_DATE": date}  # fmt: skip


def build(git: Git, base: str, changes: list[ChangeNote], publication: str) -> Chain:
    """Pick ``changes`` onto ``base`` in order (see the module docstring)."""
    chain = Chain(base=base, tip=base)
    for change in changes:
        parent = git.out("rev-parse", f"{change.commit}^")
        if git.run("merge-base", "--is-ancestor", parent, base, check=False).returncode:
            chain.left_out[change.group] = (
                f"made on {parent[:12]}, which the base branch does not contain: push your "
                "branch first, or publish from a checkout of the remote's branch"
            )
            continue
        merged = git.run("merge-tree", "--write-tree", "--name-only", chain.tip, change.commit,
                         check=False)  # fmt: skip
        head = merged.stdout.partition("\n\n")[0]
        tree, *conflicts = head.strip().splitlines() or [""]
        if merged.returncode == 1:
            after = ", ".join(chain.commits) or "the base branch"
            chain.left_out[change.group] = (
                f"does not apply on top of {after}: conflicts in {changed_files(conflicts)}"
            )
            continue
        if merged.returncode:
            chain.left_out[change.group] = f"git merge-tree failed: {merged.stderr.strip()[-300:]}"
            continue
        if tree == git.out("rev-parse", f"{chain.tip}^{{tree}}"):
            chain.left_out[change.group] = "already in the base branch: nothing to add"
            continue
        text = message(change, git.out("log", "-1", "--format=%B", change.commit), publication)
        chain.tip = git.out("commit-tree", tree, "-p", chain.tip, "-F", "-", stdin=text,
                            env=_dates(git, change.commit))  # fmt: skip
        chain.commits[change.group] = chain.tip
    return chain
