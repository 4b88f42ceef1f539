"""``conductor server``: the shared local Prefect server that ``conductor run`` reuses.

Help text here is the user documentation.
"""

from __future__ import annotations

import json
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape

from ai_conductor.cli._errors import group

server_app = group(
    "The shared local Prefect server that local runs reuse.\n\n"
    "Without PREFECT_API_URL, the first `conductor run` starts a Prefect server in the "
    "background (`prefect server start` on a free loopback port, its database and record in "
    "PREFECT_HOME) and later runs reuse it, so only the first run waits for a server. It keeps "
    "running, with Prefect's UI, until `conductor server stop`. CONDUCTOR_PREFECT_SERVER="
    "temporary goes back to a temporary server per process; a set PREFECT_API_URL is always "
    "used as it is. A server that does not answer within CONDUCTOR_PREFECT_SERVER_START_TIMEOUT "
    "seconds (default 90) is stopped and the run fails with exit code 3."
)
err = Console(stderr=True, highlight=False, soft_wrap=True)
JsonOpt = Annotated[bool, typer.Option("--json", help="Print the server as JSON.")]


def _show(url: str | None, pid: int | None, note: str, as_json: bool) -> None:
    if as_json:
        ui = url.removesuffix("/api") if url else None
        typer.echo(json.dumps({"running": url is not None, "api": url, "ui": ui, "pid": pid}))
        return
    err.print(note)
    if url:  # stdout: what a shell or another tool needs
        typer.echo(f"export PREFECT_API_URL={url}")


@server_app.command("start")
def start(as_json: JsonOpt = False) -> None:
    """Start the shared server unless it runs; print `export PREFECT_API_URL=...` for other
    tools (Prefect's CLI, scripts using the Python API) to use it too."""
    from ai_conductor import _local_server
    from ai_conductor.settings import get_settings

    url, started = _local_server.ensure(get_settings())
    server = _local_server.recorded(get_settings())
    what = "started" if started else "already running"
    note = f"shared Prefect server {what}: API {url}, UI {url.removesuffix('/api')}"
    _show(url, server.pid if server else None, note, as_json)


@server_app.command("status")
def status(as_json: JsonOpt = False) -> None:
    """Whether the shared server runs, and where (exit 0 either way)."""
    from ai_conductor import _local_server
    from ai_conductor.settings import get_settings

    server = _local_server.recorded(get_settings())
    if server is None:
        _show(None, None, "no shared Prefect server is running", as_json)
        return
    health = "answers" if _local_server.answers(server.url) else "does NOT answer"
    note = f"shared Prefect server (pid {server.pid}) {health}: API {server.url}; log {server.log}"
    _show(server.url, server.pid, note, as_json)


@server_app.command("stop")
def stop() -> None:
    """Stop the shared server (runs in progress against it fail). Its database is kept: the
    next run starts it again with every earlier flow run still in the UI."""
    from ai_conductor import _local_server
    from ai_conductor.settings import get_settings

    server = _local_server.stop(get_settings())
    if server is None:
        err.print("no shared Prefect server was running")
    else:
        err.print(f"stopped the shared Prefect server at {escape(server.url)} (pid {server.pid})")
