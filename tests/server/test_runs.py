"""RunManager for real: analyses and workflows in the background, state in the audit log."""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import Any

import pytest

from ai_conductor.errors import UsageError
from ai_conductor.server.runs import RunInfo, RunManager
from ai_conductor.settings import Settings, get_settings

FINAL = ("completed", "failed", "cancelled")


@pytest.fixture
def sample(tmp_path: Path) -> Path:
    repo = tmp_path / "repo"
    repo.mkdir()
    (repo / "app.py").write_text("import os\n\n\ndef run(cmd):\n    return eval(cmd)\n")
    return repo


@pytest.fixture
def settings(conductor_home: Path, tmp_path: Path) -> Settings:
    return get_settings().model_copy(update={"allowed_roots": [tmp_path]})


def wait(manager: RunManager, run_id: str, timeout: float = 120) -> RunInfo:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        info = manager.get(run_id)
        assert info is not None
        if info.status in FINAL:
            return info
        time.sleep(0.1)
    raise AssertionError(f"run {run_id} did not finish")


def workflow(*tasks: dict[str, Any]) -> dict[str, Any]:
    return {"workflow_id": "server-test", "tasks": list(tasks)}


def test_analyze_runs_in_background_and_survives_a_restart(
    settings: Settings, sample: Path
) -> None:
    manager = RunManager(settings)
    submitted = manager.submit("analyze", {"codebase": str(sample), "focus": ["security"]})
    assert submitted.status in ("pending", "running")
    done = wait(manager, submitted.run_id)
    assert done.status == "completed", done.error
    assert done.result["summary"]["by_severity"].get("high", 0) >= 1  # eval() is S307
    assert done.progress["total"] >= 1
    report = manager.report(done.run_id)
    assert report is not None
    assert any(f["rule_id"] in ("S307", "B307") for f in report["findings"])
    manager.shutdown()

    restarted = RunManager(settings)  # a new server process reads the audit log
    again = restarted.get(submitted.run_id)
    assert again is not None
    assert (again.status, again.kind, again.result) == ("completed", "analyze", done.result)
    assert again.params["focus"] == ["security"]
    assert again.finished_at is not None
    assert again.started_at is not None
    assert [r.run_id for r in restarted.list(status="completed")] == [submitted.run_id]
    assert restarted.get("0" * 32) is None
    restarted.shutdown()


def test_bad_parameters_fail_at_submit(settings: Settings, sample: Path, tmp_path: Path) -> None:
    manager = RunManager(settings)
    with pytest.raises(UsageError, match="outside the allowed roots"):
        manager.submit("analyze", {"codebase": "/"})
    with pytest.raises(UsageError, match="unknown focus"):
        manager.submit("analyze", {"codebase": str(sample), "focus": ["astrology"]})
    with pytest.raises(UsageError, match="exactly one of spec_path or spec"):
        manager.submit("workflow", {"codebase": str(sample)})
    with pytest.raises(UsageError, match="invalid analyze parameters: colour"):
        manager.submit("analyze", {"codebase": str(sample), "colour": "red"})
    with pytest.raises(UsageError, match="unknown run kind"):
        manager.submit("deploy", {})
    with pytest.raises(UsageError, match="no analysis report"):
        manager.submit("implement", {"analysis_run_id": "abc"})
    bad_spec = workflow({"id": "a", "agent": "noop", "dependencies": ["missing"]})
    with pytest.raises(UsageError, match="missing"):
        manager.submit("workflow", {"spec": bad_spec, "codebase": str(sample)})
    assert manager.list() == []
    manager.shutdown()


def test_workflow_progress_cancel_pending_and_bounded_parallelism(
    prefect_api: str, settings: Settings, sample: Path
) -> None:
    settings = settings.model_copy(update={"server_allow_commands": True})  # the operator opted in
    manager = RunManager(settings, max_parallel=1, use_deployments=False)
    sleep = [sys.executable, "-c", "import time; time.sleep(1.5)"]
    spec = workflow(
        {"id": "first", "agent": "noop", "inputs": {"x": 1}},
        {"id": "nap", "agent": "command", "inputs": {"command": sleep}, "dependencies": ["first"]},
    )
    flow = manager.submit("workflow", {"spec": spec, "codebase": str(sample)})
    queued = manager.submit("analyze", {"codebase": str(sample)})
    doomed = manager.submit("analyze", {"codebase": str(sample)})
    assert manager.get(doomed.run_id).status == "pending"  # type: ignore[union-attr]
    cancelled = manager.cancel(doomed.run_id)
    assert cancelled.status == "cancelled"

    finished = wait(manager, flow.run_id)
    assert finished.status == "completed", finished.error
    assert finished.progress == {"done": 2, "total": 2, "failed": 0}
    assert finished.result["counts"]["completed"] == 2
    after = wait(manager, queued.run_id)
    assert after.status == "completed"
    assert after.started_at is not None
    assert finished.finished_at is not None
    assert after.started_at >= finished.finished_at  # one at a time
    never = manager.get(doomed.run_id)
    assert never is not None
    assert (never.status, never.started_at) == ("cancelled", None)
    manager.shutdown()
    reread = RunManager(settings).get(doomed.run_id)
    assert reread is not None
    assert reread.status == "cancelled"


def test_failed_workflow_reports_why(prefect_api: str, settings: Settings, sample: Path) -> None:
    settings = settings.model_copy(update={"server_allow_commands": True})
    manager = RunManager(settings, use_deployments=False)
    fail = [sys.executable, "-c", "raise SystemExit(4)"]
    spec = workflow({"id": "boom", "agent": "command", "inputs": {"command": fail},
                     "retry_attempts": 0})  # fmt: skip
    info = wait(manager, manager.submit("workflow", {"spec": spec, "codebase": str(sample)}).run_id)
    assert info.status == "failed"
    assert info.error
    assert info.progress["failed"] == 1
    manager.shutdown()


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        (
            workflow({"id": "sh", "agent": "command", "inputs": {"command": ["id"]}}),
            "agent 'command' runs programs",
        ),
        (
            workflow(
                {
                    "id": "x",
                    "agent": "ai_conductor.agents.builtin:CommandAgent",
                    "inputs": {"command": ["id"]},
                }
            ),
            "is an import path: loading it runs code",
        ),
        (
            {
                **workflow({"id": "fix", "agent": "implementer", "inputs": {"analysis": "a.json"}}),
                "agents": {
                    "implementer": {"backend": "command", "options": {"argv": ["sh", "{prompt}"]}}
                },
            },
            "backend 'command' runs arbitrary programs",
        ),
        (  # a local caller's absolute codebase_path names the task's codebase; a remote one's
            # stays inside the allowed roots
            workflow({"id": "a", "agent": "analyzer", "inputs": {"codebase_path": "/etc"}}),
            "inputs.codebase_path '/etc' is outside the allowed roots",
        ),
        (
            workflow({"id": "a", "agent": "analyzer", "inputs": {"codebase_path": "../.."}}),
            "must be a folder inside the codebase",
        ),
        (  # the reviewer's repro: the refiner's tidy gate ran this
            workflow(
                {
                    "id": "r",
                    "agent": "refiner",
                    "inputs": {
                        "types": False,
                        "test_command": ["sh", "-c", "echo pwned > pwned.txt"],
                    },
                }
            ),
            "inputs.test_command runs a program",
        ),
        (
            workflow({"id": "i", "agent": "cursor", "inputs": {"test_command": ["make", "x"]}}),
            "inputs.test_command runs a program",
        ),
        (
            workflow({"id": "a", "agent": "analyzer", "inputs": {"tools": ["ruff", "os:abort"]}}),
            "'os:abort' are not built-in tools",
        ),
        (
            {
                **workflow({"id": "a", "agent": "analyzer"}),
                "agents": {"analyzer": {"options": {"tools": ["tempfile:mkdtemp"]}}},
            },
            "options.tools: analyzer tool.*'tempfile:mkdtemp'",
        ),
        (
            {
                **workflow({"id": "a", "agent": "analyzer"}),
                "agents": {"analyzer": {"options": {"tool_options": {"os:abort": {}}}}},
            },
            "options.tool_options: analyzer tool",
        ),
        (
            workflow({"id": "a", "agent": "analyzer", "inputs": {"output": "../../evil.json"}}),
            r"inputs.output '../../evil.json' is outside the allowed roots",
        ),
        (
            workflow({"id": "a", "agent": "eigencode", "inputs": {"output": "/tmp/out.json"}}),
            "inputs.output '/tmp/out.json' is outside the allowed roots",
        ),
        (
            workflow({"id": "i", "agent": "implementer", "inputs": {"analysis": "/etc/hostname"}}),
            "inputs.analysis '/etc/hostname' is outside the allowed roots",
        ),
        (
            {
                **workflow({"id": "i", "agent": "implementer"}),
                "agents": {
                    "implementer": {
                        "backend": "openai",
                        "options": {"model": "x", "base_url": "http://attacker.example/v1"},
                    }
                },
            },
            "option.*base_url choose where LLM requests and the server's API keys go",
        ),
        (
            {
                **workflow({"id": "r", "agent": "refiner", "inputs": {"stack": "python"}}),
                "agents": {
                    "refiner": {
                        "backend": "anthropic",
                        "options": {"model": "x", "api_key_block": "prod-key", "llm_block": "prod"},
                    }
                },
            },
            "api_key_block, llm_block choose where",
        ),
    ],
    ids=[
        "command-agent",
        "import-path-agent",
        "command-backend",
        "codebase-path-outside-roots",
        "codebase-path-climbs-out",
        "refiner-test-command",
        "implementer-test-command",
        "tool-import-path",
        "option-tool-import-path",
        "tool-options-import-path",
        "output-escape",
        "absolute-output",
        "analysis-outside",
        "llm-base-url",
        "llm-key-blocks",
    ],
)
def test_remote_callers_cannot_run_programs_or_escape_the_roots(
    spec: dict[str, Any], expected: str, settings: Settings, sample: Path
) -> None:
    from ai_conductor.errors import UsageError

    manager = RunManager(settings, use_deployments=False)
    try:
        with pytest.raises(UsageError, match=expected):
            manager.submit("workflow", {"spec": spec, "codebase": str(sample)})
        with pytest.raises(UsageError, match="runs arbitrary programs"):
            manager.submit("implement", {"analysis": str(sample / "a.json"), "backend": "command"})
    finally:
        manager.shutdown()


def test_a_symlink_cannot_take_a_task_outside_the_codebase(
    prefect_api: str, settings: Settings, sample: Path, tmp_path: Path
) -> None:
    outside = tmp_path.parent / f"{tmp_path.name}-outside"
    outside.mkdir()
    (sample / "inside").mkdir()
    (sample / "escape").symlink_to(outside, target_is_directory=True)
    spec = workflow(
        {"id": "out", "agent": "noop", "inputs": {"codebase_path": "escape"}},
        {"id": "after", "agent": "noop", "dependencies": ["out"]},
        {"id": "in", "agent": "noop", "inputs": {"codebase_path": "inside"}},
    )
    manager = RunManager(settings, use_deployments=False)
    try:
        info = wait(manager, manager.submit("workflow", {"spec": spec, "codebase": "repo"}).run_id)
    finally:
        manager.shutdown()
    assert info.status == "failed"
    counts = info.result["counts"]
    assert (counts["completed"], counts["failed"], counts["skipped"]) == (1, 1, 1)
    tasks = (manager.report(info.run_id) or {})["tasks"]
    assert "resolves to" in tasks["out"]["error"]
    assert "outside the codebase" in tasks["out"]["error"]
    assert tasks["after"]["status"] == "skipped"
    assert tasks["in"]["status"] == "completed"


def test_a_remote_absolute_codebase_path_inside_the_roots_is_that_tasks_codebase(
    prefect_api: str, settings: Settings, sample: Path, tmp_path: Path
) -> None:
    other = tmp_path / "other"
    other.mkdir()
    (other / "calc.py").write_text("def calc(e):\n    return eval(e)\n")
    spec = workflow(
        {"id": "a", "agent": "analyzer", "inputs": {"codebase_path": str(other)}},
        {"id": "b", "agent": "analyzer"},
    )
    manager = RunManager(settings, use_deployments=False)
    try:
        info = wait(manager, manager.submit("workflow", {"spec": spec, "codebase": "repo"}).run_id)
    finally:
        manager.shutdown()
    assert info.status == "completed", info.error
    tasks = (manager.report(info.run_id) or {})["tasks"]
    assert tasks["a"]["output"]["codebase"] == str(other.resolve())
    assert tasks["b"]["output"]["codebase"] == str(sample.resolve())
