"""Benchmark: how fast the CLI answers, against the bare interpreter in the same process.

One command: ``python benchmarks/startup.py [--runs 9]``. Each probe is a fresh process (what a
user waits for); medians of ``--runs``. Targets: ``conductor --help`` <= 0.3 s; ``import
ai_conductor`` loads no store, SQLAlchemy or Prefect (tests/test_version_and_import.py checks
that; this prints what it costs).
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

BIN = Path(sys.executable).parent
PROBES = {
    "python -c pass (baseline)": [sys.executable, "-c", "pass"],
    "import ai_conductor": [sys.executable, "-c", "import ai_conductor"],
    "import ai_conductor.cli": [sys.executable, "-c", "import ai_conductor.cli"],
    "conductor --version": [str(BIN / "conductor"), "--version"],
    "conductor --help": [str(BIN / "conductor"), "--help"],
}


def wall(argv: list[str], cpu: list[float] | None = None) -> float:
    """Wall seconds of one run; its CPU seconds (user + system) appended to ``cpu``: on a busy
    machine wall time grows with the load, CPU time much less."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    subprocess.run(argv, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    took = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if cpu is not None:
        cpu.append(after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime)
    return took


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=9)
    args = parser.parse_args()
    for argv in PROBES.values():  # warm the file cache and the bytecode
        wall(argv)
    samples: dict[str, list[float]] = {name: [] for name in PROBES}
    cpu: dict[str, list[float]] = {name: [] for name in PROBES}
    for _ in range(args.runs):  # interleaved, so load on the machine hits every probe alike
        for name, argv in PROBES.items():
            samples[name].append(wall(argv, cpu[name]))
    base = statistics.median(samples["python -c pass (baseline)"])
    load = os.getloadavg()[0]
    print(
        f"median of {args.runs} runs each, seconds (load average {load:.1f} on "
        f"{os.cpu_count()} CPUs); ratio of wall time to the bare interpreter's"
    )
    print(f"{'':28} {'wall':>6}  {'ratio':>6}   {'min':>6}  {'cpu':>6}")
    for name, times in samples.items():
        med = statistics.median(times)
        print(
            f"{name:28} {med:6.3f}  x{med / base:5.1f}   {min(times):6.3f}  "
            f"{statistics.median(cpu[name]):6.3f}"
        )
    help_median = statistics.median(samples["conductor --help"])
    print(f"conductor --help target <= 0.300 s: {'met' if help_median <= 0.3 else 'MISSED'}")


if __name__ == "__main__":
    main()
