"""Benchmark: top-10 search in the embedded context store (SQLite FTS5 + BM25) at 100k records.

One command: ``.venv/bin/python benchmarks/storage/search.py [--records N] [--queries N]``.

Builds a store in a temp dir with N records (default 100,000) generated from findings-like
templates by a seeded RNG (rules, paths, functions, messages, change outcomes and reasons),
then times ``search(query, k=10)`` for 200 queries drawn from the same vocabulary, a quarter of
them with a ``workflow_id`` filter. The baseline answers the same question over the same rows
without an index: the store's own no-FTS5 fallback, a scan scoring each record by the query
words it contains (``instr``), best first. Prints load time, median and p95 latency of both,
and the ratios. Target: p95 < 50 ms.
"""

from __future__ import annotations

import argparse
import random
import sqlite3
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from ai_conductor.context import ContextRecord
from ai_conductor.context.embedded import EmbeddedStore

RULES = [
    ("S608", "possible SQL injection vector through string-based query construction"),
    ("S602", "subprocess call with shell=True identified, security issue"),
    ("S105", "possible hardcoded password assigned to variable"),
    ("S301", "pickle and modules that wrap it can be unsafe when deserializing untrusted data"),
    ("C901", "function is too complex (cyclomatic complexity above threshold)"),
    ("F401", "imported but unused"),
    ("B006", "do not use mutable data structures for argument defaults"),
    ("E501", "line too long"),
    ("PERF401", "use a list comprehension to create a transformed list"),
    ("S324", "probable use of insecure hash functions in hashlib: md5"),
    ("B904", "within an except clause, raise exceptions with raise from err"),
    ("SIM102", "use a single if statement instead of nested if statements"),
]
DIRS = ["app", "api", "core", "services", "db", "auth", "billing", "utils", "workers", "cli"]
FILES = ["models", "views", "handlers", "queries", "session", "tasks", "config", "client"]
FUNCS = ["load_user", "build_query", "render_invoice", "sync_accounts", "parse_token",
         "export_report", "retry_job", "hash_password", "open_session", "upload_file"]  # fmt: skip
REASONS = ["tests failed: test_login", "finding still present after the change",
           "new finding S608 introduced", "patch did not apply cleanly", "timeout after 600 s",
           "finding gone, tests pass", "budget of 20000 tokens spent"]  # fmt: skip
KINDS = ["finding", "finding", "finding", "change_kept", "change_rejected", "analysis_summary"]


def make_record(rng: random.Random, i: int, t0: datetime) -> ContextRecord:
    rule, message = rng.choice(RULES)
    path = f"{rng.choice(DIRS)}/{rng.choice(FILES)}.py"
    func, line = rng.choice(FUNCS), rng.randint(1, 2000)
    kind = rng.choice(KINDS)
    if kind == "finding":
        text = f"{rule} at {path}:{line} in {func}: {message}"
    elif kind == "change_kept":
        text = f"implementer change {rule} kept; files: {path}; fixes {func}: {message}. " \
            f"Reason: {rng.choice(REASONS[-2:])}"  # fmt: skip
    elif kind == "change_rejected":
        text = f"implementer change {rule} rejected (discarded); files: {path}. " \
            f"Reason: {rng.choice(REASONS[:5])}"  # fmt: skip
    else:
        text = f"analysis run {i} of {rng.choice(DIRS)}: {rng.randint(0, 300)} findings " \
            f"(new {rng.randint(0, 20)}); high {rng.randint(0, 9)}; tools: ruff"  # fmt: skip
    return ContextRecord(
        workflow_id=f"wf-{rng.randint(0, 49)}", task_id=rng.choice(["analyze", "fix", "tidy"]),
        context_type=kind, content=text, timestamp=t0 + timedelta(seconds=i),
        metadata={"rule": rule, "path": path, "n": i}, key=f"bench/{i}",
    )  # fmt: skip


def make_queries(rng: random.Random, n: int) -> list[tuple[str, str | None]]:
    words = [w for _, m in RULES for w in m.split() if len(w) > 3]
    out = []
    for _ in range(n):
        rule, message = rng.choice(RULES)
        shape = rng.random()
        if shape < 0.4:
            query = " ".join(rng.sample(message.split(), min(3, len(message.split()))))
        elif shape < 0.7:
            query = f"{rule} {rng.choice(FUNCS)}"
        else:
            query = f"{rng.choice(words)} {rng.choice(DIRS)} {rng.choice(REASONS).split(':')[0]}"
        out.append((query, f"wf-{rng.randint(0, 49)}" if rng.random() < 0.25 else None))
    return out


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p * (len(ordered) - 1)))]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=100_000)
    parser.add_argument("--queries", type=int, default=200)
    args = parser.parse_args()
    rng = random.Random(20250501)
    t0 = datetime(2025, 1, 1, tzinfo=UTC)
    with tempfile.TemporaryDirectory(prefix="context-bench-") as tmp:
        store = EmbeddedStore(Path(tmp) / "context.db")
        print(f"full text: {store.fulltext}, SQLite {sqlite3.sqlite_version}")
        start = time.perf_counter()
        for base in range(0, args.records, 5000):
            batch = [make_record(rng, i, t0) for i in range(base, min(base + 5000, args.records))]
            assert store.batch_store(batch).ok
        load = time.perf_counter() - start
        print(f"stored {store.count():,} records in {load:.1f} s "
              f"({store.count() / load:,.0f} records/s)")  # fmt: skip
        queries = make_queries(rng, args.queries)
        for query, wf in queries[:10]:  # warm the page cache for both
            store.search(query, k=10, filters={"workflow_id": wf} if wf else None)
        fts, empty = [], 0
        for query, wf in queries:
            s = time.perf_counter()
            hits = store.search(query, k=10, filters={"workflow_id": wf} if wf else None)
            fts.append((time.perf_counter() - s) * 1000)
            empty += not hits
        store.close()
        like = []
        with EmbeddedStore(Path(tmp) / "context.db", fts5=False) as scan:
            for query, wf in queries:
                s = time.perf_counter()
                scan.search(query, k=10, filters={"workflow_id": wf} if wf else None)
                like.append((time.perf_counter() - s) * 1000)
    fmed, fp95 = statistics.median(fts), pct(fts, 0.95)
    lmed, lp95 = statistics.median(like), pct(like, 0.95)
    print(f"{len(queries)} queries, top-10 ({empty} without hits)")
    print(f"FTS5 + BM25 search : median {fmed:7.2f} ms   p95 {fp95:7.2f} ms   (ranked)")
    print(f"scan baseline      : median {lmed:7.2f} ms   p95 {lp95:7.2f} ms   (word count)")
    print(f"ratio scan / FTS5  : median {lmed / fmed:.1f}x   p95 {lp95 / fp95:.1f}x")
    ok = fp95 < 50
    print(f"target p95 < 50 ms : {'met' if ok else 'MISSED'}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
