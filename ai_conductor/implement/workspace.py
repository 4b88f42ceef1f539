"""Isolated git worktrees for AI changes, and applying a verified patch to the user's checkout.

The user's checkout is never touched while a backend works: each change gets a detached
worktree started from HEAD (uncommitted local changes are deliberately not included); a
verified change becomes a branch only when it is published (:mod:`.branches`).
A codebase that is not a git repository is first copied into a fresh repository. Every git call
runs with hooks, fsmonitor and filter drivers disabled (:mod:`ai_conductor._git`), no prompts
and a timeout.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from pathlib import Path

from ai_conductor._codebase import SKIP_DIRS
from ai_conductor._git import NO_DIFF_PROGRAMS, git_env
from ai_conductor._paths import expand_user
from ai_conductor.errors import AgentError, ConductorError, UsageError

GIT_TIMEOUT = 120.0
KEPT_PREFIX = "conductor:"
"""Subject prefix of the commits of kept changes (a branch whose tip has it holds one)."""
_CONFIG = (
    "-c", "user.name=ai-conductor", "-c", "user.email=ai-conductor@localhost",
    "--literal-pathspecs",
)  # fmt: skip


def _text(data: bytes) -> str:
    return data.decode("utf-8", "surrogateescape")


def _git(
    cwd: Path, *args: str, error: type[ConductorError] = ConductorError, check: bool = True
) -> subprocess.CompletedProcess[bytes]:
    """Run git with hooks off; a failure raises ``error`` with the tail of git's stderr."""
    env = git_env(cwd)
    try:
        proc = subprocess.run(
            ["git", *_CONFIG, *args], cwd=cwd, env=env, stdin=subprocess.DEVNULL,
            capture_output=True, timeout=GIT_TIMEOUT, check=False,
        )  # fmt: skip
    except FileNotFoundError as exc:
        raise ConductorError("git is not installed or not on PATH; install git") from exc
    except subprocess.TimeoutExpired as exc:
        raise ConductorError(f"git {args[0]} timed out after {GIT_TIMEOUT:.0f}s in {cwd}") from exc
    if check and proc.returncode != 0:
        tail = _text(proc.stderr or proc.stdout).strip()[-1500:]
        raise error(f"git {' '.join(args[:2])} failed in {cwd}: {tail}")
    return proc


def _toplevel(codebase: Path) -> Path | None:
    """The repository root when ``codebase`` is it; None outside git; UsageError for a subdir."""
    proc = _git(codebase, "rev-parse", "--show-toplevel", check=False)
    if proc.returncode != 0:
        return None
    top = Path(_text(proc.stdout).strip()).resolve()
    if top != codebase:
        raise UsageError(f"{codebase} is inside the git repository {top}; pass the repository root")
    return top


def _safe(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "-", name).strip(".-") or "workspace"


def _copy_tree(src: Path, dst: Path) -> None:
    """Copy regular files and in-tree symlinks; skip VCS/venv/cache dirs; never follow links out."""
    for dirpath, dirnames, filenames in os.walk(src):  # does not descend into directory symlinks
        here = Path(dirpath)
        out = dst / here.relative_to(src)
        out.mkdir(parents=True, exist_ok=True)
        dirnames[:] = [d for d in dirnames if d not in SKIP_DIRS and not d.endswith(".egg-info")]
        for name in [*filenames, *(d for d in dirnames if (here / d).is_symlink())]:
            path = here / name
            if path.is_symlink():
                if path.resolve().is_relative_to(src):
                    os.symlink(os.readlink(path), out / name)
            elif path.is_file():
                shutil.copy2(path, out / name)


@dataclass
class Workspace:
    """An isolated git worktree at the codebase's HEAD (detached: no branch until a verified
    change is published with :func:`~ai_conductor.implement.branches.publish`)."""

    path: Path
    base: str
    """Commit sha the worktree started from."""
    repo: Path
    """The git repository that owns the worktree (the codebase, or a copy of a non-git tree)."""
    owns_repo: bool = False
    """True when ``repo`` is a copy made for this workspace (removed with it unless a
    branch was published in it)."""
    published: bool = False
    """A branch in ``repo`` points at this workspace's commit."""

    @classmethod
    def create(cls, codebase: Path, root: Path, label: str = "workspace") -> Workspace:
        """A detached worktree of ``codebase`` at HEAD in ``root`` (directory named ``label``)."""
        codebase = expand_user(codebase).resolve()
        if not codebase.is_dir():
            raise UsageError(f"codebase {str(codebase)!r} is not a directory")
        root = expand_user(root).resolve()
        root.mkdir(parents=True, exist_ok=True)
        repo, owned = _toplevel(codebase), False
        if repo is None:
            repo, owned = (
                Path(tempfile.mkdtemp(prefix=f"{_safe(codebase.name)}-repo-", dir=root)),
                True,
            )
            _copy_tree(codebase, repo)
            _git(repo, "init", "-q")
            _git(repo, "add", "-A")
            _git(repo, "commit", "-q", "--allow-empty", "--no-verify", "-m", "ai-conductor base")
        elif _git(repo, "rev-parse", "--verify", "-q", "HEAD", check=False).returncode:
            raise UsageError(f"{repo} has no commits yet; commit once, then run again")
        path, i = root / _safe(label), 1
        while path.exists():
            i += 1
            path = root / f"{_safe(label)}-{i}"
        _git(repo, "worktree", "add", "-q", "--detach", str(path), "HEAD")
        base = _text(_git(path, "rev-parse", "HEAD").stdout).strip()
        return cls(path=path, base=base, repo=repo, owns_repo=owned)

    def original(self, path: str) -> str | None:
        """``path`` as it was at ``base`` (None when it did not exist or is not text)."""
        out = _git(self.path, "show", f"{self.base}:{path}", check=False)
        if out.returncode:
            return None
        return _text(out.stdout)

    def _stage(self) -> None:
        """Stage every change; a file git refuses to add (say ``.GIT/config``, written by an
        agent CLI) fails that attempt (an :class:`AgentError`), not the whole run."""
        _git(self.path, "add", "-A", error=AgentError)

    def touched(self) -> list[str]:
        """POSIX paths changed versus base: modified, new (untracked) and deleted files."""
        self._stage()
        args = ("--cached", "--name-only", "-z", "--no-renames", *NO_DIFF_PROGRAMS)
        out = _git(self.path, "diff", *args, self.base)
        return sorted(p for p in _text(out.stdout).split("\0") if p)

    def diff(self) -> str:
        """Unified (binary-safe) diff versus base, including new and deleted files."""
        self._stage()
        args = ("--cached", "--binary", "--no-renames", "--no-color", *NO_DIFF_PROGRAMS)
        prefixes = ("--src-prefix=a/", "--dst-prefix=b/")
        return _text(_git(self.path, "diff", *args, *prefixes, self.base).stdout)

    def reset(self) -> None:
        """Throw away every change (committed or not): back to base for the next attempt."""
        _git(self.path, "reset", "-q", "--hard", self.base)
        _git(self.path, "clean", "-q", "-fdx")

    def commit(self, message: str, trailers: Mapping[str, str] | None = None) -> str:
        """Commit all changes as a kept change (subject ``KEPT_PREFIX message``, then git
        trailers such as ``Conductor-Run``) and return the new commit's sha."""
        self._stage()
        body = "\n".join(f"{k}: {v}" for k, v in (trailers or {}).items())
        text = f"{KEPT_PREFIX} {message}" + (f"\n\n{body}" if body else "")
        _git(self.path, "commit", "-q", "--no-verify", "--allow-empty", "-m", text)
        return _text(_git(self.path, "rev-parse", "HEAD").stdout).strip()

    def clean(self) -> None:
        """Drop what ran in the worktree left behind (test artifacts), keep the commit."""
        _git(self.path, "reset", "-q", "--hard", "HEAD")
        _git(self.path, "clean", "-q", "-fdx")

    def remove(self) -> None:
        """Remove the worktree (and a copied repository nothing was published in); safe to
        call twice."""
        if not self.repo.exists():
            return
        if self.path.exists():
            _git(self.repo, "worktree", "remove", "--force", str(self.path), check=False)
            shutil.rmtree(self.path, ignore_errors=True)
        _git(self.repo, "worktree", "prune")
        if self.owns_repo and not self.published:
            shutil.rmtree(self.repo, ignore_errors=True)


def _patch_files(cwd: Path, patch_file: str) -> list[str]:
    out = _text(_git(cwd, "apply", "--numstat", "-z", patch_file, error=UsageError).stdout)
    files, parts = [], out.split("\0")
    for i, part in enumerate(parts):
        name = part.split("\t", 2)[2] if part.count("\t") >= 2 else None
        if name:
            files.append(name)
        elif name == "" and i + 2 < len(parts):  # rename: "a\td\t\0old\0new"
            files += parts[i + 1 : i + 3]
    return sorted(set(files))


def apply_patch(codebase: Path, patch: str, ours: Collection[str] = ()) -> list[str]:
    """Apply a verified patch to the user's checkout; refuse if it conflicts with local edits.

    ``ours``: files this run already changed by applying earlier patches (not the user's
    edits); ``git apply --check`` still refuses a real overlap. Returns the patched files.
    """
    codebase = expand_user(codebase).resolve()
    if not patch.strip():
        return []
    in_git = _toplevel(codebase) is not None
    with tempfile.TemporaryDirectory(prefix="conductor-patch-") as tmp:
        patch_file = str(Path(tmp) / "change.patch")
        Path(patch_file).write_bytes(patch.encode("utf-8", "surrogateescape"))
        files = _patch_files(codebase, patch_file)
        if in_git and files:
            args = ("--porcelain", "-z", "--untracked-files=all", "--", *files)
            status = _text(_git(codebase, "status", *args).stdout).split("\0")
            theirs = [e[3:] for e in status if e and e[3:] not in ours]
            dirty = sorted({name for name in theirs if name in files}) or theirs[:1]
            if any(dirty):
                raise UsageError(
                    f"not applying the patch: {', '.join(dirty)} "
                    f"{'has' if len(dirty) == 1 else 'have'} uncommitted changes in {codebase}; "
                    "commit or stash them first"
                )
        _git(codebase, "apply", "--check", patch_file, error=UsageError)
        _git(codebase, "apply", patch_file, error=UsageError)
        return files
