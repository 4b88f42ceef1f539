"""The `conductor` command line as users run it: real processes, exit codes, no tracebacks."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from tests.conftest import BIN, REPO, cli_env


def conductor(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(BIN / "conductor"), *args], capture_output=True, text=True, env=env, timeout=300
    )


def test_validate_ok_for_the_seed_example_and_demo() -> None:
    for name in ("seed_example.json", "demo.yaml"):
        out = conductor("validate", str(REPO / "workflows" / name))
        assert out.returncode == 0, out.stderr
        assert out.stdout.startswith("ok")


def test_validate_cycle_exits_2_naming_the_cycle(tmp_path: Path) -> None:
    bad = tmp_path / "cycle.yaml"
    bad.write_text(
        "workflow_id: c\ntasks:\n  - {id: x, agent: noop, dependencies: [y]}\n"
        "  - {id: y, agent: noop, dependencies: [x]}\n"
    )
    out = conductor("validate", str(bad))
    assert out.returncode == 2
    assert "dependency cycle: x -> y -> x" in out.stderr
    assert f"{bad}:3:" in out.stderr
    assert "Traceback" not in out.stderr + out.stdout


def test_validate_yaml_syntax_error_names_the_line(tmp_path: Path) -> None:
    bad = tmp_path / "broken.yaml"
    bad.write_text("workflow_id: b\ntasks:\n  - id: a\n   agent: noop\n")
    out = conductor("validate", str(bad))
    assert out.returncode == 2
    assert f"{bad}:4:" in out.stderr
    assert "Traceback" not in out.stderr


def test_run_bad_input_exits_2_before_anything_runs(tmp_path: Path, conductor_home: Path) -> None:
    env = cli_env("http://127.0.0.1:9/api", conductor_home)  # nothing listens: must not be reached
    out = conductor("run", "--config", str(tmp_path / "missing.yaml"), env=env)
    assert out.returncode == 2
    assert "file not found" in out.stderr
    spec = tmp_path / "ok.yaml"
    spec.write_text("workflow_id: w\ntasks:\n  - {id: a, agent: noop}\n")
    out = conductor("run", "--config", str(spec), "--codebase", str(tmp_path / "nope"), env=env)
    assert out.returncode == 2
    assert "does not exist" in out.stderr
    assert "Traceback" not in out.stderr
    out = conductor("logs", "--since", "yesterday", env=env)
    assert out.returncode == 2
    assert "--since" in out.stderr


@pytest.mark.slow
def test_run_piped_prints_json_and_exit_codes(
    prefect_api: str, conductor_home: Path, tmp_path: Path, codebase: Path
) -> None:
    env = cli_env(prefect_api, conductor_home)
    spec = tmp_path / "w.yaml"
    spec.write_text(
        "workflow_id: cli-run\ntasks:\n  - {id: a, agent: noop, inputs: {k: v}}\n"
        "  - {id: b, agent: command, dependencies: [a], inputs: {command: [false]}}\n"
    )
    out = conductor("run", "--config", str(spec), "--codebase", str(codebase), env=env)
    assert out.returncode == 3, out.stderr
    result = json.loads(out.stdout)
    assert result["status"] == "failed"
    assert result["tasks"]["a"]["output"] == {"k": "v"}
    assert result["tasks"]["b"]["status"] == "failed"

    logs = conductor("logs", "--workflow", "cli-run", "--json", env=env)
    assert logs.returncode == 0
    rows = json.loads(logs.stdout)
    assert {(r["task_id"], r["action"]) for r in rows} >= {("a", "succeeded"), ("b", "failed")}
    failed = conductor("logs", "--status", "failed", "--task", "b", "--json", env=env)
    assert [r["action"] for r in json.loads(failed.stdout)] == ["failed"]
    table = conductor("logs", "--workflow", "cli-run", env=env)
    assert table.returncode == 0
    assert "succeeded" in table.stdout

    alias = conductor("orchestrate", "--config", str(spec), "--codebase", str(codebase), env=env)
    assert alias.returncode == 3
    assert json.loads(alias.stdout)["tasks"]["a"]["status"] == "reused"


def test_logs_replay_writes_the_spool_once(conductor_home: Path) -> None:
    from ai_conductor.settings import Settings
    from ai_conductor.store import AuditEvent, resolve_database_url
    from ai_conductor.store.schema import clean_row
    from ai_conductor.store.spool import append, spool_path

    settings = Settings(home=conductor_home)
    spool = spool_path(settings.spool_dir, resolve_database_url(settings))
    events = [AuditEvent(workflow_id="offline", task_id=f"t{i}", agent_role="analyzer",
                         action="succeeded", status="completed") for i in range(3)]  # fmt: skip
    append(spool, rows=[clean_row(e.as_row()) for e in events])
    env = cli_env("http://127.0.0.1:9/api", conductor_home)
    replay = [str(BIN / "conductor"), "logs", "replay", "--json"]
    first = subprocess.run(replay, env=env, capture_output=True, text=True)
    assert first.returncode == 0, first.stderr
    assert json.loads(first.stdout)["replayed"] == 3
    again = subprocess.run(replay, env=env, capture_output=True, text=True)
    assert json.loads(again.stdout)["replayed"] == 0  # idempotent: the spool is gone
    shown = subprocess.run([str(BIN / "conductor"), "logs", "--workflow", "offline", "--json"],
                           env=env, capture_output=True, text=True, check=True)  # fmt: skip
    assert sorted(r["task_id"] for r in json.loads(shown.stdout)) == ["t0", "t1", "t2"]


def test_context_search_cli(conductor_home: Path) -> None:
    from ai_conductor.context import ContextRecord, open_context_store
    from ai_conductor.settings import Settings

    store = open_context_store(Settings(home=conductor_home), embedder=None)
    store.store(ContextRecord(workflow_id="w", task_id="fix", context_type="change_rejected",
                              content="eval replaced by int broke test_parse"))  # fmt: skip
    store.close()
    env = cli_env("http://127.0.0.1:9/api", conductor_home)
    run = subprocess.run([str(BIN / "conductor"), "context", "search", "eval int", "--json"],
                         env=env, capture_output=True, text=True)  # fmt: skip
    assert run.returncode == 0, run.stderr
    hits = json.loads(run.stdout)
    assert hits
    assert "broke test_parse" in json.dumps(hits[0])


def test_an_unreachable_prefect_api_is_a_clear_error_not_an_internal_one(
    conductor_home: Path, tmp_path: Path
) -> None:
    """A run needs the Prefect API: a wrong PREFECT_API_URL (nothing listens on port 9) says
    so and what to check, exit 3, no traceback and no 'internal error, please report'."""
    spec = tmp_path / "spec.yaml"
    spec.write_text("workflow_id: w\ntasks:\n  - {id: a, agent: noop}\n")
    env = cli_env("http://127.0.0.1:9/api", conductor_home)
    out = conductor("run", "--config", str(spec), env=env)
    assert out.returncode == 3, out.stderr
    assert "the Prefect API (http://127.0.0.1:9/api) failed" in out.stderr
    assert "PREFECT_API_URL" in out.stderr
    assert "internal error" not in out.stderr
    assert "Traceback" not in out.stderr + out.stdout


def test_a_tilde_path_of_no_such_user_is_a_usage_error(conductor_home: Path) -> None:
    """``~name`` for a user the machine does not have: Python raises a bare RuntimeError
    (found by fuzzing the HTTP API, where it was a 500)."""
    env = cli_env("http://127.0.0.1:9/api", conductor_home)
    out = conductor("analyze", "--codebase", "~no-such-user-x/src", env=env)
    assert out.returncode == 2, out.stderr
    assert "'~no-such-user-x' names no user" in out.stderr
    assert "Traceback" not in out.stderr + out.stdout
