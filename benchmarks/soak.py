"""Benchmark: a bounded soak of the HTTP API and MCP-over-HTTP, with memory and fd growth.

One command: ``python benchmarks/soak.py [--seconds 120] [--clients 16]``; it stops by itself.
Starts the server ``conductor serve --http`` runs (``run_http``, uvicorn, through
``benchmarks/http_load.py``'s helpers) on a free loopback port with a fresh CONDUCTOR_HOME and the
embedded defaults (SQLite audit log; Prefect's temporary server for workflow runs). Each client
holds an HTTP connection pool and an MCP session (official ``mcp`` client, streamable HTTP) and
cycles through: GET /healthz, GET /runs, POST /workflows/validate, GET /metrics, a small noop
workflow (POST /runs, then GET /runs/{id} until it finishes, then the next one), and MCP
list_tools, validate_spec and list_runs; every 25th MCP call opens a new session (sessions are
created and terminated throughout, so a leak per session shows). Errors: any non-2xx answer,
an MCP tool error, a failed run, or an exception. The server's RSS (with its child processes)
and open file descriptors come from /proc, sampled after warm-up, every few seconds and at the
end (and again after an idle pause). The baseline is the same mix from a single client in the
same script, first; p99 is printed as a ratio against it.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import statistics
import sys
import time
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))
from http_load import AUTH, served

SPEC: dict[str, Any] = {
    "workflow_id": "soak",
    "tasks": [
        {"id": "a", "agent": "noop", "inputs": {"n": 1}},
        {"id": "b", "agent": "noop", "dependencies": ["a"]},
    ],
}
TERMINAL = ("completed", "failed", "cancelled")
HTTP_OPS = ("healthz", "runs", "validate", "run", "metrics", "run")
MCP_OPS = ("mcp_list_tools", "mcp_validate_spec", "mcp_list_runs")
SESSION_CALLS = 25


@dataclass
class Stats:
    """Latencies per operation, errors (with a few samples) and finished runs."""

    latencies: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    errors: int = 0
    samples: list[str] = field(default_factory=list)
    runs_completed: int = 0
    runs_failed: int = 0
    sessions: int = 0

    def error(self, what: str) -> None:
        self.errors += 1
        if len(self.samples) < 10:
            self.samples.append(what[:300])

    def all(self) -> list[float]:
        return [x for lat in self.latencies.values() for x in lat]


def proc_usage(pid: int) -> tuple[int, int, int]:
    """(RSS kB of ``pid``, RSS kB of it and its child processes, open fds of ``pid``)."""

    def rss(p: int) -> int:
        try:
            for line in Path(f"/proc/{p}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
        except OSError:
            pass
        return 0

    def children(p: int) -> list[int]:
        found = []
        for task in Path(f"/proc/{p}/task").glob("*"):  # children of every thread
            with contextlib.suppress(OSError):
                found += (task / "children").read_text().split()
        return [int(c) for c in found] + [g for c in found for g in children(int(c))]

    own = rss(pid)
    return own, own + sum(rss(c) for c in children(pid)), len(os.listdir(f"/proc/{pid}/fd"))


class Client:
    """One soak client: an HTTP pool and an MCP session, cycling through the mix."""

    def __init__(self, url: str, root: Path, stats: Stats) -> None:
        self.url, self.root, self.stats = url, root, stats
        self.run_id: str | None = None

    async def http_op(self, http: httpx.AsyncClient, op: str) -> None:
        if op == "healthz":
            r = await http.get("/healthz")
        elif op == "runs":
            r = await http.get("/runs", params={"limit": 20})
        elif op == "validate":
            r = await http.post("/workflows/validate", json={"spec": SPEC})
            if r.status_code == 200 and not r.json()["ok"]:
                self.stats.error(f"validate: {r.text}")
        elif op == "metrics":
            r = await http.get("/metrics")
        elif self.run_id is None:
            op = "post_run"
            params = {"spec": SPEC, "codebase": str(self.root / "sample")}
            r = await http.post("/runs", json={"kind": "workflow", "params": params})
            if r.status_code == 202:
                self.run_id = r.json()["run_id"]
        else:
            op = "get_run"
            r = await http.get(f"/runs/{self.run_id}")
            status = r.json().get("status") if r.status_code == 200 else None
            if status in TERMINAL:
                self.run_id = None
                if status == "completed":
                    self.stats.runs_completed += 1
                else:
                    self.stats.runs_failed += 1
                    self.stats.error(f"run {status}: {r.text}")
        if not 200 <= r.status_code < 300:
            self.stats.error(f"{op}: HTTP {r.status_code} {r.text}")
        self.last_op = op

    async def mcp_op(self, mcp: Any, op: str) -> None:
        if op == "mcp_list_tools":
            tools = await mcp.list_tools()
            if not tools.tools:
                self.stats.error("list_tools: no tools")
            return
        if op == "mcp_validate_spec":
            out = await mcp.call_tool("validate_spec", {"spec": SPEC})
            ok = not out.is_error and out.structured_content.get("ok") is True
        else:
            out = await mcp.call_tool("list_runs", {"limit": 20})
            ok = not out.is_error
        if not ok:
            self.stats.error(f"{op}: {out.content}")

    async def timed(self, name: str, call: Any) -> None:
        t0 = time.perf_counter()
        self.last_op = name
        try:
            await call
        except Exception as exc:  # every failure counts; the soak goes on
            self.stats.error(f"{name}: {type(exc).__name__}: {exc}")
        self.stats.latencies[self.last_op].append(time.perf_counter() - t0)

    async def loop(self, deadline: float) -> None:
        import httpx2
        from mcp import Client as MCPClient
        from mcp.client.streamable_http import streamable_http_client

        i = 0
        async with httpx.AsyncClient(base_url=self.url, headers=AUTH, timeout=60) as http:
            while time.monotonic() < deadline:
                try:
                    async with httpx2.AsyncClient(headers=AUTH, timeout=60) as raw:
                        transport = streamable_http_client(f"{self.url}/mcp", http_client=raw)
                        async with MCPClient(transport) as mcp:
                            self.stats.sessions += 1
                            for _ in range(SESSION_CALLS):
                                if time.monotonic() >= deadline:
                                    break
                                hop, mop = HTTP_OPS[i % len(HTTP_OPS)], MCP_OPS[i % len(MCP_OPS)]
                                await self.timed(hop, self.http_op(http, hop))
                                await self.timed(mop, self.mcp_op(mcp, mop))
                                i += 1
                except Exception as exc:  # session set-up or tear-down failed
                    self.stats.error(f"mcp session: {type(exc).__name__}: {exc}")
            while self.run_id is not None:  # let the last run finish: its status is counted
                await self.timed("get_run", self.http_op(http, "run"))
                await asyncio.sleep(0.1)


async def phase(url: str, root: Path, clients: int, seconds: float) -> tuple[Stats, float]:
    stats = Stats()
    deadline = time.monotonic() + seconds
    start = time.perf_counter()
    await asyncio.gather(*(Client(url, root, stats).loop(deadline) for _ in range(clients)))
    return stats, time.perf_counter() - start


async def sampled_phase(
    url: str, root: Path, clients: int, seconds: float, pid: int, every: float
) -> tuple[Stats, float, list[tuple[float, int, int, int]]]:
    samples: list[tuple[float, int, int, int]] = []
    t0 = time.monotonic()

    async def sampler() -> None:
        while True:
            await asyncio.sleep(every)
            samples.append((time.monotonic() - t0, *proc_usage(pid)))

    task = asyncio.create_task(sampler())
    try:
        stats, elapsed = await phase(url, root, clients, seconds)
    finally:
        task.cancel()
    return stats, elapsed, samples


def quantiles(lat: list[float]) -> tuple[float, float]:
    if len(lat) < 2:
        return (lat[0], lat[0]) if lat else (0.0, 0.0)
    q = statistics.quantiles(lat, n=100)
    return q[49], q[98]


def summary(stats: Stats, elapsed: float) -> dict[str, Any]:
    lat = stats.all()
    p50, p99 = quantiles(lat)
    return {"requests": len(lat), "errors": stats.errors, "rps": len(lat) / elapsed,
            "p50_ms": p50 * 1000, "p99_ms": p99 * 1000, "runs_completed": stats.runs_completed,
            "runs_failed": stats.runs_failed, "mcp_sessions": stats.sessions,
            "per_op": {op: (len(v), *(x * 1000 for x in quantiles(v)))
                       for op, v in sorted(stats.latencies.items())}}  # fmt: skip


def soak(
    seconds: float, clients: int, baseline_seconds: float, every: float = 5.0
) -> dict[str, Any]:
    """Run the whole soak; returns the figures."""
    with served("print('soak')\n") as (url, root, proc):
        # warm-up: starts Prefect's temporary server, imports everything, fills caches
        asyncio.run(phase(url, root, 2, min(10.0, baseline_seconds)))
        base = summary(*asyncio.run(phase(url, root, 1, baseline_seconds)))
        start = proc_usage(proc.pid)
        stats, elapsed, samples = asyncio.run(
            sampled_phase(url, root, clients, seconds, proc.pid, every)
        )
        end = proc_usage(proc.pid)
        time.sleep(every)
        idle = proc_usage(proc.pid)
        alive = proc.poll() is None
    load = summary(stats, elapsed)
    return {"seconds": seconds, "clients": clients, "baseline": base, "load": load,
            "usage_start": start, "usage_end": end, "usage_idle": idle,
            "usage_max": tuple(max(s[i] for s in samples) for i in (1, 2, 3)) if samples else end,
            "samples": samples, "error_samples": stats.samples, "server_alive": alive}  # fmt: skip


def print_report(out: dict[str, Any]) -> None:
    base, load = out["baseline"], out["load"]
    print(f"\nSoak: {out['clients']} clients x {out['seconds']:.0f} s, HTTP API + MCP over "
          "streamable HTTP, real server (uvicorn) on loopback, embedded defaults")  # fmt: skip
    for name, s in (("baseline (1 client)", base), (f"{out['clients']} clients", load)):
        print(f"{name:<20} {s['requests']:>7} req {s['rps']:>7.0f} req/s"
              f"  p50 {s['p50_ms']:7.1f} ms"
              f"  p99 {s['p99_ms']:7.1f} ms  errors {s['errors']}  runs ok/failed "
              f"{s['runs_completed']}/{s['runs_failed']}"
              f"  MCP sessions {s['mcp_sessions']}")  # fmt: skip
    print("per operation under load (count, p50 ms, p99 ms; baseline p99 ms):")
    for op, (n, p50, p99) in load["per_op"].items():
        b = base["per_op"].get(op, (0, 0.0, 0.0))[2]
        print(f"  {op:<18} {n:>6} {p50:8.1f} {p99:8.1f}   {b:8.1f}")
    print(f"ratio p99 load/baseline: {load['p99_ms'] / max(base['p99_ms'], 1e-9):.2f}   "
          f"ratio p50: {load['p50_ms'] / max(base['p50_ms'], 1e-9):.2f}")  # fmt: skip
    labels = ("server RSS", "server+children RSS", "server open fds")
    for i, label in enumerate(labels):
        s, e, m, idle = (out[k][i] for k in ("usage_start", "usage_end", "usage_max", "usage_idle"))
        unit = " kB" if i < 2 else ""
        print(f"{label:<20} start {s}{unit}  max {m}{unit}  end {e}{unit}  after idle {idle}{unit}"
              f"  growth {e - s:+d}{unit} ({(e - s) / max(s, 1) * 100:+.1f}%)")  # fmt: skip
    print(f"server alive at the end: {out['server_alive']}")
    for sample in out["error_samples"]:
        print(f"  error: {sample}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=120)
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--baseline-seconds", type=float, default=15)
    args = parser.parse_args()
    out = soak(args.seconds, args.clients, args.baseline_seconds)
    print_report(out)
    return 1 if out["load"]["errors"] or out["baseline"]["errors"] or not out["server_alive"] else 0


if __name__ == "__main__":
    sys.exit(main())
