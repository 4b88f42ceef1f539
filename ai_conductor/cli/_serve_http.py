"""``conductor serve --http``: the HTTP API and MCP-over-HTTP in one uvicorn server."""

from __future__ import annotations

import signal
import sys
from types import FrameType
from typing import Any

from ai_conductor.cli._errors import show
from ai_conductor.errors import ConductorError, UsageError

__all__ = ["run_http"]


def run_http(host: str, port: int) -> int:
    """Serve until interrupted; 2 when the address or settings are refused, 3 if serving fails.

    Without ``CONDUCTOR_API_TOKEN`` only a loopback address is accepted.
    """
    try:
        app = _checked_app(host, port)
    except ConductorError as exc:
        return show(exc)
    import uvicorn

    config = uvicorn.Config(
        app,
        host=host,
        port=port,
        log_level="warning",
        access_log=False,
        server_header=False,
        timeout_graceful_shutdown=10,
    )
    server = uvicorn.Server(config)
    print(f"conductor: serving http://{host}:{port} (API, /docs, /metrics, /mcp)", file=sys.stderr)
    # uvicorn shuts down gracefully on SIGTERM, then raises the signal again for the handler it
    # found: the default one would end the process at once, skipping the atexit hooks that
    # stop Prefect's temporary server (left running, orphaned). Exiting normally runs them.
    previous = signal.signal(signal.SIGTERM, _exit_normally)
    try:
        server.run()
    except OSError as exc:  # address in use, permission denied
        print(f"error: cannot serve on {host}:{port}: {exc.strerror or exc}", file=sys.stderr)
        return 3
    except _Terminated:
        pass
    finally:
        signal.signal(signal.SIGTERM, previous)
    return 0


def _checked_app(host: str, port: int) -> Any:
    """The ASGI app, once the address, the port and the settings are accepted."""
    from ai_conductor.server.http_api import create_app
    from ai_conductor.server.security import check_bind, require_token
    from ai_conductor.settings import get_settings

    settings = get_settings()
    check_bind(host, require_token(settings))
    if not 0 <= port <= 65535:
        raise UsageError(f"port must be 0 to 65535, got {port}")
    return create_app(settings, host=host, allowed_hosts=settings.server_allowed_hosts)


class _Terminated(SystemExit):
    """SIGTERM arrived (after uvicorn's graceful shutdown): exit 0 through the normal path."""


def _exit_normally(signum: int, frame: FrameType | None) -> None:
    raise _Terminated(0)
