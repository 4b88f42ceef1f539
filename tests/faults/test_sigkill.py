"""SIGKILL a real `conductor run` at seeded-random points of a multi-task run, again and again,
then let it finish: no finished task re-executed, no audit event duplicated, none of the
durable ones lost, no half-applied change in the user's checkout, and no worktree or
unfinished branch of a killed implementer left behind (the next implementer run reclaims them).

What "no event lost" means for a SIGKILLed process: events go to a queue that a writer thread
commits every ``audit_flush_interval`` (0.2 s); an event still queued when the process is
killed dies with it (it is neither written nor spooled: no write-ahead log for the queue).
Guaranteed and asserted: every event of the run that completed is stored, once; for each
killed run, every task whose side effect happened more than ``GRACE`` seconds before the kill
has its ``started`` event; no event_id is stored twice and no (run, task, action) twice.
"""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from tests.conftest import BIN, cli_env
from tests.faults.conftest import f401_repo, git, record_figures

pytestmark = pytest.mark.slow
PY = sys.executable
SEED = 20261124
KILLS = 6
GRACE = 1.0  # > flush interval (0.2 s) + a busy machine's scheduling slack
MARK = ("import sys, time; open(sys.argv[1], 'a').write(f'{sys.argv[2]} {time.time()}\\n'); "
        "time.sleep(float(sys.argv[3]))")  # fmt: skip


def spec(marker: Path) -> dict[str, object]:
    def cmd(label: str, deps: list[str], sleep: float = 2.5) -> dict[str, object]:
        argv = [PY, "-c", MARK, str(marker), label, str(sleep)]
        return {"id": label, "agent": "command", "dependencies": deps, "inputs": {"command": argv}}

    return {
        "workflow_id": "killme",
        "settings": {"max_parallel_tasks": 2},
        "tasks": [
            cmd("a", []), cmd("b", []), cmd("c", ["a"]), cmd("d", ["a", "b"]),
            {"id": "scan", "agent": "analyzer", "dependencies": ["c"]},
            {"id": "fix", "agent": "implementer", "dependencies": ["scan"],
             "inputs": {"test_command": [], "concurrency": 1}},
            cmd("e", ["d"], 3.0), cmd("f", ["e", "fix"]),
            {"id": "done", "agent": "noop", "dependencies": ["f"]},
        ],
    }  # fmt: skip


def when_utc(value: object) -> float:
    """A stored created_at as a POSIX timestamp (SQLite gives naive UTC text)."""
    moment = value if isinstance(value, datetime) else datetime.fromisoformat(str(value))
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.timestamp()


def rows(db: Path) -> list[dict[str, object]]:
    engine = create_engine(f"sqlite:///{db}")
    try:
        with engine.connect() as conn:
            got = conn.execute(text(
                "SELECT event_id, run_id, task_id, action, created_at FROM coordination_logs "
                "WHERE workflow_id = 'killme'"))  # fmt: skip
            return [dict(r._mapping) for r in got]
    finally:
        engine.dispose()


def test_sigkill_at_random_points_then_rerun(prefect_api: str, tmp_path: Path) -> None:
    repo = f401_repo(tmp_path / "repo", modules=3)
    home, marker = tmp_path / "home", tmp_path / "marker"
    spec_file = tmp_path / "spec.json"
    spec_file.write_text(json.dumps(spec(marker)))
    argv = [str(BIN / "conductor"), "run", "--config", str(spec_file), "--codebase", str(repo),
            "--json"]  # fmt: skip
    env = cli_env(prefect_api, home)
    rng = random.Random(SEED)
    windows: list[tuple[float, float]] = []  # (start, kill) of each killed run
    kills = 0
    for _ in range(KILLS):
        delay = rng.uniform(1.5, 5.5)
        started = time.time()
        proc = subprocess.Popen(argv, env=env, stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL, start_new_session=True)  # fmt: skip
        try:
            proc.wait(timeout=delay)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)  # the conductor and its agents' processes
            proc.wait(timeout=30)
            windows.append((started, time.time()))
            kills += 1
            assert git(repo, "status", "--porcelain") == "", "a half-applied change"
        else:
            break  # finished before its kill point: nothing left to kill
    assert kills >= 3, f"only {kills} kill points fell inside a run"
    final = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=240)
    assert final.returncode == 0, final.stderr[-3000:]
    result = json.loads(final.stdout)
    statuses = {k: v["status"] for k, v in result["tasks"].items()}
    assert set(statuses.values()) <= {"completed", "reused"}, statuses

    events = rows(home / "conductor.db")
    ids = Counter(str(e["event_id"]) for e in events)
    duplicates = sum(n - 1 for n in ids.values())
    per_change = {"attempt", "apply"}  # one per change of the implementer: many per task
    triples = Counter((e["run_id"], e["task_id"], e["action"]) for e in events
                      if e["action"] not in per_change)  # fmt: skip
    assert duplicates == 0
    assert [t for t, n in triples.items() if n > 1] == []

    runs = {str(e["run_id"]) for e in events}
    killed_runs = runs - {result["run_id"]}
    by_run = {r: {(e["task_id"], e["action"]) for e in events if e["run_id"] == r} for r in runs}
    # the completed run: every task started+succeeded or reused, and the run finished
    mine = by_run[result["run_id"]]
    for task, status in statuses.items():
        want = (task, "reused") if status == "reused" else (task, "succeeded")
        assert want in mine, (task, status)
    assert (None, "finished") in mine
    # side effects: each once per execution; a task never runs again once it succeeded
    lines = [line.split() for line in marker.read_text().splitlines()]
    runs_of = Counter(label for label, _ in lines)
    succeeded_in_killed = {t for r in killed_runs for t, a in by_run[r] if a == "succeeded"}
    executions_after: dict[str, int] = {}
    lost = 0
    for label, when in lines:
        t = float(when)
        owner = next((w for w in windows if w[0] <= t <= w[1]), None)
        if owner is None:
            continue  # the final run
        run = next((r for r in killed_runs if (label, "started") in by_run[r]), None)
        if t < owner[1] - GRACE and run is None:
            lost += 1  # a task that ran well before the kill but has no 'started' event
    for e in events:  # succeeded (its result persisted) in a killed run: never runs again
        if e["run_id"] in killed_runs and e["action"] == "succeeded":
            done_at = when_utc(e["created_at"])
            again = [t for lab, t in lines if lab == e["task_id"] and float(t) > done_at]
            executions_after[str(e["task_id"])] = len(again)
    assert lost == 0
    assert {k: v for k, v in executions_after.items() if v > 0} == {}, "re-executed"
    assert all(statuses[t] == "reused" for t in succeeded_in_killed if t in statuses)
    # the checkout is untouched; worktrees live under $CONDUCTOR_HOME only
    assert git(repo, "status", "--porcelain") == ""
    trees = [line for line in git(repo, "worktree", "list", "--porcelain").splitlines()
             if line.startswith("worktree ")]  # fmt: skip
    stale = [t for t in trees if Path(t.split(" ", 1)[1]) != repo]
    assert stale == [], "a killed run's worktrees outlived the next implementer run"
    leftover = list((home / "worktrees").glob("*/*")) if (home / "worktrees").exists() else []
    assert leftover == [], leftover
    for branch in git(repo, "branch", "--list", "conductor/*", "--format=%(refname)").split():
        subject = git(repo, "log", "-1", "--format=%s", branch)
        assert subject.startswith("conductor:"), f"{branch}: a branch without a kept change"
    record_figures("sigkill", seed=SEED, kills_injected=kills, runs_recovered=1,
                   runs_total=kills + 1, events=len(events), events_lost=lost,
                   duplicates=duplicates, reexecuted=0, executions=dict(runs_of),
                   final_statuses=statuses, stale_worktrees=len(stale))  # fmt: skip
