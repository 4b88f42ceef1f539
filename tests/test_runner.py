"""The workflow runner on the real Prefect engine (session test server) and real subprocesses."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import pytest

from ai_conductor import TaskStatus, run_spec
from ai_conductor.results import RunStatus
from ai_conductor.settings import get_settings
from ai_conductor.store import open_audit_log
from tests.agents import Gauge

pytestmark = pytest.mark.usefixtures("prefect_api", "conductor_home")
PY = sys.executable


def spec(tasks: list[dict[str, Any]], **extra: Any) -> dict[str, Any]:
    return {"workflow_id": extra.pop("workflow_id", "t"), "tasks": tasks, **extra}


def events(run_id: str) -> list[tuple[str | None, str, str]]:
    rows = open_audit_log(get_settings()).query(run_id=run_id, limit=1000)
    return [(r.task_id, r.action, r.status) for r in reversed(rows)]


def counter_cmd(counter: Path, label: str) -> list[str]:
    return [PY, "-c", f"open({str(counter)!r}, 'a').write({label + chr(10)!r})"]


def test_dependencies_receive_upstream_outputs(codebase: Path) -> None:
    result = run_spec(
        spec(
            [
                {"id": "a", "agent": "noop", "inputs": {"x": 1}},
                {"id": "b", "agent": "command", "inputs": {"command": [PY, "-c", "print(42)"]}},
                {"id": "c", "agent": "tests.agents:UpstreamEcho", "dependencies": ["a", "b"]},
            ]
        ),
        codebase=codebase,
    )
    assert result.ok, result.summary_line()
    assert result.results["a"] == {"x": 1}
    assert result.results["b"]["stdout"].strip() == "42"
    upstream = result.results["c"]["upstream"]
    assert upstream["a"] == {"x": 1}
    assert upstream["b"]["exit_code"] == 0


def test_failure_skips_dependents_and_independent_branches_finish(codebase: Path) -> None:
    fail = [PY, "-c", "import sys; sys.stderr.write('boom'); sys.exit(3)"]
    result = run_spec(
        spec(
            [
                {"id": "bad", "agent": "command", "inputs": {"command": fail}},
                {"id": "child", "agent": "noop", "dependencies": ["bad"]},
                {"id": "grandchild", "agent": "noop", "dependencies": ["child"]},
                {"id": "other", "agent": "noop"},
                {"id": "after-other", "agent": "noop", "dependencies": ["other"]},
            ]
        ),
        codebase=codebase,
    )
    assert result.status is RunStatus.FAILED
    status = {k: t.status for k, t in result.tasks.items()}
    assert status == {
        "bad": TaskStatus.FAILED,
        "child": TaskStatus.SKIPPED,
        "grandchild": TaskStatus.SKIPPED,
        "other": TaskStatus.COMPLETED,
        "after-other": TaskStatus.COMPLETED,
    }
    assert "exited with status 3: boom" in (result.tasks["bad"].error or "")
    log = events(result.run_id)
    assert ("child", "skipped", "skipped") in log
    assert ("bad", "failed", "failed") in log
    assert not any(t == "child" and a == "started" for t, a, _ in log)
    assert log[-1] == (None, "finished", "failed")


def test_retries_with_backoff_are_recorded(codebase: Path, tmp_path: Path) -> None:
    marker = tmp_path / "attempts"
    flaky = (
        "import pathlib, sys; p = pathlib.Path(sys.argv[1]); n = len(p.read_text()) "
        "if p.exists() else 0; p.write_text('x' * (n + 1)); sys.exit(0 if n >= 2 else 1)"
    )
    result = run_spec(
        spec(
            [
                {
                    "id": "flaky",
                    "agent": "retrying",
                    "inputs": {"command": [PY, "-c", flaky, str(marker)]},
                }
            ],
            agents={"retrying": {"role": "command", "retry_attempts": 3, "retry_delay": 0.1}},
        ),
        codebase=codebase,
    )
    assert result.ok
    assert result.tasks["flaky"].attempts == 3
    actions = [a for t, a, _ in events(result.run_id) if t == "flaky"]
    assert actions == [
        "started", "attempt_failed", "retried", "attempt_failed", "retried", "succeeded"
    ]  # fmt: skip


def test_non_retryable_errors_fail_clearly_without_retrying(codebase: Path) -> None:
    result = run_spec(
        spec(
            [{"id": "improve", "agent": "implementer"}],
            agents={"implementer": {"retry_attempts": 3, "retry_delay": 0}},
        ),
        codebase=codebase,
    )
    assert result.tasks["improve"].status is TaskStatus.FAILED
    assert "has no analysis" in (result.tasks["improve"].error or "")
    actions = [a for t, a, _ in events(result.run_id) if t == "improve"]
    assert actions == ["started", "failed"]


def test_task_timeout_kills_the_command(codebase: Path) -> None:
    result = run_spec(
        spec(
            [
                {
                    "id": "slow",
                    "agent": "command",
                    "timeout": 1,
                    "inputs": {"command": [PY, "-c", "import time; time.sleep(60)"]},
                },
            ]
        ),
        codebase=codebase,
    )
    assert result.tasks["slow"].status is TaskStatus.FAILED
    assert "timed out and was killed" in (result.tasks["slow"].error or "")


def test_workflow_timeout_stops_the_run(codebase: Path) -> None:
    sleep = {"command": [PY, "-c", "import time; time.sleep(60)"]}
    result = run_spec(
        spec(
            [
                {"id": "quick", "agent": "noop"},
                {"id": "long", "agent": "command", "inputs": sleep},
                {"id": "after", "agent": "noop", "dependencies": ["long"]},
            ],
            settings={"workflow_timeout": 2},
        ),
        codebase=codebase,
    )
    assert result.status is RunStatus.TIMED_OUT
    assert result.tasks["quick"].status is TaskStatus.COMPLETED
    assert result.tasks["long"].status is TaskStatus.FAILED
    assert "run is stopping" in (result.tasks["long"].error or "")
    assert result.tasks["after"].status is TaskStatus.SKIPPED
    assert events(result.run_id)[-1] == (None, "finished", "timed_out")


def test_max_parallel_tasks_bounds_concurrency(codebase: Path) -> None:
    Gauge.reset()
    tasks = [{"id": f"g{i}", "agent": "tests.agents:Gauge"} for i in range(6)]
    result = run_spec(spec(tasks, settings={"max_parallel_tasks": 2}), codebase=codebase)
    assert result.ok
    assert Gauge.peak == 2


def test_async_agents_run(codebase: Path) -> None:
    result = run_spec(
        spec([{"id": "a", "agent": "tests.agents:AsyncEcho", "inputs": {"v": 7}}]),
        codebase=codebase,
    )
    assert result.results["a"] == {"v": 7}


def test_rerun_reuses_finished_tasks_and_reruns_only_changed_ones(
    codebase: Path, tmp_path: Path
) -> None:
    counter = tmp_path / "executions"

    def tasks(b_note: str) -> list[dict[str, Any]]:
        return [
            {"id": "a", "agent": "command", "inputs": {"command": counter_cmd(counter, "a")}},
            {"id": "b", "agent": "command", "dependencies": ["a"],
             "inputs": {"command": counter_cmd(counter, "b"), "note": b_note}},
            {"id": "c", "agent": "command", "dependencies": ["b"],
             "inputs": {"command": counter_cmd(counter, "c")}},
            {"id": "solo", "agent": "command", "inputs": {"command": counter_cmd(counter, "s")}},
        ]  # fmt: skip

    first = run_spec(spec(tasks("one")), codebase=codebase)
    assert first.ok
    assert sorted(counter.read_text().split()) == ["a", "b", "c", "s"]

    second = run_spec(spec(tasks("one")), codebase=codebase)
    assert {t.status for t in second.tasks.values()} == {TaskStatus.REUSED}
    assert sorted(counter.read_text().split()) == ["a", "b", "c", "s"]
    assert {(t, a) for t, a, _ in events(second.run_id) if t} == {
        ("a", "reused"), ("b", "reused"), ("c", "reused"), ("solo", "reused")
    }  # fmt: skip

    # b's inputs change: b re-runs; c's upstream result is unchanged (same stdout), so c is
    # reused; a and solo are untouched.
    third = run_spec(spec(tasks("two")), codebase=codebase)
    assert {k: t.status for k, t in third.tasks.items()} == {
        "a": TaskStatus.REUSED, "b": TaskStatus.COMPLETED,
        "c": TaskStatus.REUSED, "solo": TaskStatus.REUSED,
    }  # fmt: skip
    assert sorted(counter.read_text().split()) == ["a", "b", "b", "c", "s"]

    # the codebase's content changes: everything runs again
    (codebase / "main.py").write_text("print('changed')\n")
    fourth = run_spec(spec(tasks("two")), codebase=codebase)
    assert {t.status for t in fourth.tasks.values()} == {TaskStatus.COMPLETED}

    # --fresh ignores persisted results
    fifth = run_spec(spec(tasks("two")), codebase=codebase, fresh=True)
    assert {t.status for t in fifth.tasks.values()} == {TaskStatus.COMPLETED}


def test_changed_upstream_output_reruns_dependents(codebase: Path) -> None:
    def tasks(value: int) -> list[dict[str, Any]]:
        return [
            {"id": "a", "agent": "noop", "inputs": {"value": value}},
            {"id": "b", "agent": "tests.agents:UpstreamEcho", "dependencies": ["a"]},
            {"id": "z", "agent": "noop"},
        ]

    run_spec(spec(tasks(1)), codebase=codebase)
    again = run_spec(spec(tasks(2)), codebase=codebase)
    status = {k: t.status for k, t in again.tasks.items()}
    assert status == {"a": TaskStatus.COMPLETED, "b": TaskStatus.COMPLETED, "z": TaskStatus.REUSED}
    assert again.results["b"]["upstream"]["a"] == {"value": 2}


@pytest.mark.postgres
def test_a_workflow_on_the_postgresql_audit_log(
    codebase: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from ai_conductor.settings import reload_settings
    from ai_conductor.store import close_all
    from tests._pg import make_pg_database

    with make_pg_database() as url:
        monkeypatch.setenv("CONDUCTOR_DATABASE_URL", url)
        close_all()
        reload_settings()
        try:
            fail = {"command": [PY, "-c", "raise SystemExit(2)"]}
            result = run_spec(
                spec(
                    [
                        {"id": "ok", "agent": "noop"},
                        {"id": "bad", "agent": "command", "inputs": fail},
                        {"id": "after", "agent": "noop", "dependencies": ["bad"]},
                    ],
                    workflow_id="on-postgres",
                ),
                codebase=codebase,
            )
            log = open_audit_log(get_settings())
            assert log.url.startswith("postgresql")
            assert set(events(result.run_id)) >= {
                ("ok", "succeeded", "completed"),
                ("bad", "failed", "failed"),
                ("after", "skipped", "skipped"),
                (None, "finished", "failed"),
            }
        finally:
            close_all()
            reload_settings()
