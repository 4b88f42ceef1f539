"""MCP resources: workflow specs (``conductor://workflows/{name}``) and run reports
(``conductor://runs/{run_id}/report``)."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import TYPE_CHECKING, Final

from ai_conductor.server.security import allowed_roots

if TYPE_CHECKING:
    from mcp.server import MCPServer

    from ai_conductor.server.runs import RunManager
    from ai_conductor.settings import Settings

SPEC_SUFFIXES: Final = (".yaml", ".yml", ".json")
_NAME: Final = re.compile(r"[A-Za-z0-9_.-]{1,128}")
PACKAGE_WORKFLOWS: Final = Path(__file__).resolve().parents[2] / "workflows"


def workflow_dirs(settings: Settings) -> list[Path]:
    """The repo's ``workflows/`` and each allowed root's ``workflows/`` (and the root itself)."""
    dirs = [PACKAGE_WORKFLOWS]
    for root in allowed_roots(settings):
        dirs += [root / "workflows", root]
    return [d for d in dict.fromkeys(dirs) if d.is_dir()]


def workflow_specs(settings: Settings) -> dict[str, Path]:
    """Spec files by name (file name without suffix); earlier directories win."""
    found: dict[str, Path] = {}
    for folder in workflow_dirs(settings):
        for path in sorted(folder.iterdir()):
            if path.suffix in SPEC_SUFFIXES and path.is_file() and _NAME.fullmatch(path.stem):
                found.setdefault(path.stem, path)
    return found


def register(server: MCPServer, manager: RunManager, settings: Settings) -> None:
    from mcp.server.mcpserver.exceptions import ResourceError

    @server.resource("conductor://workflows", mime_type="application/json")
    def workflows() -> str:
        """Names of the workflow specs this server can read (conductor://workflows/{name})."""
        specs = workflow_specs(settings)
        return json.dumps({name: str(path) for name, path in specs.items()}, indent=2)

    @server.resource("conductor://workflows/{name}", mime_type="text/plain")
    def workflow(name: str) -> str:
        """A workflow spec's text, by name (e.g. audit); run it with run_workflow."""
        path = workflow_specs(settings).get(name) if _NAME.fullmatch(name) else None
        if path is None:
            raise ResourceError(f"no workflow spec named {name!r}; read conductor://workflows")
        return path.read_text(encoding="utf-8")

    @server.resource("conductor://runs/{run_id}/report", mime_type="application/json")
    def run_report(run_id: str) -> str:
        """The full report of a finished run (analysis, workflow result, implement report)."""
        try:
            report = manager.report(run_id)
        except ValueError:
            report = None
        if report is None:
            raise ResourceError(f"no report for run {run_id!r} (not finished, or not local)")
        return json.dumps(report, indent=2)
