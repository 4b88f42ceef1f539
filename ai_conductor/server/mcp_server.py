"""The MCP server (official ``mcp`` SDK 2.x): tools that start and steer runs, and resources.

Long runs (``analyze``, ``run_workflow``, ``implement``) return ``{run_id, status, ...}`` at
once; ``get_run`` reports progress and, once finished, the result summary; the full report is
the resource ``conductor://runs/{run_id}/report``. Errors come back as MCP tool errors with
a clear message and no secrets.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Annotated, Any

from pydantic import Field

from ai_conductor.errors import ConductorError
from ai_conductor.server import mcp_findings, mcp_resources
from ai_conductor.server.runs import RunInfo, RunManager
from ai_conductor.server.security import redact
from ai_conductor.settings import Settings

if TYPE_CHECKING:
    from mcp.server import MCPServer

INSTRUCTIONS = (
    "ai-conductor audits codebases and improves them. Start work with analyze, run_workflow or "
    "implement: each returns a run_id at once; poll get_run until status is completed, failed "
    "or cancelled. Then read findings with list_findings (dismiss false positives with "
    "dismiss_finding) and the full report from the resource conductor://runs/{run_id}/report. "
    "Paths must be inside the server's allowed roots."
)

Path_ = Annotated[str, Field(description="A path inside the server's allowed roots.")]
RunId = Annotated[str, Field(description="A run id, as returned by analyze/run_workflow/...")]
Focus = Annotated[
    list[str] | None,
    Field(
        description="Focus areas: security, performance, complexity, database, api, "
        "algorithms, bugs, style."
    ),
]


@contextmanager
def tool_errors(settings: Settings) -> Iterator[None]:
    """Turn the conductor's errors into MCP tool errors (redacted)."""
    from mcp.server.mcpserver.exceptions import ToolError

    try:
        yield
    except ConductorError as exc:
        raise ToolError(redact(str(exc), settings)) from None


def build_mcp_server(manager: RunManager, settings: Settings | None = None) -> MCPServer:
    """The MCP server over ``manager``; run it with ``.run()`` (stdio) or mount
    ``.streamable_http_app()``."""
    from mcp.server import MCPServer

    from ai_conductor._version import package_version

    settings = settings or manager.settings
    # the SDK configures the root logger (basicConfig) at this level: INFO would print every
    # HTTP request the Prefect client and every migration step alembic makes, per run
    server: MCPServer = MCPServer(
        name="ai-conductor", instructions=INSTRUCTIONS, log_level="WARNING",
        version=package_version(),
    )  # fmt: skip
    _run_tools(server, manager, settings)
    mcp_findings.register(server, manager, settings)
    mcp_resources.register(server, manager, settings)
    return server


def _run_tools(server: MCPServer, manager: RunManager, settings: Settings) -> None:
    def submit(kind: str, params: dict[str, Any]) -> RunInfo:
        with tool_errors(settings):
            return manager.submit(kind, {k: v for k, v in params.items() if v is not None})

    @server.tool()
    def analyze(
        codebase: Path_,
        focus: Focus = None,
        tools: Annotated[
            list[str] | None, Field(description="Analyzer tools (default: ruff, bandit, radon).")
        ] = None,
    ) -> RunInfo:
        """Analyze a codebase (lint, security, complexity, hotspots) in the background.

        Returns the run at once; poll get_run, then list_findings."""
        return submit("analyze", {"codebase": codebase, "focus": focus, "tools": tools})

    @server.tool()
    def run_workflow(
        spec_path: Annotated[
            str | None, Field(description="Path of a YAML/JSON workflow spec.")
        ] = None,
        spec: Annotated[
            dict[str, Any] | None, Field(description="An inline workflow spec instead.")
        ] = None,
        codebase: Annotated[
            str | None, Field(description="Codebase path (default: the spec's).")
        ] = None,
    ) -> RunInfo:
        """Run a workflow spec (by path or inline) in the background; poll get_run."""
        return submit("workflow", {"spec_path": spec_path, "spec": spec, "codebase": codebase})

    @server.tool()
    def implement(
        analysis: Annotated[str | None, Field(description="Path of an analysis.json.")] = None,
        analysis_run_id: Annotated[
            str | None, Field(description="Run id of a finished analyze run instead.")
        ] = None,
        codebase: Annotated[str | None, Field(description="Codebase to change.")] = None,
        backend: Annotated[str, Field(description="builtin, openai, anthropic, ...")] = "builtin",
        focus: Focus = None,
        apply: Annotated[
            bool, Field(description="Apply verified changes to the checkout.")
        ] = False,
    ) -> RunInfo:
        """Propose changes for an analysis' findings; only verified ones are kept."""
        params = {
            "analysis": analysis,
            "analysis_run_id": analysis_run_id,
            "codebase": codebase,
            "backend": backend,
            "focus": focus,
            "apply": apply,
        }
        return submit("implement", params)

    @server.tool()
    def get_run(run_id: RunId) -> RunInfo:
        """A run's status, progress, and (once finished) result summary or error."""
        with tool_errors(settings):
            info = manager.get(run_id)
            if info is None:
                raise ConductorError(f"no run with id {run_id!r} (list_runs shows the runs)")
            return info

    @server.tool()
    def list_runs(
        limit: Annotated[int, Field(ge=1, le=500, description="At most this many.")] = 20,
        status: Annotated[
            str | None, Field(description="pending, running, completed, failed or cancelled.")
        ] = None,
    ) -> list[RunInfo]:
        """The latest runs, newest first."""
        with tool_errors(settings):
            return manager.list(limit=limit, status=status)

    @server.tool()
    def cancel_run(run_id: RunId) -> RunInfo:
        """Cancel a run: a pending one never starts; a running workflow's agents are stopped."""
        with tool_errors(settings):
            return manager.cancel(run_id)
