"""A content digest of a codebase, for cache keys: changes when any relevant file's bytes change.

Git repositories list their files with ``git ls-files`` (tracked + untracked, minus ignored);
other directories are walked, skipping VCS, virtualenv and cache folders. Per-file digests are
remembered by (size, mtime) in ``cache_dir`` so an unchanged tree is not re-read.
"""

from __future__ import annotations

import hashlib
import json
import os
import stat
import subprocess
import threading
from collections.abc import Iterator
from pathlib import Path

from ai_conductor._git import git_env

SKIP_DIRS = frozenset(
    {".git", ".hg", ".svn", "__pycache__", ".venv", "venv", "node_modules", ".mypy_cache",
     ".ruff_cache", ".pytest_cache", ".tox", ".conductor", ".eggs"}
)  # fmt: skip


def git_files(root: Path) -> list[str] | None:
    """Files git would show (tracked + untracked, minus ignored), or None outside git."""
    if not (root / ".git").exists():
        return None
    try:
        out = subprocess.run(
            ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
            cwd=root, env=git_env(root), stdin=subprocess.DEVNULL, capture_output=True,
            check=True, timeout=60,
        ).stdout  # fmt: skip
    except (OSError, subprocess.SubprocessError):
        return None
    return sorted({p for p in out.decode("utf-8", "surrogateescape").split("\0") if p})


def _walk(root: Path) -> Iterator[str]:
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = sorted(d for d in dirnames if d not in SKIP_DIRS)
        rel = Path(dirpath).relative_to(root)
        for name in sorted(filenames):
            yield (rel / name).as_posix()


def _file_digest(path: Path) -> str:
    if path.is_symlink():
        return "link:" + os.readlink(path)
    h = hashlib.blake2b(digest_size=16)
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def codebase_digest(root: Path, cache_dir: Path | None = None) -> str:
    """One hex digest over every relevant file's path and content."""
    root = root.resolve()
    files = git_files(root)
    names = files if files is not None else list(_walk(root))
    memo_path = None
    memo: dict[str, list[object]] = {}
    if cache_dir is not None:
        key = hashlib.sha256(str(root).encode()).hexdigest()[:16]
        memo_path = cache_dir / f"codebase-{key}.json"
        try:
            memo = json.loads(memo_path.read_text())
        except (OSError, ValueError):
            memo = {}
    total = hashlib.sha256()
    fresh: dict[str, list[object]] = {}
    for name in names:
        path = root / name
        try:
            st = path.lstat()
        except OSError:
            continue  # deleted since listing (git ls-files still lists it)
        if not (stat.S_ISREG(st.st_mode) or stat.S_ISLNK(st.st_mode)):
            continue  # FIFOs, sockets, submodule directories: nothing to read safely
        stamp: list[object] = [st.st_size, st.st_mtime_ns]
        cached = memo.get(name)
        digest = str(cached[2]) if cached and cached[:2] == stamp else None
        if digest is None:
            try:
                digest = _file_digest(path)
            except OSError:
                digest = "unreadable"
        fresh[name] = [*stamp, digest]
        total.update(f"{name}\0{digest}\n".encode("utf-8", "surrogateescape"))
    if memo_path is not None and fresh != memo:
        try:  # a private temp file: concurrent runs on one codebase must not collide
            memo_path.parent.mkdir(parents=True, exist_ok=True)
            tmp = memo_path.with_suffix(f".{os.getpid()}.{threading.get_ident()}.tmp")
            tmp.write_text(json.dumps(fresh))
            tmp.replace(memo_path)
        except OSError:
            pass  # the memo only saves time
    return total.hexdigest()
