"""Idempotent branches: one stable name per change, reused when nothing changed.

A change's branch is ``conductor/<workflow>/<task>/<group>`` (no ``-2`` suffixes). Its commit
carries git trailers: ``Conductor-Run`` (the run that made it), ``Conductor-Change`` (the group)
and ``Conductor-Findings`` (a digest of the targeted findings' fingerprints, and how many).
Publishing a verified commit on that name:

- no such branch: it is created;
- the branch's tip was made by the conductor, from the same base, with the same tree and the
  same findings: it is left as it is, reported ``unchanged since run X``;
- the tip was made by the conductor but differs: the branch is moved to the new commit; the old
  tip stays reachable under ``refs/conductor/previous/<branch>`` (and through its patch file);
- the tip was not made by the conductor (no ``Conductor-Run`` trailer, no ``conductor:``
  subject: someone committed on it): it is never replaced; :func:`problem` says so before any
  work starts.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from ai_conductor.errors import ConductorError
from ai_conductor.implement.workspace import KEPT_PREFIX, Workspace, _git, _text, _toplevel

RUN, CHANGE, FINDINGS = "Conductor-Run", "Conductor-Change", "Conductor-Findings"
PREVIOUS = "refs/conductor/previous/"


def slug(text: str) -> str:
    """A branch-name component: git refuses '..', a leading or trailing '.', and '.lock'."""
    out = re.sub(r"\.{2,}", ".", re.sub(r"[^A-Za-z0-9._-]+", "-", text))
    out = out.strip("-.")[:80].rstrip("-.")
    return (out[:-5] + "-lock" if out.endswith(".lock") else out) or "change"


def names(groups: Iterable[str]) -> dict[str, str]:
    """A stable, distinct branch component per group: its slug, plus a short hash of the
    group's full name when two groups would share one (long or look-alike names)."""
    groups = sorted(set(groups))
    slugs = {g: slug(g) for g in groups}
    taken = [s for s in slugs.values()]
    return {
        g: s if taken.count(s) == 1 else f"{s[:70]}-{hashlib.sha256(g.encode()).hexdigest()[:8]}"
        for g, s in slugs.items()
    }


def digest(fingerprints: Iterable[str]) -> str:
    """``<16 hex> (<n>)``: equal for the same set of findings, whatever their order."""
    unique = sorted(set(fingerprints))
    return f"{hashlib.sha256(chr(10).join(unique).encode()).hexdigest()[:16]} ({len(unique)})"


def trailers(run_id: str, group: str, fingerprints: Iterable[str]) -> dict[str, str]:
    return {RUN: run_id, CHANGE: group, FINDINGS: digest(fingerprints)}


@dataclass(frozen=True)
class Tip:
    """A commit as publishing compares it."""

    sha: str
    parent: str
    tree: str
    run: str
    findings: str
    subject: str

    @property
    def ours(self) -> bool:
        return bool(self.run) or self.subject.startswith(KEPT_PREFIX)


def _trailer(text: str, key: str) -> str:
    found = re.findall(rf"^{re.escape(key)}:\s*(.+)$", text, re.MULTILINE)
    return found[-1].strip() if found else ""


def tip(repo: Path, ref: str) -> Tip | None:
    out = _git(repo, "log", "-1", "--format=%H%x00%P%x00%T%x00%s%x00%B", ref, "--", check=False)
    if out.returncode or not out.stdout:
        return None
    sha, parents, tree, subject, body = _text(out.stdout).split("\0", 4)
    return Tip(sha=sha, parent=parents.split(" ")[0], tree=tree, subject=subject,
               run=_trailer(body, RUN), findings=_trailer(body, FINDINGS))  # fmt: skip


def _branch_tip(repo: Path, branch: str) -> Tip | None:
    ref = f"refs/heads/{branch}"
    if _git(repo, "rev-parse", "--verify", "-q", ref, check=False).returncode:
        return None
    return tip(repo, ref)


def problem(codebase: Path, branch: str) -> str | None:
    """Why ``branch`` cannot take a change in ``codebase`` (bad name, a branch someone else
    committed on), or None."""
    if _git(codebase, "check-ref-format", "--branch", branch, check=False).returncode:
        return f"{branch!r} is not a valid git branch name"
    repo = _toplevel(codebase)
    old = _branch_tip(repo, branch) if repo is not None else None
    if old is not None and not old.ours:
        return (
            f"branch {branch} exists and its tip {old.sha[:12]} ({old.subject[:60]!r}) was not "
            "made by the conductor: not replacing it; merge or rename it, or delete it "
            f"(git branch -D {branch}) to let the conductor recreate it"
        )
    return None


@dataclass(frozen=True)
class Published:
    status: str
    """``created``, ``unchanged`` or ``replaced``."""
    since_run: str | None = None
    """unchanged: the run that made the branch's commit."""
    previous: str | None = None
    """replaced: the old tip (kept under ``refs/conductor/previous/<branch>``)."""


def publish(ws: Workspace, branch: str, commit: str) -> Published:
    """Point ``branch`` at the verified ``commit`` (see the module docstring)."""
    new = tip(ws.repo, commit)
    old = _branch_tip(ws.repo, branch)
    if new is None:
        raise ConductorError(f"commit {commit} vanished from {ws.repo}")
    ws.published = True
    if old is None:
        _git(ws.repo, "branch", "-q", branch, commit)
        return Published("created")
    if not old.ours:  # someone committed on it after problem() looked
        raise ConductorError(problem(ws.repo, branch) or f"branch {branch} is not ours")
    same = (old.parent, old.tree, old.findings) == (new.parent, new.tree, new.findings)
    if same:
        return Published("unchanged", since_run=old.run or None)
    _git(ws.repo, "update-ref", f"{PREVIOUS}{branch}", old.sha)
    _git(ws.repo, "branch", "-q", "-f", branch, commit)  # refuses a branch checked out somewhere
    return Published("replaced", since_run=old.run or None, previous=old.sha)
