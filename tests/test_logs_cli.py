"""`conductor logs` as a user follows the trail: the short run id the tables show finds the run
(an ambiguous start is a clear error), and a standalone `conductor analyze` and `conductor
findings dismiss/undismiss` appear beside the workflow runs."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import BIN, REPO, cli_env


def conductor(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(BIN / "conductor"), *args], env=env, capture_output=True,
                          text=True, timeout=600)  # fmt: skip


def logs(env: dict[str, str], *args: str) -> list[dict[str, Any]]:
    out = conductor(env, "logs", "--json", *args)
    assert out.returncode == 0, out.stderr
    rows: list[dict[str, Any]] = json.loads(out.stdout)
    return rows


@pytest.mark.slow
def test_logs_run_takes_the_short_id_the_tables_show(
    prefect_api: str, conductor_home: Path, tmp_path: Path, codebase: Path
) -> None:
    env = cli_env(prefect_api, conductor_home)
    spec = tmp_path / "w.yaml"
    spec.write_text("workflow_id: short\ntasks:\n  - {id: a, agent: noop}\n"
                    "  - {id: b, agent: noop, dependencies: [a]}\n")  # fmt: skip
    runs = [json.loads(conductor(env, "run", "--config", str(spec), "--codebase", str(codebase),
                                 "--fresh").stdout)["run_id"] for _ in range(2)]  # fmt: skip
    full = logs(env, "--run", runs[0])
    assert len(full) >= 4  # started, a and b succeeded, finished
    table = conductor(env, "logs", "--workflow", "short")
    assert runs[0][:8] in table.stdout  # what the user sees, and then types
    assert logs(env, "--run", runs[0][:8]) == full
    assert logs(env, "--run", "ffffffffffff-no-such-run") == []


def test_an_ambiguous_run_id_start_is_a_clear_error(conductor_home: Path) -> None:
    from ai_conductor.settings import get_settings
    from ai_conductor.store import AuditEvent, open_audit_log

    audit = open_audit_log(get_settings())
    for run_id in ("1f4f771d" + "a" * 24, "1f4f771d" + "b" * 24, "2a" + "0" * 30):
        audit.record(AuditEvent("w", "started", "running", run_id=run_id))
    audit.flush()
    env = cli_env("http://127.0.0.1:9/api", conductor_home)  # logs never needs Prefect
    out = conductor(env, "logs", "--run", "1f4f771d")
    assert out.returncode == 2
    assert "'1f4f771d' is ambiguous" in out.stderr
    assert "1f4f771d" + "a" * 24 in out.stderr
    assert "1f4f771d" + "b" * 24 in out.stderr
    assert "Traceback" not in out.stderr
    assert [r["run_id"] for r in logs(env, "--run", "1f4f771db")] == ["1f4f771d" + "b" * 24]
    assert [r["run_id"] for r in logs(env, "--run", "2a")] == ["2a" + "0" * 30]
    assert logs(env, "--run", "1f4f%") == []  # LIKE wildcards are plain characters


@pytest.mark.slow
def test_standalone_analyze_and_dismissals_are_in_the_audit_log(
    conductor_home: Path, tmp_path: Path
) -> None:
    code = tmp_path / "code"
    shutil.copytree(REPO / "examples" / "defects", code)
    env = cli_env("http://127.0.0.1:9/api", conductor_home)  # analyze runs without Prefect
    report = tmp_path / "analysis.json"
    done = conductor(env, "analyze", "--codebase", str(code), "--output", str(report),
                     "--fail-on", "high")  # fmt: skip
    assert done.returncode == 1, done.stderr  # the planted defects fail the gate
    analysis = json.loads(report.read_text())
    run_id, finding = analysis["run_id"], analysis["findings"][0]
    rows = logs(env, "--workflow", f"analyze:{code.resolve()}")
    assert [(r["action"], r["status"]) for r in rows] == [("finished", "failed"),
                                                         ("started", "running")]  # fmt: skip
    assert rows[0]["run_id"] == run_id
    assert rows[0]["metadata"]["summary"]["total"] == len(
        json.loads(report.read_text())["findings"]
    )
    assert rows[0]["metadata"]["gate"]["failing"] >= 1
    assert rows[1]["metadata"]["fail_on"] == "high"
    assert logs(env, "--run", run_id[:8]) == rows[:1]

    fp = finding["fingerprint"]
    assert conductor(env, "findings", "dismiss", fp[:10], "--reason", "fixture", "--by", "ana"
                     ).returncode == 0  # fmt: skip
    assert conductor(env, "findings", "undismiss", fp).returncode == 0
    trail = logs(env, "--workflow", "findings")
    assert [(r["action"], r["task_id"]) for r in trail] == [("undismissed", fp), ("dismissed", fp)]
    assert trail[1]["metadata"] == {"reason": "fixture", "by": "ana", "rule": finding["rule_id"],
                                    "path": finding["path"], "line": finding["line"]}  # fmt: skip

    missing = conductor(env, "analyze", "--codebase", str(tmp_path / "nope"))
    assert missing.returncode == 2
    failed = logs(env, "--workflow", f"analyze:{(tmp_path / 'nope').resolve()}")
    assert [(r["action"], r["status"]) for r in failed] == [("finished", "failed"),
                                                           ("started", "running")]  # fmt: skip
    assert "nope" in failed[0]["error_message"]
