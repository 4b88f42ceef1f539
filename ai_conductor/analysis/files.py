"""Which files of a codebase get analysed, with their content hashes, and which are skipped why.

Git repositories list files with ``git ls-files`` (tracked + untracked, minus ignored); other
trees are walked. Symlinks are never followed out of the tree, huge and binary files are
skipped, and undecodable source is skipped with a reason instead of crashing a tool.
"""

from __future__ import annotations

import hashlib
import os
import stat
from dataclasses import dataclass, field
from pathlib import Path

from ai_conductor._codebase import SKIP_DIRS, git_files
from ai_conductor._paths import expand_user
from ai_conductor._urls import redact_userinfo
from ai_conductor.analysis.models import SkippedFile
from ai_conductor.errors import UsageError

MAX_FILE_BYTES = 2_000_000
"""Larger files are skipped (generated code, data dumps): they would dominate the run."""


@dataclass
class FileSet:
    root: Path
    files: dict[str, str] = field(default_factory=dict)
    """Relative POSIX path -> content hash (blake2b hex), in sorted order."""
    skipped: list[SkippedFile] = field(default_factory=list)
    sizes: dict[str, int] = field(default_factory=dict)
    """Relative POSIX path -> size in bytes (to balance the tools' chunks)."""

    def digest(self) -> str:
        h = hashlib.sha256()
        for path, digest in self.files.items():
            h.update(f"{path}\0{digest}\n".encode("utf-8", "surrogateescape"))
        return h.hexdigest()


def check_codebase(path: Path) -> Path:
    """The resolved codebase directory, or a UsageError saying what is wrong with it."""
    root = expand_user(path)
    shown = redact_userinfo(str(root))  # a git URL given as a codebase
    if not root.exists():
        raise UsageError(f"codebase {shown!r} does not exist; pass --codebase PATH")
    if not root.is_dir():
        raise UsageError(f"codebase {shown!r} is not a directory; pass the project folder")
    return root.resolve()


def _candidates(root: Path) -> list[str]:
    listed = git_files(root)
    if listed is not None:
        return [p for p in listed if p.endswith(".py")]
    found: list[str] = []
    for dirpath, dirnames, filenames in os.walk(root):  # never follows directory symlinks
        dirnames[:] = sorted(
            d for d in dirnames if d not in SKIP_DIRS and not d.endswith(".egg-info")
        )
        rel = Path(dirpath).relative_to(root)
        found.extend((rel / n).as_posix() for n in sorted(filenames) if n.endswith(".py"))
    return found


def _why_skip(root: Path, rel: str, data: bytes | None, path: Path) -> str | None:
    if path.is_symlink():
        try:
            target = path.resolve(strict=True)
        except (OSError, RuntimeError):  # dangling, or a loop
            return "broken or looping symlink (not followed)"
        if not target.is_relative_to(root):
            return "symlink pointing outside the codebase (not followed)"
        return "symlink (its target is analysed under its own path)"
    if data is None:
        return "unreadable"
    if len(data) > MAX_FILE_BYTES:
        return f"larger than {MAX_FILE_BYTES // 1_000_000} MB"
    if b"\0" in data[:8192]:
        return "binary content"
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        head = data[:200]
        if b"coding" not in head:  # PEP 263 declarations are honoured by the tools
            return "not UTF-8 and no coding declaration"
    return None


def collect(root: Path) -> FileSet:
    """Every Python file to analyse under ``root`` with its content hash."""
    result = FileSet(root)
    for rel in sorted(set(_candidates(root))):
        path = root / rel
        try:
            info = path.lstat()
        except OSError:
            continue  # listed by git but deleted in the work tree
        data: bytes | None = None
        if stat.S_ISLNK(info.st_mode):
            why = _why_skip(root, rel, None, path)
        elif not stat.S_ISREG(info.st_mode):  # FIFOs, sockets, devices: reading could block
            why = "not a regular file"
        elif info.st_size > MAX_FILE_BYTES:
            why = f"larger than {MAX_FILE_BYTES // 1_000_000} MB"
        elif rel.encode("utf-8", "surrogateescape") != rel.encode("utf-8", "replace"):
            why = "file name is not valid UTF-8"
        else:
            data = _read(path)
            why = _why_skip(root, rel, data, path)
        if why or data is None:
            shown = rel.encode("utf-8", "replace").decode()
            result.skipped.append(SkippedFile(path=shown, reason=why or "unreadable"))
        else:
            result.files[rel] = hashlib.blake2b(data, digest_size=16).hexdigest()
            result.sizes[rel] = len(data)
    return result


def _read(path: Path) -> bytes | None:
    try:
        return path.read_bytes()
    except OSError:
        return None
