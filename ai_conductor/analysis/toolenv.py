"""The interpreter bandit and radon run under for a codebase, and its small tool environment.

The running interpreter serves when it can parse the project (see :mod:`.interpreter`).
Otherwise the tools need to be importable in another interpreter: a venv per interpreter under
``$CONDUCTOR_HOME/tools`` gets bandit and radon at the versions installed beside ai-conductor,
from the configured package index (pip's own configuration), built once and reused. Nothing is
installed into the project's environment. When no interpreter can be used, the running one
parses and the reason is returned: the files it cannot read are then counted as failed.
"""

from __future__ import annotations

import contextlib
import hashlib
import importlib.metadata
import importlib.util
import json
import os
import platform
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from ai_conductor.analysis.interpreter import Candidate, Choice, choose, shown
from ai_conductor.settings import Settings

PACKAGES = ("bandit", "radon")
MARKER = "conductor-tools.json"
RETRY_AFTER_S = 3600.0
"""A failed build is not retried for an hour (an offline machine would wait on pip each run)."""
BUILD_TIMEOUT_S = 900.0


class ToolEnvError(Exception):
    """This interpreter cannot serve (it does not run, or its tool environment cannot be built)."""


@dataclass(frozen=True)
class ToolPython:
    """The interpreter the Python-parsing tools run under for one codebase."""

    python: Path
    """The executable to run them with (the running one, or a tool environment's)."""
    version: str
    """Its full version, e.g. ``3.12.1``."""
    current: bool
    """True for the running interpreter (its tools are ai-conductor's own)."""
    note: str | None = None
    """Why a project that needs a newer Python is parsed with this one (no suitable one)."""

    @property
    def minor(self) -> str:
        """``3.12``: the grammar, and part of the cache key."""
        return ".".join(self.version.split(".")[:2])


def current() -> ToolPython:
    return ToolPython(Path(sys.executable), platform.python_version(), current=True)


def resolve(root: Path, settings: Settings) -> ToolPython:
    """The interpreter to parse ``root`` with (never raises for a missing one: see ``note``)."""
    choice = choose(root, settings)
    if choice.current_ok:
        return current()
    problems = []
    for candidate in choice.candidates:
        try:
            return ensure(candidate, settings)
        except ToolEnvError as exc:
            problems.append(f"{candidate.executable} ({candidate.origin}): {exc}")
    return ToolPython(Path(sys.executable), platform.python_version(), True, _why(choice, problems))


def _why(choice: Choice, problems: list[str]) -> str:
    needs = f"Python {shown(choice.minimum)}+" if choice.minimum else "another Python"
    if choice.forced:
        tried = "CONDUCTOR_ANALYSIS_PYTHON=current"
    elif problems:
        tried = "no such interpreter could be used: " + "; ".join(problems)
    else:
        tried = "no such interpreter was found in its environment, on PATH (python3.X) or in pyenv"
    return (
        f"the project needs {needs} ({', '.join(choice.sources) or 'CONDUCTOR_ANALYSIS_PYTHON'})"
        f" but {tried}: bandit and radon parsed it with Python {platform.python_version()}, and "
        "every file they cannot parse is counted as failed (install that Python, or point "
        "CONDUCTOR_ANALYSIS_PYTHON at one)"
    )


def _versions() -> dict[str, str]:
    try:
        return {name: importlib.metadata.version(name) for name in PACKAGES}
    except importlib.metadata.PackageNotFoundError as exc:
        raise ToolEnvError(f"{exc.name} is not installed beside ai-conductor") from None


def _env_dir(candidate: Candidate, versions: dict[str, str], settings: Settings) -> Path:
    pins = "\0".join(f"{k}=={v}" for k, v in sorted(versions.items()))
    key = hashlib.sha256(f"{candidate.executable.resolve()}\0{pins}".encode()).hexdigest()[:12]
    return settings.tool_envs_dir / f"py{shown(candidate.version)}-{key}"


def _python_in(env: Path) -> Path:
    return env / ("Scripts/python.exe" if os.name == "nt" else "bin/python")


def _ready(env: Path) -> ToolPython | None:
    try:
        marker = json.loads((env / MARKER).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    python = _python_in(env)
    if not isinstance(marker, dict) or not python.exists():  # exists() follows the symlink
        return None
    return ToolPython(python, str(marker.get("version", "")), current=False)


def ensure(candidate: Candidate, settings: Settings) -> ToolPython:
    """The tool environment of ``candidate``, built (once, under a lock) when missing."""
    versions = _versions()
    env = _env_dir(candidate, versions, settings)
    if (ready := _ready(env)) is not None:
        return ready
    failed = env.with_name(env.name + ".failed")
    with contextlib.suppress(OSError, ValueError):
        if time.time() - failed.stat().st_mtime < RETRY_AFTER_S:
            raise ToolEnvError(
                failed.read_text(encoding="utf-8").strip()
                + f" (retried after an hour, or delete {failed})"
            )
    env.parent.mkdir(parents=True, exist_ok=True)
    with _locked(env.with_name(env.name + ".lock")):
        if (ready := _ready(env)) is not None:
            return ready
        try:
            version = _probe(candidate.executable)
            if candidate.origin != "setting" and version.split(".")[:2] != shown(
                candidate.version
            ).split("."):
                raise ToolEnvError(f"it runs Python {version}, not {shown(candidate.version)}")
            _build(candidate.executable, env, versions)
        except ToolEnvError as exc:
            shutil.rmtree(env, ignore_errors=True)
            failed.write_text(str(exc) + "\n", encoding="utf-8")
            raise
        failed.unlink(missing_ok=True)
        marker = {"python": str(candidate.executable), "version": version, **versions}
        (env / MARKER).write_text(json.dumps(marker, indent=2) + "\n", encoding="utf-8")
    return ToolPython(_python_in(env), version, current=False)


def _run(argv: list[str], what: str, timeout: float) -> str:
    try:
        done = subprocess.run(
            argv, stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=timeout,
            check=False, env={**os.environ, "PIP_NO_INPUT": "1"},
        )  # fmt: skip
    except (OSError, subprocess.SubprocessError) as exc:
        raise ToolEnvError(f"{what} failed: {exc}") from None
    if done.returncode != 0:
        raise ToolEnvError(
            f"{what} failed (exit {done.returncode}): {_gist(done.stderr or done.stdout)}"
        )
    return done.stdout


def _gist(output: str) -> str:
    """The line of a failed command's output that says why (pip's ERROR line, else the first)."""
    lines = [line.strip() for line in output.splitlines() if line.strip()]
    errors = [line for line in lines if line.startswith("ERROR") or "error" in line.lower()]
    return ((errors or lines or ["no output"])[-1 if errors else 0])[:300]


def _probe(python: Path) -> str:
    """The version ``python`` reports when it runs (a pyenv shim may not)."""
    out = _run([str(python), "-c", "import platform; print(platform.python_version())"],
               "running it", 60)  # fmt: skip
    return out.strip()


def _build(python: Path, env: Path, versions: dict[str, str]) -> None:
    shutil.rmtree(env, ignore_errors=True)
    pins = [f"{name}=={version}" for name, version in versions.items()]
    quiet = ["install", "--quiet", "--disable-pip-version-check", *pins]
    if importlib.util.find_spec("pip") is not None:  # our pip installs into the new venv
        _run([str(python), "-m", "venv", "--without-pip", str(env)], "creating a venv", 300)
        argv = [sys.executable, "-m", "pip", "--python", str(_python_in(env)), *quiet]
    else:  # e.g. ai-conductor installed by uv: the venv brings its own pip
        _run([str(python), "-m", "venv", str(env)], "creating a venv", 300)
        argv = [str(_python_in(env)), "-m", "pip", *quiet]
    _run(argv, f"installing {' '.join(pins)} from the package index", BUILD_TIMEOUT_S)


@contextlib.contextmanager
def _locked(path: Path) -> Iterator[None]:
    """One builder per environment across processes (no lock on Windows)."""
    with path.open("a", encoding="utf-8") as handle:
        if sys.platform != "win32":
            import fcntl

            fcntl.flock(handle.fileno(), fcntl.LOCK_EX)  # released when the file is closed
        yield
