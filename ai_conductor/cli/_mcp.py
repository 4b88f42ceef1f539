"""`conductor mcp`: the MCP server over stdio, for Cursor, Roo Code, Claude and other clients."""

from __future__ import annotations


def run_mcp_stdio() -> None:
    """Serve MCP on stdin/stdout until the client disconnects; runs execute in this process
    (or as flow runs of Prefect deployments when PREFECT_API_URL is set)."""
    from ai_conductor._prefect_env import quiet_prefect_defaults
    from ai_conductor.server.mcp_server import build_mcp_server
    from ai_conductor.server.runs import RunManager
    from ai_conductor.settings import get_settings

    quiet_prefect_defaults()
    settings = get_settings()
    manager = RunManager(settings)
    try:
        build_mcp_server(manager, settings).run()
    finally:
        manager.shutdown(wait=False)
