"""Benchmark: 50 concurrent workflow runs, on the embedded defaults (SQLite) and on PostgreSQL.

One command: ``python benchmarks/concurrent_runs.py [--runs 50] [--skip-pg]
[--prefect-db postgresql]``.
Starts one ``prefect server start`` on loopback (its own PREFECT_HOME) and points
PREFECT_API_URL at it for everything. For each audit database (SQLite under a fresh
CONDUCTOR_HOME; a fresh PostgreSQL database on CONDUCTOR_TEST_PG_URL, default
``postgresql+psycopg2://postgres@127.0.0.1:5432/test``) it runs the same small spec (a noop, a
command, a noop joining them) ``--runs`` times sequentially (the baseline), then ``--runs``
times at once, and prints completed/failed, wall time, the ratio, and the audit rows of every
run: each run must have the same complete set of rows (started and finished per task, the
run's own events), none lost, none duplicated.

Concurrency model: ``--runs`` threads in this process, each calling ``run_spec`` - what
``conductor serve --http`` and the MCP server do with concurrent ``POST /runs`` (one
RunManager, one process, one audit writer per database, one Prefect client). Fifty
``conductor run`` processes would mostly measure fifty Python start-ups on a 2-core machine;
``--procs N`` adds that case too, N ``conductor run --json`` subprocesses at once (separate
processes sharing the audit database and the Prefect server).
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from http_load import free_port

os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
os.environ.setdefault("DO_NOT_TRACK", "1")
os.environ.setdefault("PREFECT_LOGGING_LEVEL", "WARNING")
BIN = Path(sys.executable).parent
SPEC: dict[str, Any] = {
    "workflow_id": "concurrent",
    "settings": {"max_parallel_tasks": 2},
    "tasks": [
        {"id": "start", "agent": "noop", "inputs": {"n": 1}},
        {"id": "cmd", "agent": "command", "dependencies": ["start"],
         "inputs": {"command": [sys.executable, "-c", "print('ok')"]}},
        {"id": "join", "agent": "noop", "dependencies": ["start", "cmd"]},
    ],
}  # fmt: skip


def start_prefect(home: Path, db_url: str | None) -> tuple[subprocess.Popen[bytes], str]:
    """``prefect server start`` on loopback; its database is SQLite, or ``db_url``."""
    port = free_port()
    env = {**os.environ, "PREFECT_HOME": str(home), "PREFECT_API_URL": ""}
    if db_url:
        from sqlalchemy import make_url

        async_url = make_url(db_url).set(drivername="postgresql+asyncpg")
        env["PREFECT_API_DATABASE_CONNECTION_URL"] = async_url.render_as_string(False)
    argv = [str(BIN / "prefect"), "server", "start", "--host", "127.0.0.1", "--port", str(port)]
    proc = subprocess.Popen(argv, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}/api"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"prefect server exited with {proc.returncode}")
        try:
            with urllib.request.urlopen(f"{url}/health", timeout=2) as reply:
                if reply.status == 200:
                    return proc, url
        except OSError:
            time.sleep(0.5)
    proc.terminate()
    raise SystemExit("prefect server did not start")


def use_database(home: Path, url: str | None) -> None:
    from ai_conductor.settings import reload_settings
    from ai_conductor.store import close_all

    close_all()
    os.environ["CONDUCTOR_HOME"] = str(home)
    if url:
        os.environ["CONDUCTOR_DATABASE_URL"] = url
    else:
        os.environ.pop("CONDUCTOR_DATABASE_URL", None)
    reload_settings()


def one_run(codebase: Path) -> tuple[str, bool, str]:
    from ai_conductor import run_spec

    try:
        result = run_spec(SPEC, codebase=codebase, fresh=True)
    except Exception as exc:  # counted and shown: a run must never raise
        return "", False, f"{type(exc).__name__}: {exc}"
    return result.run_id, result.ok, "" if result.ok else result.summary_line()


def batch(n: int, codebase: Path, concurrent: bool) -> tuple[float, list[tuple[str, bool, str]]]:
    start = time.perf_counter()
    if concurrent:
        with ThreadPoolExecutor(max_workers=n) as pool:
            out = list(pool.map(lambda _: one_run(codebase), range(n)))
    else:
        out = [one_run(codebase) for _ in range(n)]
    return time.perf_counter() - start, out


def proc_batch(
    n: int, codebase: Path, spec: Path, env: dict[str, str]
) -> tuple[float, list[tuple[str, bool, str]]]:
    argv = [str(BIN / "conductor"), "run", "-c", str(spec), "--codebase", str(codebase),
            "--json", "--fresh"]  # fmt: skip
    start = time.perf_counter()
    procs = [subprocess.Popen(argv, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
             for _ in range(n)]  # fmt: skip
    out = []
    for p in procs:
        stdout, stderr = p.communicate(timeout=900)
        try:
            result = json.loads(stdout)
            out.append((result["run_id"], p.returncode == 0, "" if p.returncode == 0
                        else stderr.decode()[-300:]))  # fmt: skip
        except (ValueError, KeyError):
            out.append(("", False, f"exit {p.returncode}: {stderr.decode()[-300:]}"))
    return time.perf_counter() - start, out


def audit_profiles(run_ids: list[str]) -> dict[str, Counter[tuple[str, str, str]]]:
    """Per run: how many audit rows of each (task, action, status) the database holds."""
    from sqlalchemy import select

    from ai_conductor.settings import get_settings
    from ai_conductor.store import close_all, coordination_logs, open_audit_log

    close_all()  # flushes the queued events
    log = open_audit_log(get_settings())
    c = coordination_logs.c
    query = select(c.run_id, c.task_id, c.action, c.status).where(c.run_id.in_(run_ids))
    profiles: dict[str, Counter[tuple[str, str, str]]] = {r: Counter() for r in run_ids}
    with log.engine().connect() as conn:
        for run_id, task, action, status in conn.execute(query):
            profiles[run_id][(task or "-", action, status)] += 1
    close_all()
    return profiles


def check(label: str, elapsed: float, out: list[tuple[str, bool, str]]) -> dict[str, Any]:
    ids = [r for r, _, _ in out if r]
    profiles = audit_profiles(ids)
    shapes = Counter(frozenset(p.items()) for p in profiles.values())
    reference = max(shapes, key=lambda s: shapes[s]) if shapes else frozenset()
    tasks = {t["id"] for t in SPEC["tasks"]}
    per_task = {t: {a for (tt, a, _), _n in reference if tt == t} for t in tasks}
    complete = all(len(acts) >= 2 for acts in per_task.values()) and all(
        n == 1 for (tt, _, _), n in reference if tt in tasks
    )
    errors = [e for _, ok, e in out if not ok]
    return {
        "label": label, "runs": len(out), "completed": sum(ok for _, ok, _ in out),
        "failed": len(errors), "wall_s": elapsed, "rows_per_run": sum(n for _, n in reference),
        "runs_with_reference_rows": shapes.get(reference, 0), "complete": complete,
        "distinct_shapes": len(shapes), "reference": sorted(reference), "errors": errors[:5],
    }  # fmt: skip


def pg_database() -> tuple[str, str, Any]:
    from sqlalchemy import create_engine, make_url, text
    from sqlalchemy.pool import NullPool

    server = os.environ.get(
        "CONDUCTOR_TEST_PG_URL", "postgresql+psycopg2://postgres@127.0.0.1:5432/test"
    )
    admin = create_engine(server, isolation_level="AUTOCOMMIT", poolclass=NullPool)
    name = f"conductor_bench_{secrets.token_hex(5)}"
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = make_url(server).set(database=name).render_as_string(hide_password=False)
    return name, url, admin


def drop_database(name: str, admin: Any) -> None:
    from sqlalchemy import text

    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=50)
    parser.add_argument("--procs", type=int, default=0, help="also N concurrent subprocesses")
    parser.add_argument("--skip-pg", action="store_true")
    parser.add_argument(
        "--prefect-db", choices=("sqlite", "postgresql"), default="sqlite",
        help="the Prefect server's own database (PostgreSQL is what Prefect advises for load)",
    )  # fmt: skip
    args = parser.parse_args()
    scratch = Path(tempfile.mkdtemp(prefix="conductor-concurrent-"))
    prefect_db = pg_database() if args.prefect_db == "postgresql" else None
    prefect, api = start_prefect(scratch / "prefect", prefect_db[1] if prefect_db else None)
    os.environ["PREFECT_API_URL"] = api
    os.environ["PREFECT_HOME"] = str(scratch / "prefect-client")
    codebase = scratch / "codebase"
    codebase.mkdir()
    (codebase / "main.py").write_text("print('hello')\n")
    spec_file = scratch / "spec.json"
    spec_file.write_text(json.dumps(SPEC))
    results: list[dict[str, Any]] = []
    dbs: list[tuple[str, str | None]] = [("sqlite", None)]
    admin = pg_name = None
    try:
        if not args.skip_pg:
            pg_name, pg_url, admin = pg_database()
            dbs.append(("postgresql", pg_url))
        print(f"Prefect server {api}; warming up...", flush=True)
        use_database(scratch / "warm", None)
        one_run(codebase)
        for name, url in dbs:
            use_database(scratch / name, url)
            for concurrent in (False, True):
                label = f"{name} {'concurrent' if concurrent else 'sequential'}"
                elapsed, out = batch(args.runs, codebase, concurrent)
                results.append(check(label, elapsed, out))
                print(f"{label}: {elapsed:.1f}s", flush=True)
            if args.procs:
                env = {k: v for k, v in os.environ.items() if not k.startswith("CONDUCTOR_")}
                env["CONDUCTOR_HOME"] = str(scratch / name)
                if url:
                    env["CONDUCTOR_DATABASE_URL"] = url
                elapsed, out = proc_batch(args.procs, codebase, spec_file, env)
                results.append(check(f"{name} {args.procs} subprocesses", elapsed, out))
    finally:
        from ai_conductor.store import close_all

        close_all()
        if admin is not None and pg_name:
            drop_database(pg_name, admin)
        prefect.terminate()
        prefect.wait(timeout=30)
        if prefect_db:
            drop_database(prefect_db[0], prefect_db[2])
        shutil.rmtree(scratch, ignore_errors=True)
    return report(results, args.runs, args.prefect_db)


def report(results: list[dict[str, Any]], runs: int, prefect_db: str) -> int:
    """Print the figures; 1 when a run failed or an audit trail is incomplete."""
    print(f"\n{runs} runs of a 3-task spec (noop, command, noop), one Prefect server "
          f"(its database: {prefect_db})")  # fmt: skip
    bad = 0
    for r in results:
        print(f"{r['label']:<34} completed {r['completed']:>3}/{r['runs']:<3}"
              f" failed {r['failed']:>2}"
              f"  wall {r['wall_s']:6.1f}s  audit rows/run {r['rows_per_run']}"
              f"  runs with exactly those rows {r['runs_with_reference_rows']}/{r['runs']}"
              f"  complete {r['complete']}")  # fmt: skip
        for e in r["errors"]:
            print(f"    error: {e}")
        bad += r["failed"] + (r["runs"] - r["runs_with_reference_rows"]) + (not r["complete"])
    for i in range(0, len(results) - 1, 2):
        seq, conc = results[i], results[i + 1]
        if "sequential" in seq["label"] and "concurrent" in conc["label"]:
            print(f"ratio concurrent/sequential wall ({seq['label'].split()[0]}): "
                  f"{conc['wall_s'] / seq['wall_s']:.2f}")  # fmt: skip
    if results:
        print("audit rows of one run (task, action, status) x count:", results[0]["reference"])
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
