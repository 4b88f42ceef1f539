"""Which Python parses a codebase: bandit and radon read code with the grammar of the
interpreter they run under, so 3.12 syntax under a 3.11 interpreter is a file they cannot read.

The project's minimum Python comes from ``requires-python`` (pyproject.toml), ruff's
``target-version`` (pyproject.toml, ruff.toml, .ruff.toml), ``.python-version`` and the version of
its own environment (``.venv``/``venv``). The grammar only grows, so any interpreter at or above
that minimum can parse the project: the running one when it is recent enough, else the lowest
suitable one of the project's environment, ``pythonX.Y`` on PATH and pyenv's versions.
``CONDUCTOR_ANALYSIS_PYTHON`` overrides the choice: ``current`` (never another interpreter) or
the path of an interpreter.
"""

from __future__ import annotations

import re
import shutil
import sys
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from packaging.specifiers import InvalidSpecifier, SpecifierSet

from ai_conductor.errors import ConfigError
from ai_conductor.settings import Settings

Version = tuple[int, int]
_RUFF_TARGET = re.compile(r"^py3(\d+)$")
_VERSION_DIR = re.compile(r"^(\d+)\.(\d+)(\.\d+)?$")
_LOWER_BOUNDS = (">=", "==", "~=", "===", ">")


@dataclass(frozen=True)
class Candidate:
    """An interpreter that may parse the project (not yet proven to run)."""

    executable: Path
    version: Version
    origin: str
    """Where it was found: ``project environment``, ``PATH``, ``pyenv``, ``setting``."""


@dataclass
class Choice:
    """The outcome of the search: candidates to try in order, and what the project needs."""

    minimum: Version | None
    """The project's minimum Python (None: nothing declared)."""
    sources: list[str] = field(default_factory=list)
    """Where the minimum came from, e.g. ``pyproject.toml requires-python >=3.12``."""
    candidates: list[Candidate] = field(default_factory=list)
    """Interpreters other than the running one, best first (empty: the running one will do)."""
    current_ok: bool = True
    """The running interpreter can parse the project."""
    forced: bool = False
    """``CONDUCTOR_ANALYSIS_PYTHON=current``: no other interpreter is considered."""


def shown(version: Version) -> str:
    return f"{version[0]}.{version[1]}"


def running() -> Version:
    return (sys.version_info[0], sys.version_info[1])


def _lower_bound(spec: str) -> Version | None:
    try:
        specs = SpecifierSet(spec)
    except InvalidSpecifier:
        return None
    bounds = []
    for one in specs:
        parts = one.version.replace("*", "0").split(".")
        if one.operator in _LOWER_BOUNDS and len(parts) >= 2 and parts[1].isdigit():
            bounds.append((int(parts[0]), int(parts[1])))
    return max(bounds) if bounds else None


def _toml(path: Path) -> dict[str, object]:
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
        return {}


def _ruff_target(config: object) -> Version | None:
    target = config.get("target-version") if isinstance(config, dict) else None
    match = _RUFF_TARGET.match(target) if isinstance(target, str) else None
    return (3, int(match.group(1))) if match else None


def _venv_version(python: Path) -> Version | None:
    """The version ``pyvenv.cfg`` records beside a venv's interpreter (read, never run)."""
    cfg = python.parent.parent / "pyvenv.cfg"
    try:
        text = cfg.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return None
    found = re.search(r"^\s*version(?:_info)?\s*=\s*(\d+)\.(\d+)", text, re.MULTILINE)
    return (int(found.group(1)), int(found.group(2))) if found else None


def project_python(root: Path) -> Path | None:
    """The project's own ``.venv``/``venv`` interpreter (cheap: no tool is asked, nothing built)."""
    from ai_conductor.environment.project import project_venv

    return project_venv(root)


def declared_minimum(root: Path) -> tuple[Version | None, list[str]]:
    """The strictest minimum Python the project declares, and where each one came from."""
    found: list[tuple[Version, str]] = []
    pyproject = _toml(root / "pyproject.toml")
    project = pyproject.get("project")
    spec = project.get("requires-python") if isinstance(project, dict) else None
    if isinstance(spec, str) and (bound := _lower_bound(spec)):
        found.append((bound, f"pyproject.toml requires-python {spec}"))
    tool = pyproject.get("tool")
    ruff_configs = [
        ("pyproject.toml [tool.ruff]", tool.get("ruff") if isinstance(tool, dict) else None)
    ]
    ruff_configs += [(name, _toml(root / name)) for name in ("ruff.toml", ".ruff.toml")]
    for where, config in ruff_configs:
        if target := _ruff_target(config):
            found.append((target, f"{where} target-version py3{target[1]}"))
    try:
        pinned = (root / ".python-version").read_text(encoding="utf-8").split()
    except (OSError, UnicodeDecodeError):
        pinned = []
    if pinned and (match := _VERSION_DIR.match(pinned[0])):
        found.append(((int(match.group(1)), int(match.group(2))), f".python-version {pinned[0]}"))
    env = project_python(root)
    if env is not None and (version := _venv_version(env)):
        found.append(
            (version, f"project environment {env.parent.parent.name} (Python {shown(version)})")
        )
    if not found:
        return None, []
    minimum = max(v for v, _ in found)
    return minimum, [where for _, where in found]


def _pyenv(settings: Settings) -> list[Candidate]:
    versions = settings.pyenv_root_dir / "versions"
    if not versions.is_dir():
        return []
    found = []
    for entry in versions.iterdir():
        match = _VERSION_DIR.match(entry.name)
        python = entry / "bin" / "python3"
        if match and python.exists():
            version = (int(match.group(1)), int(match.group(2)))
            found.append(Candidate(python, version, "pyenv"))
    return found


def _on_path(minimum: Version, settings: Settings) -> list[Candidate]:
    shims = settings.pyenv_root_dir / "shims"
    found = []
    for minor in range(minimum[1], minimum[1] + 12):
        exe = shutil.which(f"python3.{minor}")
        if exe and Path(exe).parent != shims:  # a pyenv shim fails unless selected; pyenv's
            # versions are listed directly
            found.append(Candidate(Path(exe), (3, minor), "PATH"))
    return found


def choose(root: Path, settings: Settings) -> Choice:
    """What the project needs and which interpreters could serve it, best first."""
    wanted = settings.analysis_python.strip()
    minimum, sources = declared_minimum(root)
    if wanted == "current":
        ok = minimum is None or running() >= minimum
        return Choice(minimum, sources, [], current_ok=ok, forced=True)
    if wanted != "auto":
        exe = Path(wanted).expanduser()
        if not exe.is_file():
            raise ConfigError(
                f"CONDUCTOR_ANALYSIS_PYTHON={wanted!r} is not an interpreter: give the path "
                "of a python executable, 'auto' or 'current'"
            )
        return Choice(minimum, sources, [Candidate(exe, minimum or (0, 0), "setting")], False)
    if minimum is None or running() >= minimum:
        return Choice(minimum, sources, [], current_ok=True)
    pool: list[Candidate] = []
    from ai_conductor.environment import existing_python  # its venv, its tool's, or one we built

    env = existing_python(root, settings)
    if env is not None and (version := _venv_version(env)):
        pool.append(Candidate(env, version, "project environment"))
    pool += _pyenv(settings) + _on_path(minimum, settings)
    origin_rank = {"project environment": 0, "pyenv": 1, "PATH": 2}
    suitable = sorted(
        (c for c in pool if c.version >= minimum), key=lambda c: (c.version, origin_rank[c.origin])
    )
    return Choice(minimum, sources, suitable, current_ok=False)
