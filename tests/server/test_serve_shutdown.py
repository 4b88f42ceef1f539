"""`conductor serve --http` stopped with SIGTERM (systemd, docker, kill) exits 0 and takes the
temporary Prefect server it started with it: no orphaned process keeps a port and a database."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
from pathlib import Path

import httpx
import pytest

from tests._proc import alive, descendants
from tests.conftest import BIN

pytestmark = pytest.mark.slow
TOKEN = "shutdown-token-0123456789"


def test_sigterm_stops_the_server_and_its_temporary_prefect_server(tmp_path: Path) -> None:
    if not Path("/proc/self/task").is_dir():
        pytest.skip("needs Linux /proc to find the server's child processes")
    root = tmp_path / "roots" / "s"
    root.mkdir(parents=True)
    (root / "a.py").write_text("x = 1\n")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CONDUCTOR_", "PREFECT_"))}
    env |= {"CONDUCTOR_HOME": str(tmp_path / "home"), "CONDUCTOR_API_TOKEN": TOKEN,
            "CONDUCTOR_ALLOWED_ROOTS": str(tmp_path / "roots"),
            "PREFECT_HOME": str(tmp_path / "prefect")}  # fmt: skip
    argv = [str(BIN / "conductor"), "serve", "--http", "--port", str(port)]
    proc = subprocess.Popen(argv, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        with httpx.Client(base_url=url, headers={"Authorization": f"Bearer {TOKEN}"},
                          timeout=30) as http:  # fmt: skip
            for _ in range(300):
                try:
                    if http.get("/healthz").status_code == 200:
                        break
                except httpx.TransportError:
                    time.sleep(0.2)
            spec = {"workflow_id": "w", "tasks": [{"id": "a", "agent": "noop"}]}
            params = {"codebase": str(root), "spec": spec}
            run = http.post("/runs", json={"kind": "workflow", "params": params})
            assert run.status_code == 202, run.text
            run_id = run.json()["run_id"]
            for _ in range(600):
                status = http.get(f"/runs/{run_id}").json()["status"]
                if status in ("completed", "failed", "cancelled"):
                    break
                time.sleep(0.2)
            assert status == "completed"
        children = descendants(proc.pid)
        assert children, "the run should have started Prefect's temporary server"
        proc.send_signal(signal.SIGTERM)
        output = proc.communicate(timeout=60)[0].decode(errors="replace")
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 0, output[-2000:]
    deadline = time.monotonic() + 15
    while any(alive(c) for c in children) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert [c for c in children if alive(c)] == [], "orphaned child processes"
    assert "Traceback" not in output
