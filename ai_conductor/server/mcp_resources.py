"""MCP resources: workflow specs (``conductor://workflows/{name}``) and run reports
(``conductor://runs/{run_id}/report``)."""

from __future__ import annotations

import json
import re
import warnings
from pathlib import Path
from typing import TYPE_CHECKING, Final

from ai_conductor.server.security import allowed_roots

if TYPE_CHECKING:
    from mcp.server import MCPServer

    from ai_conductor.server.runs import RunManager
    from ai_conductor.settings import Settings

SPEC_SUFFIXES: Final = (".yaml", ".yml", ".json")
MAX_SPEC_BYTES: Final = 256 * 1024
_NAME: Final = re.compile(r"[A-Za-z0-9_-][A-Za-z0-9_.-]{0,127}")
PACKAGE_WORKFLOWS: Final = Path(__file__).resolve().parents[2] / "workflows"


def workflow_dirs(settings: Settings) -> list[Path]:
    """The repo's ``workflows/`` and each allowed root's ``workflows/`` folder (resolved, and
    only when it stays inside its root)."""
    dirs = [PACKAGE_WORKFLOWS]
    for root in allowed_roots(settings):
        folder = (root / "workflows").resolve()
        if folder.is_relative_to(root):
            dirs.append(folder)
    return [d for d in dict.fromkeys(dirs) if d.is_dir()]


def _is_spec(path: Path) -> bool:
    """A small file that parses as a workflow spec (shape only: nothing is imported)."""
    from pydantic import ValidationError

    from ai_conductor._specsource import parse_document
    from ai_conductor.errors import SpecError
    from ai_conductor.spec import WorkflowSpec

    try:
        if path.stat().st_size > MAX_SPEC_BYTES:
            return False
        data = parse_document(path.read_text(encoding="utf-8"), str(path)).data
        if not isinstance(data, dict):
            return False
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            WorkflowSpec.model_validate({"workflow_id": "x", **data})
    except (OSError, UnicodeError, SpecError, ValidationError, TypeError):
        return False
    return True


def workflow_specs(settings: Settings) -> dict[str, Path]:
    """Spec files by name (file name without suffix); earlier directories win. Only regular
    files inside their folder (symlinks resolved) that parse as workflow specs; dotfiles never."""
    found: dict[str, Path] = {}
    for folder in workflow_dirs(settings):
        for path in sorted(folder.iterdir()):
            if path.suffix not in SPEC_SUFFIXES or not _NAME.fullmatch(path.stem):
                continue
            if path.stem in found:
                continue
            resolved = path.resolve()
            if resolved.is_relative_to(folder) and resolved.is_file() and _is_spec(resolved):
                found[path.stem] = resolved
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
        return path.read_text(encoding="utf-8")  # the file checked, not the name

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
