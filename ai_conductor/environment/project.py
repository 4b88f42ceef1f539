"""What a project already has: tests that use pytest, its own virtualenv, a tool's lock file
and that tool's existing environment. Nothing here builds or changes anything."""

from __future__ import annotations

import configparser
import shutil
import tomllib
from pathlib import Path
from typing import Any

from ai_conductor.environment._proc import run

PYTEST_ARGS = ["-m", "pytest", "-q", "-x", "-p", "no:cacheprovider"]
"""What follows the interpreter in the detected test command."""
VENV_DIRS = (".venv", "venv")
QUERY_TIMEOUT = 60.0
LOCKS = {"uv": "uv.lock", "poetry": "poetry.lock", "pdm": "pdm.lock"}


def _ini_has(path: Path, section: str) -> bool:
    parser = configparser.ConfigParser(interpolation=None, strict=False)
    try:
        parser.read(path, encoding="utf-8")
    except (configparser.Error, UnicodeDecodeError):
        return False
    return parser.has_section(section)


def pyproject(root: Path) -> dict[str, Any]:
    """The project's pyproject.toml as a dict ({} when missing or unreadable)."""
    try:
        return tomllib.loads((root / "pyproject.toml").read_text("utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
        return {}


def uses_pytest(root: Path) -> bool:
    """The project looks like it runs its tests with pytest (configuration or test files)."""
    if (root / "pytest.ini").is_file() or (root / "conftest.py").is_file():
        return True
    if "pytest" in pyproject(root).get("tool", {}):  # [tool.pytest.ini_options] or pytest 9's
        return True
    if _ini_has(root / "setup.cfg", "tool:pytest") or _ini_has(root / "tox.ini", "pytest"):
        return True
    return any(
        (root / name).is_dir() and any((root / name).rglob("test_*.py"))
        for name in ("tests", "test")
    )


def venv_python(venv: Path) -> Path | None:
    """The interpreter of the virtualenv at ``venv`` (None when it is not a working one)."""
    if not (venv / "pyvenv.cfg").is_file():
        return None
    for candidate in (venv / "bin" / "python", venv / "Scripts" / "python.exe"):
        if candidate.is_file():  # follows the link: a venv whose base Python is gone fails
            return candidate
    return None


def project_venv(root: Path) -> Path | None:
    """The project's own ``.venv/`` or ``venv/`` (its interpreter), if it has a working one."""
    for name in VENV_DIRS:
        python = venv_python(root / name)
        if python is not None:
            return python
    return None


def has_module(python: str | Path, module: str, env: dict[str, str] | None = None) -> bool:
    """``module`` is importable by ``python`` (found, not imported)."""
    code = f"import importlib.util,sys; sys.exit(importlib.util.find_spec({module!r}) is None)"
    return run([str(python), "-c", code], Path.cwd(), QUERY_TIMEOUT, env).code == 0


def _hatch_configured(root: Path) -> bool:
    return (root / "hatch.toml").is_file() or "envs" in pyproject(root).get("tool", {}).get(
        "hatch", {}
    )


def tool_lock(root: Path, tool: str) -> bool:
    """The project uses ``tool`` (its lock file, or hatch's configuration)."""
    return _hatch_configured(root) if tool == "hatch" else (root / LOCKS[tool]).is_file()


def find_tool(name: str) -> str | None:
    """``name`` beside the running interpreter (the conductor's venv) or on PATH."""
    from ai_conductor.analysis.tools import find_binary

    return find_binary(name) or shutil.which(name)


QUERIES = {
    "poetry": ["env", "info", "--path"],
    "hatch": ["env", "find"],
    "pdm": ["info", "--python"],
}
"""How each tool says where the project's environment is (read only: nothing is created)."""


def tool_python(root: Path, tool: str) -> tuple[Path | None, str]:
    """The interpreter of ``tool``'s existing environment for the project, and a note on why
    there is none (tool missing, no environment yet)."""
    binary = find_tool(tool)
    if binary is None:
        return None, f"{tool} is not installed"
    done = run([binary, *QUERIES[tool]], root, QUERY_TIMEOUT)
    lines = [line.strip() for line in done.output.splitlines() if line.strip()]
    if done.code != 0 or not lines:
        return None, f"{tool} has no environment for the project yet"
    found = Path(lines[-1])
    python = found if found.is_file() else venv_python(found)
    if python is None:
        return None, f"{tool}'s environment {found} does not exist yet"
    return python, ""


_MODULES = """import importlib.metadata as m, json
out = {}
for module, dists in m.packages_distributions().items():
    for dist in dists:
        out.setdefault(dist, []).append(module)
print(json.dumps(out))"""


def module_names(python: str | Path) -> dict[str, list[str]]:
    """Top-level modules per distribution installed in ``python``'s environment ({} when it
    cannot say): how the project's packages are imported, for tools that run elsewhere."""
    import json

    done = run([str(python), "-c", _MODULES], Path(str(python)).parent, QUERY_TIMEOUT)
    try:
        data = json.loads(done.output.strip().splitlines()[-1]) if done.code == 0 else {}
    except (ValueError, IndexError):
        return {}
    return {k: sorted(set(v)) for k, v in data.items() if isinstance(v, list)}
