"""The one source of the package's version: the installed distribution's metadata (from
pyproject.toml), read once. ``conductor --version``, ``ai_conductor.__version__``, /healthz, the
MCP server and ``analysis.json`` all say this."""

from __future__ import annotations

import tomllib
from functools import cache
from pathlib import Path

DISTRIBUTION = "ai-conductor"
UNKNOWN = "0+unknown"
_PYPROJECT = Path(__file__).resolve().parent.parent / "pyproject.toml"


@cache
def package_version() -> str:
    """The version pip installed; from a source checkout that is not installed, the version in
    its pyproject.toml; ``0+unknown`` when neither says."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(DISTRIBUTION)
    except PackageNotFoundError:
        return source_version(_PYPROJECT)


def source_version(pyproject: Path) -> str:
    """``project.version`` of ``pyproject`` when it describes this distribution, else unknown."""
    try:
        project = tomllib.loads(pyproject.read_text(encoding="utf-8")).get("project", {})
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
        return UNKNOWN
    if project.get("name") != DISTRIBUTION or not isinstance(project.get("version"), str):
        return UNKNOWN
    return str(project["version"])
