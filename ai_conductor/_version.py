"""The one source of the package's version: the installed distribution's metadata (from
pyproject.toml), read once. ``conductor --version``, ``ai_conductor.__version__``, /healthz, the
MCP server and ``analysis.json`` all say this."""

from __future__ import annotations

from functools import cache

DISTRIBUTION = "ai-conductor"


@cache
def package_version() -> str:
    """The version pip installed; ``0+unknown`` when the package runs uninstalled (from a tree)."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(DISTRIBUTION)
    except PackageNotFoundError:
        return "0+unknown"
