"""Real Prefect processes for the end-to-end tests: `prefect server start` and process workers.

Each process runs in its own session (process group) with its output in a log file; ``stop()``
kills the whole group, so nothing (uvicorn, flow-run subprocesses, Dask workers) outlives it.
Usable outside pytest too (the UI screenshot script starts the same stack).
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
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

BIN = Path(sys.executable).parent
PREFECT = str(BIN / "prefect")
CONDUCTOR = str(BIN / "conductor")
WORK_POOL = "conductor-process"

LIVE: dict[str, Path] = {}
"""Log files of the processes now running, by name (shown when a test fails)."""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def log_tail(path: Path, chars: int = 6000) -> str:
    text = path.read_text(errors="replace") if path.exists() else "<no log>"
    return text[-chars:]


def prefect_env(api_url: str | None, home: Path, **extra: str) -> dict[str, str]:
    """A subprocess environment: its own PREFECT_HOME, no telemetry, no conductor settings."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CONDUCTOR_", "PREFECT_"))}
    env.update(
        PREFECT_HOME=str(home),
        PREFECT_SERVER_ANALYTICS_ENABLED="false",
        DO_NOT_TRACK="1",
        PREFECT_LOGGING_LEVEL="INFO",
        PYTHONUNBUFFERED="1",
        NO_COLOR="1",
        COLUMNS="200",
    )
    if api_url:
        env["PREFECT_API_URL"] = api_url
    env.update(extra)
    return env


@dataclass
class Service:
    """A process running in its own process group, its output in ``log``."""

    name: str
    proc: subprocess.Popen[bytes]
    log: Path

    def alive(self) -> bool:
        return self.proc.poll() is None

    def stop(self, grace: float = 10.0) -> None:
        """SIGTERM the process group, SIGKILL what is left after ``grace`` seconds."""
        LIVE.pop(self.name, None)
        for sig, wait in ((signal.SIGTERM, grace), (signal.SIGKILL, 5.0)):
            try:
                os.killpg(self.proc.pid, sig)
            except ProcessLookupError:
                return
            try:
                self.proc.wait(timeout=wait)
            except subprocess.TimeoutExpired:
                continue
            with contextlib.suppress(ProcessLookupError):  # children may outlive the leader
                os.killpg(self.proc.pid, signal.SIGKILL)
            return


def spawn(name: str, argv: list[str], env: Mapping[str, str], log: Path, cwd: Path) -> Service:
    log.parent.mkdir(parents=True, exist_ok=True)
    with log.open("wb") as out:
        proc = subprocess.Popen(
            argv, stdout=out, stderr=subprocess.STDOUT, env=dict(env), cwd=cwd,
            start_new_session=True, stdin=subprocess.DEVNULL,
        )  # fmt: skip
    LIVE[name] = log
    return Service(name, proc, log)


@dataclass
class PrefectServer:
    """A running `prefect server start` and what clients need to reach it."""

    backend: str
    service: Service
    port: int
    home: Path
    workers: list[Service] = field(default_factory=list)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def api_url(self) -> str:
        return f"{self.url}/api"

    def stop(self) -> None:
        for worker in self.workers:
            worker.stop()
        self.service.stop()


def start_server(
    root: Path, backend: str, database_url: str | None = None, timeout: float = 90.0
) -> PrefectServer:
    """`prefect server start` on loopback (SQLite under ``root``, or ``database_url``)."""
    port = free_port()
    home = root / "server-home"
    # the UI (served at /) calls the API at PREFECT_UI_API_URL; by default that is port 4200
    extra = {"PREFECT_UI_API_URL": f"http://127.0.0.1:{port}/api"}
    if database_url:
        extra["PREFECT_API_DATABASE_CONNECTION_URL"] = database_url
    env = prefect_env(None, home, **extra)
    argv = [PREFECT, "server", "start", "--host", "127.0.0.1", "--port", str(port)]
    service = spawn(f"prefect server ({backend})", argv, env, root / "server.log", cwd=root)
    server = PrefectServer(backend, service, port, home)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not service.alive():
            raise RuntimeError(f"prefect server exited:\n{log_tail(service.log)}")
        try:
            with urllib.request.urlopen(f"{server.api_url}/health", timeout=2) as reply:
                if reply.status == 200:
                    return server
        except OSError:
            time.sleep(0.3)
    server.stop()
    raise RuntimeError(f"prefect server not healthy after {timeout}s:\n{log_tail(service.log)}")


def start_worker(
    server: PrefectServer, root: Path, name: str, env: Mapping[str, str], *, limit: int = 1
) -> Service:
    """`prefect worker start --type process` on the conductor pool, polling every second."""
    argv = [PREFECT, "worker", "start", "--pool", WORK_POOL, "--type", "process",
            "--name", name, "--limit", str(limit)]  # fmt: skip
    full_env = prefect_env(server.api_url, root / f"{name}-home",
                           PREFECT_WORKER_QUERY_SECONDS="1", PREFECT_WORKER_PREFETCH_SECONDS="5",
                           **env)  # fmt: skip
    worker = spawn(name, argv, full_env, root / f"{name}.log", cwd=root)
    server.workers.append(worker)
    return worker


def wait_for_workers(server: PrefectServer, names: list[str], timeout: float = 60.0) -> None:
    """Until every named worker has sent a heartbeat to the pool (status ONLINE)."""
    from prefect.client.orchestration import SyncPrefectClient

    deadline = time.monotonic() + timeout
    with SyncPrefectClient(server.api_url) as client:
        while time.monotonic() < deadline:
            for worker in server.workers:
                if not worker.alive():
                    raise RuntimeError(f"{worker.name} exited:\n{log_tail(worker.log)}")
            online = {
                w.name
                for w in client.read_workers_for_work_pool(WORK_POOL, limit=50, offset=0)
                if str(w.status).upper().endswith("ONLINE")
            }
            if set(names) <= online:
                return
            time.sleep(0.5)
    raise RuntimeError(f"workers {names} not online after {timeout}s")


def run(
    argv: list[str], env: Mapping[str, str], cwd: Path, timeout: float = 180.0
) -> subprocess.CompletedProcess[str]:
    """Run a CLI to completion; stdout and stderr together in ``stdout``."""
    return subprocess.run(argv, env=dict(env), cwd=cwd, capture_output=False, text=True,
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=timeout,
                          stdin=subprocess.DEVNULL, check=False)  # fmt: skip
