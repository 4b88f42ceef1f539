"""A project test command that hangs (and spawns a child that hangs too): the gate kills the
whole process group at the time limit and the change is discarded with that reason."""

from __future__ import annotations

import contextlib
import os
import signal
import sys
import time
from pathlib import Path

import pytest

from ai_conductor.analysis import analyze
from ai_conductor.implement import ImplementOptions, implement
from tests._proc import alive
from tests.faults.conftest import f401_repo, git, record_figures

pytestmark = [pytest.mark.slow, pytest.mark.usefixtures("conductor_home")]

HANG = """
import os, subprocess, sys, time
pids = sys.argv[1]
child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)"])
with open(pids, "a") as out:
    out.write(f"{os.getpid()} {child.pid}\\n")
time.sleep(600)
"""
LIMIT = 2.0


def test_a_hanging_test_command_is_killed_at_its_limit(tmp_path: Path) -> None:
    repo = f401_repo(tmp_path / "repo", modules=1)
    pids = tmp_path / "pids"
    options = ImplementOptions(
        backend="builtin", attempts=1, test_timeout=LIMIT,
        test_command=[sys.executable, "-c", HANG, str(pids)],
    )  # fmt: skip
    started = time.monotonic()
    report = implement(analyze(repo), repo, options)
    took = time.monotonic() - started
    (change,) = report.changes
    assert change.status.value == "discarded"
    reason = change.attempts[-1].reason
    assert f"tests timed out after {LIMIT:g}s" in reason, reason
    assert "process group killed" in reason
    spawned = [int(p) for p in pids.read_text().split()]
    assert len(spawned) == 2  # the test command and its child
    deadline = time.monotonic() + 5
    while any(alive(p) for p in spawned) and time.monotonic() < deadline:
        time.sleep(0.05)
    survivors = [p for p in spawned if alive(p)]
    for pid in survivors:  # never leave them behind, even when the test fails
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
    assert not survivors, f"still running after the limit: {survivors}"
    assert took < LIMIT + 30, f"the run took {took:.1f}s for a {LIMIT}s test limit"
    assert git(repo, "status", "--porcelain") == ""  # nothing half-applied
    assert change.branch is None
    record_figures("hanging_test_command", limit_s=LIMIT, run_s=round(took, 2),
                   processes_killed=len(spawned), survivors=0)  # fmt: skip
