"""Benchmark: orchestration overhead of the conductor vs a hand-written Prefect flow.

One command: ``python benchmarks/orchestration.py [--tasks 200] [--rounds 3] [--workers 8]``.
Both run the same DAG of no-op tasks (fan-out and chains) on the same ThreadPoolTaskRunner
width, against the same Prefect server, in this process. Prefect's server digests a run's
events for a while after the run returns, and whoever runs next pays for that on these cores:
so each run starts after a settle pause, the order alternates (ABBA), and medians are compared.
The conductor side includes everything it does for real: spec validation, cache keys, result
persistence, and the audit log (SQLite) in a fresh CONDUCTOR_HOME per round.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
os.environ.setdefault("DO_NOT_TRACK", "1")
os.environ.setdefault("PREFECT_LOGGING_LEVEL", "WARNING")


def make_dag(n: int) -> list[dict[str, Any]]:
    """Task t0 fans out; the rest mix chains, fan-out from t0 and two-parent joins."""
    tasks: list[dict[str, Any]] = [{"id": "t0", "agent": "noop", "inputs": {"i": 0}}]
    for i in range(1, n):
        kind = i % 4
        deps = (
            [f"t{i - 1}"] if kind == 0
            else ["t0"] if kind == 1
            else [f"t{i - 2}", f"t{i - 1}"] if kind == 2
            else []
        )  # fmt: skip
        tasks.append({"id": f"t{i}", "agent": "noop", "inputs": {"i": i}, "dependencies": deps})
    return tasks


def handwritten(tasks: list[dict[str, Any]], workers: int) -> float:
    from prefect import flow, task
    from prefect.task_runners import ThreadPoolTaskRunner

    @task
    def noop(inputs: dict[str, Any], upstream: list[Any]) -> dict[str, Any]:
        return inputs

    @flow(task_runner=ThreadPoolTaskRunner(max_workers=workers))
    def hand_flow() -> None:
        futures: dict[str, Any] = {}
        for t in tasks:
            ups = [futures[d] for d in t.get("dependencies", [])]
            futures[t["id"]] = noop.with_options(task_run_name=t["id"]).submit(t["inputs"], ups)
        for f in futures.values():
            f.result()

    start = time.perf_counter()
    hand_flow()
    return time.perf_counter() - start


def conductor(tasks: list[dict[str, Any]], workers: int, home: Path) -> float:
    from ai_conductor import run_spec
    from ai_conductor.settings import reload_settings
    from ai_conductor.store import close_all

    home.mkdir(parents=True, exist_ok=True)
    os.environ["CONDUCTOR_HOME"] = str(home)
    close_all()
    reload_settings()
    spec = {"workflow_id": "bench", "settings": {"max_parallel_tasks": workers}, "tasks": tasks}
    start = time.perf_counter()
    result = run_spec(spec, codebase=home)
    elapsed = time.perf_counter() - start
    if not result.ok or len(result.tasks) != len(tasks):
        sys.exit(f"conductor run failed: {result.summary_line()}")
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tasks", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=4)
    parser.add_argument("--workers", type=int, default=8)
    parser.add_argument("--settle", type=float, default=8.0, help="seconds between runs")
    args = parser.parse_args()
    tasks = make_dag(args.tasks)
    scratch = Path(tempfile.mkdtemp(prefix="conductor-bench-"))
    print("warming up (starts Prefect's temporary server unless PREFECT_API_URL is set)...")
    handwritten(tasks[:2], args.workers)
    hand, cond = [], []
    for r in range(args.rounds):
        order = ("hand", "cond") if r % 2 == 0 else ("cond", "hand")
        for side in order:
            time.sleep(args.settle)
            if side == "hand":
                hand.append(handwritten(tasks, args.workers))
            else:
                cond.append(conductor(tasks, args.workers, scratch / f"round{r}"))
        print(f"round {r + 1}: hand-written {hand[-1]:.2f}s  conductor {cond[-1]:.2f}s")
    time.sleep(args.settle)
    resumed = conductor(tasks, args.workers, scratch / f"round{args.rounds - 1}")
    h, c = statistics.median(hand), statistics.median(cond)
    print(f"\n{args.tasks} no-op tasks, {args.workers} workers, median of {args.rounds} rounds")
    print(f"hand-written Prefect flow : {h:.2f}s")
    print(f"conductor run_spec        : {c:.2f}s")
    print(f"ratio conductor/hand      : {c / h:.2f}  (target <= 1.25)")
    print(f"conductor re-run, all reused: {resumed:.2f}s  ({resumed / c:.2f} of a cold run)")


if __name__ == "__main__":
    main()
