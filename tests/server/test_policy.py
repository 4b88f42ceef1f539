"""What the server lets remote callers do, beyond the run tests: import paths never imported or
called, LLM keys kept at home, paths resolved against the codebase, workflow resources, the
Prefect hand-over, and the run list's bounds."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest
from pydantic import SecretStr

from ai_conductor._process import process_start
from ai_conductor.errors import SpecError, UsageError
from ai_conductor.server import _execute, _prefect_runs, _runlog, runs
from ai_conductor.server.params import WorkflowParams
from ai_conductor.server.runs import RunInfo, RunManager
from ai_conductor.settings import Settings, get_settings

CALLED: list[str] = []


def not_a_tool() -> object:
    """A zero-argument function, like ``os:abort`` or ``tempfile:mkdtemp``."""
    CALLED.append("called")
    return object()


@pytest.fixture
def sample(tmp_path: Path) -> Path:
    repo = tmp_path / "repo"
    repo.mkdir()
    (repo / "app.py").write_text("x = 1\n")
    return repo


@pytest.fixture
def settings(conductor_home: Path, tmp_path: Path) -> Settings:
    return get_settings().model_copy(update={"allowed_roots": [tmp_path]})


def test_load_tool_never_calls_what_is_not_a_tool_class() -> None:
    from ai_conductor.analysis.tools import load_tool

    CALLED.clear()
    with pytest.raises(UsageError, match="is not an analyzer tool"):
        load_tool(f"{__name__}:not_a_tool")
    assert CALLED == []  # refused before it was called


def test_analyze_tools_must_be_built_in_unless_allowed(settings: Settings, sample: Path) -> None:
    manager = RunManager(settings, use_deployments=False)
    try:
        for tools in (["os:abort"], ["tempfile:mkdtemp"], [f"{__name__}:not_a_tool"]):
            with pytest.raises(UsageError, match=r"not built-in tools.*ruff, bandit"):
                manager.submit("analyze", {"codebase": str(sample), "tools": tools})
    finally:
        manager.shutdown()
    allowed = settings.model_copy(update={"server_allow_commands": True})
    _execute.prepare_analyze(
        _execute.AnalyzeParams(codebase=str(sample), tools=[f"{__name__}:not_a_tool"]), allowed
    )  # the operator opted in: accepted at submit (and refused by load_tool when run)


def test_import_paths_are_refused_before_validation_imports_them(
    settings: Settings, sample: Path, tmp_path: Path
) -> None:
    import sys

    module = "tests.server._never_imported"
    sys.modules.pop(module, None)
    spec = {"workflow_id": "w", "tasks": [{"id": "a", "agent": f"{module}:Agent"}]}
    with pytest.raises(SpecError, match=r"tasks\[0\].agent: .* is an import path"):
        _execute.checked_spec(settings, spec=spec)
    path = tmp_path / "spec.yaml"
    path.write_text(f"workflow_id: w\nagents:\n  x:\n    role: {module}:Agent\ntasks: []\n")
    with pytest.raises(SpecError, match=r"spec.yaml:4:.*agents.x.role: .* is an import path"):
        _execute.checked_spec(settings, spec_path=str(path))
    assert module not in sys.modules


def test_allowed_inputs_and_paths_resolved_against_the_codebase(
    settings: Settings, sample: Path
) -> None:
    (sample / "analysis.json").write_text("{}")
    (sample / "sub").mkdir()
    (sample / "r.yml").write_text("rules: []\n")
    analyzer = {"output": "reports/a.json", "tools": ["ruff", "Bandit"], "codebase_path": "sub"}
    spec = {
        "workflow_id": "w",
        "tasks": [
            {"id": "a", "agent": "analyzer", "inputs": analyzer},
            {"id": "i", "agent": "implementer", "inputs": {"analysis": "analysis.json",
                                                           "test_command": []}},
            {"id": "r", "agent": "refiner", "inputs": {"types": False}},
        ],
        "agents": {"analyzer": {"options": {"tool_options": {"semgrep": {"config": "r.yml"}}}},
                   "implementer": {"backend": "openai", "options": {"model": "m"}}},
    }  # fmt: skip
    prepared = _execute.prepare_workflow(
        WorkflowParams(spec=spec, codebase="repo"), settings
    )  # a relative codebase: relative to the first root
    request = prepared.flow_request
    assert request["codebase"] == str(sample.resolve())
    tasks = {t["id"]: t["inputs"] for t in request["spec"]["tasks"]}
    assert tasks["a"]["output"] == str(sample.resolve() / "sub" / "reports" / "a.json")
    assert tasks["i"]["analysis"] == str(sample.resolve() / "analysis.json")
    semgrep = request["spec"]["agents"]["analyzer"]["options"]["tool_options"]["semgrep"]
    assert semgrep["config"] == str(sample.resolve() / "r.yml")


def test_the_operator_can_allow_test_commands(settings: Settings, sample: Path) -> None:
    task = {"id": "r", "agent": "refiner", "inputs": {"test_command": ["make", "test"]}}
    spec = {"workflow_id": "w", "tasks": [task]}
    with pytest.raises(UsageError, match="test_command runs a program"):
        _execute.prepare_workflow(WorkflowParams(spec=spec, codebase=str(sample)), settings)
    allowed = settings.model_copy(update={"server_allow_commands": True})
    _execute.prepare_workflow(WorkflowParams(spec=spec, codebase=str(sample)), allowed)


# --- LLM keys ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("base_url", "sent"),
    [
        (None, "sk-settings-0123456789"),
        ("https://api.openai.com/v1", "sk-settings-0123456789"),
        ("http://127.0.0.1:8080/v1", "sk-settings-0123456789"),
        ("http://localhost:11434/v1", "sk-settings-0123456789"),
        ("http://attacker.example/v1", "not-needed"),
        ("https://api.openai.com.attacker.example/v1", "not-needed"),
    ],
)
def test_the_settings_key_goes_only_to_trusted_endpoints(
    base_url: str | None, sent: str, caplog: pytest.LogCaptureFixture
) -> None:
    from ai_conductor.implement.backends.llm import LLMOptions, resolve_api_key

    options = LLMOptions.parse("openai", {"model": "m", "base_url": base_url} if base_url
                               else {"model": "m"})  # fmt: skip
    key = SecretStr("sk-settings-0123456789")
    assert resolve_api_key("openai", options, key, "OPENAI_API_KEY") == sent
    if sent == "not-needed":
        assert "OPENAI_API_KEY is not sent to base_url host" in caplog.text
        assert "sk-settings" not in caplog.text


def test_a_blocks_base_url_keeps_the_settings_key() -> None:
    from ai_conductor.implement.backends.llm import LLMOptions, resolve_api_key

    options = LLMOptions.parse("anthropic", {"model": "m"})
    options.base_url = "https://llm-gateway.internal"  # as if filled from the llm_block
    key = SecretStr("sk-ant-settings-42")
    assert resolve_api_key("anthropic", options, key, "ANTHROPIC_API_KEY") == key.get_secret_value()


# --- workflow resources -----------------------------------------------------------------------


def test_workflow_resources_serve_only_specs_in_workflows_folders(tmp_path: Path) -> None:
    from ai_conductor.server.mcp_resources import workflow_specs

    root = tmp_path / "root"
    (root / "workflows").mkdir(parents=True)
    (tmp_path / "outside").mkdir()
    spec = "workflow_id: w\ntasks:\n  - {id: a, agent: noop}\n"
    (root / "good.yaml").write_text(spec)  # the root itself is not a workflows folder
    (root / "docker-compose.yml").write_text("services: {db: {environment: {PASSWORD: x}}}\n")
    (root / "workflows" / "mine.yaml").write_text(spec)
    (root / "workflows" / ".env.yaml").write_text("TOKEN: secret\n")
    (root / "workflows" / "secrets.json").write_text('{"password": "hunter2"}')
    (tmp_path / "outside" / "leak.yaml").write_text(spec)
    (root / "workflows" / "leak.yaml").symlink_to(tmp_path / "outside" / "leak.yaml")
    found = workflow_specs(Settings(allowed_roots=[root]))
    mine = {name: path for name, path in found.items() if path.is_relative_to(root)}
    assert mine == {"mine": (root / "workflows" / "mine.yaml").resolve()}
    assert {"audit", "demo"} <= set(found)  # the package's own


# --- the Prefect hand-over and the run list -----------------------------------------------------


@pytest.fixture
def fake_prefect(monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    """A deployment that exists; flow runs recorded instead of created."""
    seen: dict[str, Any] = {"state": ("pending", None, None, None)}

    def start(deployment: str, request: dict[str, Any]) -> str:
        seen["parameters"] = _prefect_runs.flow_parameters(request)
        return "4f1b6c0e-0000-4000-8000-000000000001"

    monkeypatch.setattr(_prefect_runs, "find_deployment", lambda kind: f"flow/{kind}")
    monkeypatch.setattr(_prefect_runs, "start", start)
    monkeypatch.setattr(_prefect_runs, "read", lambda run_id: seen["state"])
    monkeypatch.setattr(_prefect_runs, "cancel", lambda run_id: None)
    return seen


def test_deployments_get_resolved_paths_and_the_checked_spec(
    settings: Settings, sample: Path, fake_prefect: dict[str, Any], tmp_path: Path
) -> None:
    (tmp_path / "spec.yaml").write_text("workflow_id: remote\ntasks:\n  - {id: a, agent: noop}\n")
    manager = RunManager(settings)
    try:
        manager.submit("workflow", {"spec_path": "spec.yaml", "codebase": "repo"})
        request = fake_prefect["parameters"]["request"]
        assert "spec_path" not in request  # a worker never re-reads (or resolves) a path
        assert request["spec"]["workflow_id"] == "remote"
        assert request["spec"]["tasks"][0]["id"] == "a"
        assert request["codebase"] == str(sample.resolve())
        manager.submit("analyze", {"codebase": "repo"})
        assert fake_prefect["parameters"]["request"] == {
            "codebase": str(sample.resolve()), "focus": [],
        }  # fmt: skip
    finally:
        manager.shutdown()


def test_prefect_failure_messages_are_redacted(
    settings: Settings, sample: Path, fake_prefect: dict[str, Any]
) -> None:
    secret = "sk-configured-secret-99"
    settings = settings.model_copy(update={"openai_api_key": SecretStr(secret)})
    message = f"crashed: key {secret}, https://bob:pw@git.example/x, token=abc123"
    fake_prefect["state"] = ("failed", None, None, message)
    manager = RunManager(settings)
    try:
        run_id = manager.submit("analyze", {"codebase": str(sample)}).run_id
        info = manager.get(run_id)
        assert info is not None
        assert info.status == "failed"
        assert info.error == "crashed: key ***, https://***@git.example/x, token=***"
        rebuilt = _runlog.rebuild(settings, run_id)  # the audit log has the same text
        assert rebuilt is not None
        assert rebuilt[0].error == info.error
    finally:
        manager.shutdown()


def _instant(params: Any, settings: Settings) -> _execute.Prepared:
    return _execute.Prepared(lambda run_id, progress: ({"ok": True}, {"done": run_id}))


def test_finished_runs_leave_memory_and_list_looks_up_only_what_it_returns(
    settings: Settings, monkeypatch: pytest.MonkeyPatch, sample: Path
) -> None:
    monkeypatch.setitem(runs._PREPARE, "analyze", _instant)
    manager = RunManager(settings, use_deployments=False, keep_finished=2, max_parallel=1)
    try:
        ids = [manager.submit("analyze", {"codebase": str(sample)}).run_id for _ in range(6)]
        deadline = time.monotonic() + 30
        while any(getattr(manager.get(i), "status", None) != "completed" for i in ids):
            assert time.monotonic() < deadline
            time.sleep(0.05)
        manager.submit("analyze", {"codebase": str(sample)})  # prunes on submit too
        assert len(manager._runs) <= 3  # two finished (and maybe the new one)
        assert [r.run_id for r in manager.list(limit=7) if r.run_id in ids] == ids[::-1]
        looked_up: list[str] = []
        real_get = manager.get

        def counting_get(run_id: str) -> RunInfo | None:
            looked_up.append(run_id)
            return real_get(run_id)

        monkeypatch.setattr(manager, "get", counting_get)
        assert len(manager.list(limit=2)) == 2
        assert len(looked_up) == 2
    finally:
        manager.shutdown()


def test_runs_of_a_live_server_process_are_not_lost(
    settings: Settings, monkeypatch: pytest.MonkeyPatch, sample: Path
) -> None:
    import subprocess
    import sys

    info = RunInfo(run_id="a" * 32, kind="analyze", status="running")
    live = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        owner = {**_runlog.new_owner("other"), "pid": live.pid,
                 "started": process_start(live.pid)}  # fmt: skip
        _runlog.record(settings, info, "local", owner)
        manager = RunManager(settings, use_deployments=False)
        got = manager.get(info.run_id)
        assert got is not None
        assert (got.status, got.error) == ("running", None)  # another live process runs it
        with pytest.raises(UsageError, match="runs in another server process"):
            manager.cancel(info.run_id)
    finally:
        live.kill()
        live.wait()
    gone = manager.get(info.run_id)
    assert gone is not None
    assert (gone.status, gone.error) == ("failed", _runlog.LOST)
    old = RunInfo(run_id="b" * 32, kind="analyze", status="running")
    _runlog.record(settings, old, "local")  # no owner recorded: an older server's run
    assert getattr(manager.get(old.run_id), "status", None) == "failed"
    mine = RunInfo(run_id="c" * 32, kind="analyze", status="running")
    _runlog.record(settings, mine, "local", manager._owner)
    assert getattr(RunManager(settings).get(mine.run_id), "status", None) == "running"
    manager.shutdown()  # its unfinished runs are lost now
    assert getattr(RunManager(settings).get(mine.run_id), "status", None) == "failed"
