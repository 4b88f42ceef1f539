"""Benchmark: `conductor analyze` vs running the same analyzers directly, on the stdlib.

One command: ``python benchmarks/analyze.py``. The corpus is the running interpreter's ``Lib/``
``.py`` files without test, tests, idlelib, lib2to3 and site-packages, copied to a temp dir.
Times (a) the default tools (ruff, bandit, radon cc and radon mi, and the taint rules with
semgrep-core when the conductor runs taint) run one after another from the command line with
the conductor's rule selection; (b) `conductor analyze` cold (empty cache); (c) warm, nothing
changed; (d) one file changed. Prints each time, peak memory (RSS summed over the process tree,
sampled every 50 ms) and the ratios cold/direct = b/a (target <= 1.0: the engine costs nothing
over running the tools by hand), warm/cold = c/b (target <= 0.05) and d/b.

Taint in (a) is the conductor's own semgrep-core command line (``core_argv``: same binary,
flags, rule files and targets), one call per rule group over all the files of that group,
without the conductor's batching: the files' split into groups (``plan``) is computed before
the clock starts, so (a) does not pay for it while (b) does. Running every rule on every file
instead (``semgrep_rules()`` in one call) does far more work (the request-data rules on files
that cannot hold request data): that is not what the conductor runs, so it is not (a).

Direct ``radon mi`` is quadratic on large literal tables (``radon.raw`` re-tokenises a growing
buffer per line: ``pydoc_data/topics.py`` does not finish in minutes), so in (a) it skips files
over 40 KB; the conductor computes MI for every file in linear time. (a) thus does less work
than (b), which only makes b/a conservative.
"""

from __future__ import annotations

import contextlib
import os
import resource
import shutil
import subprocess
import sys
import sysconfig
import tempfile
import threading
import time
from pathlib import Path

BIN = Path(sys.executable).parent
EXCLUDED = {"test", "tests", "idlelib", "lib2to3", "site-packages"}
MI_DIRECT_LIMIT = 40_000


def corpus(dest: Path) -> int:
    lib = Path(sysconfig.get_paths()["stdlib"])
    n = 0
    for src in lib.rglob("*.py"):
        rel = src.relative_to(lib)
        if EXCLUDED & set(rel.parts) or not src.is_file():
            continue
        target = dest / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(src, target)
        n += 1
    return n


def _tree_rss(pid: int) -> int:
    """Resident memory of a process and all its descendants, in bytes (Linux /proc)."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            children.setdefault(ppid, []).append(int(entry.name))
    total, stack = 0, [pid]
    page = os.sysconf("SC_PAGE_SIZE")
    while stack:
        p = stack.pop()
        with contextlib.suppress(OSError, IndexError, ValueError):
            total += int(Path(f"/proc/{p}/statm").read_text().split()[1]) * page
        stack.extend(children.get(p, []))
    return total


def timed(
    argv: list[str], env: dict[str, str], cwd: Path | None = None
) -> tuple[float, int, float]:
    """Wall time, peak tree RSS and CPU time (user + system, the whole process tree) of one
    command (stdout discarded). CPU time is what a busy machine does not inflate."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    proc = subprocess.Popen(
        argv, env=env, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    peak = 0
    done = threading.Event()

    def sample() -> None:
        nonlocal peak
        while not done.is_set():
            peak = max(peak, _tree_rss(proc.pid))
            time.sleep(0.05)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    _, err = proc.communicate()
    elapsed = time.perf_counter() - start
    done.set()
    sampler.join()
    if proc.returncode not in (0, 1):
        sys.exit(f"{argv[0]} failed ({proc.returncode}): {err.decode()[-800:]}")
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return elapsed, peak, cpu


def _taint_direct(code: Path, work: Path) -> list[list[str]]:
    """The conductor's semgrep-core calls for the taint tool, one per rule group over all its
    files (rule and targets files written before timing); none when taint is not a default
    tool or semgrep is not installed (the conductor then skips taint too)."""
    from ai_conductor.analysis.taint import semgrep_rules
    from ai_conductor.analysis.tools import DEFAULT_TOOLS
    from ai_conductor.analysis.tools.taint import core_argv, plan, semgrep_core, targets_file

    binary = semgrep_core()
    if "taint" not in DEFAULT_TOOLS or binary is None:
        print("  taint: not a default tool or semgrep not installed; neither (a) nor (b) runs it")
        return []
    files = sorted(p.relative_to(code).as_posix() for p in code.rglob("*.py"))
    groups = plan(code, files)
    print("  taint rule groups: " + ", ".join(f"{g} {len(f)} files" for g, f in groups.items()))
    calls = []
    for number, (group, targets) in enumerate(sorted(groups.items())):
        rules, listed = work / f"taint-rules-{number}.json", work / f"taint-targets-{number}.json"
        rules.write_text(semgrep_rules(group), encoding="utf-8")
        listed.write_text(targets_file(targets), encoding="utf-8")
        calls.append(core_argv(binary, rules, listed))
    return calls


def main() -> None:
    from ai_conductor.analysis.tools.ruff import RULES

    work = Path(tempfile.mkdtemp(prefix="conductor-bench-analyze-"))
    code = work / "stdlib"
    files = corpus(code)
    lines = sum(len(p.read_bytes().splitlines()) for p in code.rglob("*.py"))
    env = {**os.environ, "CONDUCTOR_HOME": str(work / "home")}
    print(f"corpus: {files} files, {lines} lines ({code})")
    big = [p for p in code.rglob("*.py") if p.stat().st_size > MI_DIRECT_LIMIT]
    mi_excludes = ["-e", ",".join(str(p) for p in big)] if big else []
    print(f"direct radon mi skips {len(big)} files over {MI_DIRECT_LIMIT // 1000} KB")
    direct = [
        [str(BIN / "ruff"), "check", "--isolated", "--no-cache", "--exit-zero",
         "--output-format", "json", "--select", ",".join(RULES), str(code)],
        [str(BIN / "bandit"), "-q", "-f", "json", "-r", str(code)],
        [str(BIN / "radon"), "cc", "-j", "-s", str(code)],
        [str(BIN / "radon"), "mi", "-j", "-s", *mi_excludes, str(code)],
    ]  # fmt: skip
    taint = _taint_direct(code, work)
    a, a_mem, a_cpu = 0.0, 0, 0.0
    for argv in direct + taint:
        t, m, cpu = timed(argv, env, cwd=code)
        what = f"{argv[1]}" if argv not in taint else f"taint {Path(argv[2]).stem}"
        print(f"  direct {Path(argv[0]).name} {what}: {t:.2f}s (cpu {cpu:.2f}s)")
        a, a_mem, a_cpu = a + t, max(a_mem, m), a_cpu + cpu
    conductor = [str(BIN / "conductor"), "analyze", "--codebase", str(code),
                 "--output", str(work / "analysis.json")]  # fmt: skip
    b, b_mem, b_cpu = timed(conductor, env)
    c, c_mem, c_cpu = timed(conductor, env)
    changed = code / "json" / "encoder.py"
    changed.write_text(changed.read_text() + "\n\ndef _bench_added(x):\n    return eval(x)\n")
    d, d_mem, d_cpu = timed(conductor, env)
    mb = 1024 * 1024
    rows = [("(a) tools run directly, one after another", a, a_cpu, a_mem),
            ("(b) conductor analyze, cold cache        ", b, b_cpu, b_mem),
            ("(c) conductor analyze, warm, no change   ", c, c_cpu, c_mem),
            ("(d) conductor analyze, one file changed  ", d, d_cpu, d_mem)]  # fmt: skip
    for label, wall, cpu, mem in rows:
        print(f"{label}: {wall:6.2f}s  cpu {cpu:6.2f}s  peak {mem / mb:6.0f} MB")
    print(f"load average while it ran (1 min): {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs "
          "(a loaded machine inflates wall times; CPU times less so)")  # fmt: skip
    print(f"cpu cold/direct = {b_cpu / a_cpu:.2f}, cpu warm/cold = {c_cpu / b_cpu:.3f}")
    peak_ok = max(b_mem, c_mem, d_mem) < 1536 * mb
    print(f"cold/direct = b/a = {b / a:.2f} (target <= 1.0)   "
          f"warm/cold = c/b = {c / b:.3f} (target <= 0.05)   "
          f"d/b = {d / b:.2f} (<= 0.15)   peak < 1.5 GB: {peak_ok}")  # fmt: skip
    shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
