"""The conductor's own environments under ``$CONDUCTOR_HOME/envs``: built once, reused.

Each lives in a fresh directory ``<key>-<random>``; the link ``<key>`` is switched to it
(``os.replace`` of a symlink: atomic) only after it is complete. A virtualenv cannot be moved
(its scripts name their directory), so it is built where it stays and the *link* is what
appears atomically. Builders of one key take a lock (``.<key>.lock``): a second run waits, then
reuses the first one's environment; a build killed half-way leaves a directory no link points
to, removed by the next build of that key. The user's own environments are never touched.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import sys
import time
import uuid
from collections.abc import Callable, Mapping
from pathlib import Path

from ai_conductor.environment._proc import Done, gate_env, locked, run
from ai_conductor.environment.project import find_tool, venv_python

__all__ = [
    "MARKER",
    "check",
    "ensure",
    "envs_dir",
    "gate_env",
    "install",
    "installer",
    "make_venv",
    "ready",
    "run",
    "venv_python",
]
from ai_conductor.errors import ProjectEnvironmentError
from ai_conductor.settings import Settings

MARKER = ".conductor-env.json"
"""Written last into a complete environment (what it was built from, when, how long)."""
PIP_CONFIGS = (
    "/etc/pip.conf",
    "/etc/xdg/pip/pip.conf",
    "~/.config/pip/pip.conf",
    "~/.pip/pip.conf",
)
UV_CONFIGS = ("/etc/uv/uv.toml", "~/.config/uv/uv.toml")
_PIP_INDEX = re.compile(r"^\s*(index-url|extra-index-url|find-links|no-index)\s*=", re.MULTILINE)
_INDEX_VARS = ("INDEX_URL", "EXTRA_INDEX_URL", "FIND_LINKS", "NO_INDEX")


def envs_dir(settings: Settings) -> Path:
    return settings.home_dir / "envs"


def ready(link: Path) -> Path | None:
    """The complete environment ``link`` points to, or None."""
    if not link.is_symlink():
        return None
    target = link.resolve()
    return target if (target / MARKER).is_file() and venv_python(target) else None


def _sweep(folder: Path, name: str, keep: Path | None) -> None:
    """Remove directories of earlier builds of ``name`` that no link points to."""
    for path in folder.glob(f"{name}-*"):
        if path.is_dir() and not path.is_symlink() and path != keep:
            shutil.rmtree(path, ignore_errors=True)


def ensure(
    name: str, build: Callable[[Path], None], settings: Settings, about: Mapping[str, object]
) -> tuple[Path, bool, float]:
    """The environment ``name``: (its directory, built now, seconds building)."""
    folder = envs_dir(settings)
    link = folder / name
    if (found := ready(link)) is not None:
        return found, False, 0.0
    with locked(folder / f".{name}.lock"):
        if (found := ready(link)) is not None:
            return found, False, 0.0  # another run built it while this one waited
        _sweep(folder, name, None)
        target = folder / f"{name}-{uuid.uuid4().hex[:8]}"
        started = time.monotonic()
        try:
            build(target)
        except BaseException:
            shutil.rmtree(target, ignore_errors=True)
            raise
        seconds = round(time.monotonic() - started, 2)
        info = {**about, "built_at": time.time(), "seconds": seconds}
        (target / MARKER).write_text(json.dumps(info, indent=2), encoding="utf-8")
        temp = folder / f".{name}-{uuid.uuid4().hex[:8]}.link"
        os.symlink(target.name, temp)
        os.replace(temp, link)
        return target, True, seconds


def _configured(prefix: str, files: tuple[str, ...], pattern: re.Pattern[str] | None) -> bool:
    if any(os.environ.get(f"{prefix}_{v}") for v in _INDEX_VARS):
        return True
    extra = os.environ.get(f"{prefix}_CONFIG_FILE")
    for name in [*files, *([extra] if extra else [])]:
        path = Path(name).expanduser()
        try:
            text = path.read_text(encoding="utf-8") if path.is_file() else ""
        except (OSError, UnicodeDecodeError):
            continue
        if text and (pattern is None or pattern.search(text)):
            return True
    return False


def installer(settings: Settings) -> str | None:
    """The uv binary to build with, or None for venv + pip.

    ``auto``: uv when installed, unless pip is configured with an index (PIP_INDEX_URL,
    PIP_FIND_LINKS, a pip.conf naming one) and uv is not: uv does not read pip's
    configuration, and must never bypass a private index for the public one.
    """
    choice = settings.env_installer
    uv = find_tool("uv") if choice != "pip" else None
    if choice == "uv" and uv is None:
        raise ProjectEnvironmentError(
            "CONDUCTOR_ENV_INSTALLER=uv, but uv is not installed: pip install uv, or set it to "
            "auto or pip"
        )
    pip_only = _configured("PIP", PIP_CONFIGS, _PIP_INDEX) and not _configured(
        "UV", UV_CONFIGS, None
    )
    return None if choice == "auto" and pip_only else uv


def check(done: Done, what: str) -> None:
    """Raise :class:`ProjectEnvironmentError` naming the command and its output tail."""
    if done.code == 0:
        return
    status = "could not run" if done.code is None else f"exited {done.code}"
    raise ProjectEnvironmentError(
        f"could not build {what}: `{done.show()}` {status}:\n{done.output.strip()}\n"
        "Fix the dependency declarations (or the index configuration), or point the conductor "
        "at a working environment: a .venv in the project, or --test-command"
    )


def make_venv(target: Path, uv: str | None, timeout: float) -> Path:
    """A new, empty virtualenv at ``target`` with the conductor's Python; its interpreter."""
    argv = (
        [uv, "venv", "--quiet", "--python", sys.executable, str(target)] if uv
        else [sys.executable, "-m", "venv", str(target)]
    )  # fmt: skip
    check(run(argv, target.parent, timeout), "the isolated test environment")
    python = venv_python(target)
    if python is None:
        raise ProjectEnvironmentError(f"{argv[0]} made no virtualenv at {target}")
    return python


def install(python: Path, args: list[str], uv: str | None, cwd: Path, timeout: float) -> None:
    """Install ``args`` (requirements, ``-r file``, ``-c file``) into ``python``'s venv."""
    if not args:
        return
    argv = (
        [uv, "pip", "install", "--python", str(python), *args] if uv
        else [str(python), "-m", "pip", "install", "--disable-pip-version-check", *args]
    )  # fmt: skip
    check(run(argv, cwd, timeout, gate_env()), "the isolated test environment")
