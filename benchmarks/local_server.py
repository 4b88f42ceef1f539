"""Benchmark: wall time of `conductor run` on a 2-task spec without PREFECT_API_URL, with
Prefect's temporary server per process (the baseline) and with the shared local server.

One command: ``python benchmarks/local_server.py [--runs 5]``. Fresh private CONDUCTOR_HOME and
PREFECT_HOME; every run is a new `conductor run --json` process, as a user types it. The shared
server's first run (which starts it) is reported apart; later runs' median is the figure the
target applies to (<= 3 s). The shared server is stopped at the end.
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

BIN = Path(sys.executable).parent
SPEC = (
    "workflow_id: bench-two\ntasks:\n  - {id: a, agent: noop, inputs: {x: 1}}\n"
    "  - {id: b, agent: noop, dependencies: [a]}\n"
)


CPU: list[float] = []
"""CPU seconds (user + system) of each timed `conductor run` process, in order."""


def timed_run(argv: list[str], env: dict[str, str]) -> float:
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    done = subprocess.run(argv, env=env, capture_output=True, text=True)
    took = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    CPU.append(after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime)
    if done.returncode != 0:
        raise SystemExit(f"conductor run failed ({done.returncode}): {done.stderr[-2000:]}")
    return took


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    root = Path(tempfile.mkdtemp(prefix="conductor-bench-server-"))
    (root / "spec.yaml").write_text(SPEC)
    (root / "code").mkdir()
    (root / "code" / "m.py").write_text("x = 1\n")
    base = {k: v for k, v in os.environ.items() if not k.startswith(("CONDUCTOR_", "PREFECT_"))}
    base |= {"CONDUCTOR_HOME": str(root / "home"), "PREFECT_HOME": str(root / "prefect"),
             "PREFECT_SERVER_ANALYTICS_ENABLED": "false", "DO_NOT_TRACK": "1"}  # fmt: skip
    argv = [str(BIN / "conductor"), "run", "--config", str(root / "spec.yaml"),
            "--codebase", str(root / "code"), "--json"]  # fmt: skip
    temporary = {**base, "CONDUCTOR_PREFECT_SERVER": "temporary"}
    shared = {**base, "CONDUCTOR_PREFECT_SERVER": "shared"}
    try:
        temp = [timed_run(argv, temporary) for _ in range(args.runs)]
        first = timed_run(argv, shared)
        later = [timed_run(argv, shared) for _ in range(args.runs)]
    finally:
        subprocess.run([str(BIN / "conductor"), "server", "stop"], env=shared, check=False)
    t, s = statistics.median(temp), statistics.median(later)
    later_cpu = statistics.median(CPU[-args.runs :])
    print(
        f"2-task spec, `conductor run`, median of {args.runs} runs each (seconds; load "
        f"average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs)"
    )
    print(f"temporary server per run (baseline) : {t:6.2f}   runs {[round(x, 2) for x in temp]}")
    print(f"shared server, first run (starts it): {first:6.2f}")
    print(f"shared server, later runs           : {s:6.2f}   runs {[round(x, 2) for x in later]}")
    print(f"  their CPU time (the run's process)  : {later_cpu:6.2f}")
    print(f"ratio shared/temporary              : {s / t:6.2f}")
    print(f"target later run <= 3 s             : {'met' if s <= 3.0 else 'MISSED'}")


if __name__ == "__main__":
    main()
