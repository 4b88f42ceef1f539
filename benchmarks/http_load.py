"""Benchmark: bounded load on the HTTP API, against the real server on loopback.

One command: ``python benchmarks/http_load.py [--requests 2000] [--concurrency 16]``.
Starts ``run_http`` (uvicorn) in a subprocess with a fresh CONDUCTOR_HOME and a token, seeds a
few finished runs (one-task workflows and an analysis, so ``GET /tasks`` reads real audit
events), then sends the requests (half ``GET /tasks``, half ``GET /runs/{id}/status``) from an
httpx client pool and prints requests/s, p50/p99 latency and errors, beside a baseline of the
same number of ``GET /healthz`` (no database, no auth) and the ratio of the two.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

TOKEN = "bench-token-0123456789"
AUTH = {"Authorization": f"Bearer {TOKEN}"}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_server(home: Path, root: Path, port: int) -> subprocess.Popen[bytes]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CONDUCTOR_")}
    env |= {"CONDUCTOR_HOME": str(home), "CONDUCTOR_API_TOKEN": TOKEN,
            "CONDUCTOR_ALLOWED_ROOTS": str(root), "PREFECT_LOGGING_LEVEL": "WARNING",
            "PREFECT_SERVER_ANALYTICS_ENABLED": "false", "DO_NOT_TRACK": "1"}  # fmt: skip
    env.pop("PREFECT_API_URL", None)
    code = f"from ai_conductor.cli._serve_http import run_http; raise SystemExit(run_http('127.0.0.1', {port}))"  # noqa: E501
    return subprocess.Popen([sys.executable, "-c", code], env=env)


@contextmanager
def served(source: str) -> Iterator[tuple[str, Path, subprocess.Popen[bytes]]]:
    """(url, allowed root, server process): a fresh server whose root holds ``sample/app.py``
    with ``source``; terminated at the end."""
    with tempfile.TemporaryDirectory(prefix="conductor-bench-") as tmp:
        root = Path(tmp) / "roots"
        (root / "sample").mkdir(parents=True)
        (root / "sample" / "app.py").write_text(source)
        port = free_port()
        url = f"http://127.0.0.1:{port}"
        proc = start_server(Path(tmp) / "home", root, port)
        try:
            wait_ready(url, proc)
            yield url, root, proc
        finally:
            proc.terminate()
            proc.wait(timeout=30)


def wait_ready(url: str, proc: subprocess.Popen[bytes], timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"server exited with {proc.returncode}")
        try:
            if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            time.sleep(0.2)
    raise SystemExit("server did not start")


def seed(url: str, root: Path) -> list[str]:
    """A few finished runs: ids for the status calls, audit events for GET /tasks."""
    ids = []
    with httpx.Client(base_url=url, headers=AUTH, timeout=60) as http:

        def finish(run_id: str) -> str:
            while http.get(f"/runs/{run_id}/status").json()["status"] in ("pending", "running"):
                time.sleep(0.2)
            return run_id

        for i in range(4):  # one at a time: the first one starts Prefect's temporary server
            body = {"task_id": f"seed-{i}", "name": f"seed {i}", "agent_role": "analyzer"}
            r = http.post("/tasks", json={**body, "codebase": str(root / "sample")})
            ids.append(finish(r.raise_for_status().json()["run_id"]))
        r = http.post("/runs", json={"kind": "analyze", "params": {"codebase": "sample"}})
        ids.append(finish(r.raise_for_status().json()["run_id"]))
    return ids


async def load(url: str, paths: list[str], concurrency: int) -> tuple[float, list[float], int]:
    latencies: list[float] = []
    errors = 0
    queue: asyncio.Queue[str] = asyncio.Queue()
    for p in paths:
        queue.put_nowait(p)
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(base_url=url, headers=AUTH, limits=limits, timeout=30) as http:

        async def worker() -> None:
            nonlocal errors
            while not queue.empty():
                path = queue.get_nowait()
                t0 = time.perf_counter()
                try:
                    r = await http.get(path)
                    errors += r.status_code != 200
                except httpx.HTTPError:
                    errors += 1
                latencies.append(time.perf_counter() - t0)

        start = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        return time.perf_counter() - start, latencies, errors


def report(name: str, elapsed: float, lat: list[float], errors: int) -> float:
    q = statistics.quantiles(lat, n=100)
    rps = len(lat) / elapsed
    print(f"{name:<28} {len(lat):>6} req  {rps:>8.0f} req/s  p50 {q[49] * 1000:6.1f} ms  "
          f"p99 {q[98] * 1000:6.1f} ms  errors {errors}")  # fmt: skip
    return rps


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--concurrency", type=int, default=16)
    args = parser.parse_args()
    with served("import os\n\nprint(os.getcwd())\n") as (url, root, _):
        ids = seed(url, root)
        mixed = [
            "/tasks?limit=20" if i % 2 else f"/runs/{ids[i % len(ids)]}/status"
            for i in range(args.requests)
        ]
        asyncio.run(load(url, mixed[:100], args.concurrency))  # warm-up
        base = asyncio.run(load(url, ["/healthz"] * args.requests, args.concurrency))
        run = asyncio.run(load(url, mixed, args.concurrency))
    print(f"HTTP load, concurrency {args.concurrency}, real server (uvicorn) on loopback")
    base_rps = report("baseline GET /healthz", *base)
    rps = report("GET /tasks + /runs/{id}/status", *run)
    print(f"ratio (API / baseline req/s): {rps / base_rps:.2f}")
    return 1 if run[2] else 0


if __name__ == "__main__":
    sys.exit(main())
