"""A Prefect server that local runs share: started once in the background, found by later runs.

Without ``PREFECT_API_URL`` every process would start Prefect's temporary server (8-14 s here)
and stop it on exit. Instead the CLI starts ``prefect server start`` once, detached, on a free
loopback port, and records it in ``$PREFECT_HOME/ai-conductor-server.json`` (its database is
that Prefect home's, as for any Prefect server); later runs find it there and only check that
it answers. ``conductor server stop`` ends it. Prefect's own ``prefect server start --background``
was not used: it takes a fixed port (4200 by default), does not wait for the server, and leaves
the server's output in pipes nobody reads, in the terminal's process group (a Ctrl-C there
stops it).

Start-up is bounded (``CONDUCTOR_PREFECT_SERVER_START_TIMEOUT``): a server that does not answer
in time is stopped and the run fails with an :class:`OrchestrationError` (exit 3) naming its log.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from importlib.metadata import version
from pathlib import Path

from pydantic import BaseModel, ValidationError

from ai_conductor._process import process_alive, process_start
from ai_conductor.errors import OrchestrationError
from ai_conductor.settings import Settings

STATE_NAME = "ai-conductor-server.json"
ADDRESS_IN_USE = "address already in use"
STOP_GRACE_SECONDS = 20.0


class LocalServer(BaseModel):
    """The record of a running shared server."""

    url: str
    """Its API URL, ``http://127.0.0.1:PORT/api`` (the UI is at the same address without /api)."""
    pid: int
    """The ``prefect server start`` process (the leader of its own process group)."""
    host: str
    """The machine it runs on."""
    started: str | None
    """The process's start time (clock ticks since boot): tells it from a reused pid."""
    prefect_version: str
    """The Prefect version that started it; another version's client starts its own."""
    log: str
    """Where its output goes."""


def _paths(settings: Settings) -> tuple[Path, Path, Path]:
    home = settings.prefect_home_dir
    return home / STATE_NAME, home / "ai-conductor-server.log", home / "ai-conductor-server.lock"


def answers(url: str, timeout: float = 5.0) -> bool:
    """Whether the Prefect API at ``url`` reports itself healthy."""
    try:
        with urllib.request.urlopen(f"{url}/health", timeout=timeout) as reply:  # noqa: S310
            return bool(reply.status == 200)
    except OSError:
        return False


def recorded(settings: Settings) -> LocalServer | None:
    """The recorded server whose process still runs (a stale record is removed)."""
    state, _, _ = _paths(settings)
    try:
        server = LocalServer.model_validate_json(state.read_text(encoding="utf-8"))
    except (OSError, ValidationError):
        return None
    if not process_alive(server.model_dump()):
        state.unlink(missing_ok=True)
        return None
    return server


@contextlib.contextmanager
def _locked(settings: Settings) -> Iterator[None]:
    """One process at a time finds or starts the server (the others then find it)."""
    _, _, lock = _paths(settings)
    lock.parent.mkdir(parents=True, exist_ok=True)
    with lock.open("a") as handle:
        try:
            import fcntl
        except ImportError:  # Windows: no advisory locks; concurrent first runs may both start
            yield
            return
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def ensure(settings: Settings) -> tuple[str, bool]:
    """The URL of the shared server, started when none runs; and whether it was started now."""
    with _locked(settings):
        server = recorded(settings)
        if server is not None and server.prefect_version != version("prefect"):
            stop(settings)  # started by another Prefect version: its API may not match ours
            server = None
        if server is not None:
            if _answers_within(server.url, min(settings.prefect_server_start_timeout, 30.0)):
                return server.url, False
            raise OrchestrationError(
                f"the shared Prefect server {server.url} (pid {server.pid}) runs but does not "
                f"answer; see its log {server.log}, then `conductor server stop` and run again"
            )
        return _start(settings).url, True


def _answers_within(url: str, seconds: float) -> bool:
    """Whether the server answers within ``seconds`` (a busy one may be slow to)."""
    deadline = time.monotonic() + seconds
    while not answers(url):
        if time.monotonic() >= deadline:
            return False
        time.sleep(0.5)
    return True


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _start(settings: Settings, attempts: int = 3) -> LocalServer:
    state, log, _ = _paths(settings)
    deadline = time.monotonic() + settings.prefect_server_start_timeout
    for _ in range(attempts):  # another process may take the port between our check and bind
        port = _free_port()
        argv = [sys.executable, "-m", "prefect", "server", "start", "--host", "127.0.0.1",
                "--port", str(port)]  # fmt: skip
        url = f"http://127.0.0.1:{port}/api"
        env = {**os.environ, "PREFECT_UI_API_URL": url}  # else the UI looks on port 4200
        with log.open("w") as out:
            proc = subprocess.Popen(
                argv, stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT,
                start_new_session=True, env=env,
            )  # fmt: skip
        server = LocalServer(
            url=url, pid=proc.pid, host=socket.gethostname(),
            started=process_start(proc.pid), prefect_version=version("prefect"), log=str(log),
        )  # fmt: skip
        state.write_text(server.model_dump_json(), encoding="utf-8")
        while time.monotonic() < deadline and proc.poll() is None:
            if answers(server.url, timeout=2.0):
                return server
            time.sleep(0.2)
        stop(settings)
        if proc.returncode is None or ADDRESS_IN_USE not in _tail(log).lower():
            break
    limit = settings.prefect_server_start_timeout
    raise OrchestrationError(
        f"the local Prefect server did not answer within {limit:g} s (its log: {log}: "
        f"{_tail(log)[-300:].strip() or 'empty'}); on a busy machine raise "
        "CONDUCTOR_PREFECT_SERVER_START_TIMEOUT, or start a server yourself (`prefect server "
        "start`) and set PREFECT_API_URL"
    )


def _tail(log: Path) -> str:
    try:
        return log.read_text(encoding="utf-8", errors="replace")[-2000:]
    except OSError:
        return ""


def stop(settings: Settings) -> LocalServer | None:
    """Stop the recorded server (its whole process group); the record it had, if any."""
    state, _, _ = _paths(settings)
    server = recorded(settings)
    state.unlink(missing_ok=True)
    if server is None:
        return None
    owner = server.model_dump()
    for sig, wait in ((signal.SIGTERM, STOP_GRACE_SECONDS), (signal.SIGKILL, 5.0)):
        with contextlib.suppress(ProcessLookupError):
            os.killpg(server.pid, sig)
        end = time.monotonic() + wait
        while time.monotonic() < end and _running(server.pid, owner):
            time.sleep(0.1)
        if not _running(server.pid, owner):
            break
    return server


def _running(pid: int, owner: dict[str, object]) -> bool:
    """Alive and not a zombie (a child of this process that exited but was not reaped yet)."""
    with contextlib.suppress(ChildProcessError, OSError):
        os.waitpid(pid, os.WNOHANG)
    return process_alive(owner)
