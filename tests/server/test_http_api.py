"""The HTTP API through FastAPI's TestClient, and the real server (uvicorn) on loopback."""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families

from ai_conductor.server.http_api import create_app
from ai_conductor.settings import Settings

TOKEN = "test-token-0123456789"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
FAMILIES = {
    "conductor_workflows",
    "conductor_task_duration_seconds",
    "conductor_active_workflows",
    "conductor_findings",
    "conductor_llm_tokens",
    "conductor_llm_cost_usd",
}


@pytest.fixture
def roots(tmp_path: Path) -> Path:
    root = tmp_path / "roots"
    sample = root / "sample"
    sample.mkdir(parents=True)
    (sample / "app.py").write_text(
        "import subprocess\n\ndef run(cmd):\n    return subprocess.call(cmd, shell=True)\n"
    )
    return root


@pytest.fixture
def settings(conductor_home: Path, roots: Path) -> Settings:
    return Settings(home=conductor_home, api_token=TOKEN, allowed_roots=[roots])


@pytest.fixture
def client(settings: Settings) -> Iterator[TestClient]:
    with TestClient(create_app(settings), headers=AUTH) as c:
        yield c


def _wait(client: TestClient, run_id: str, timeout: float = 120) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        info = client.get(f"/runs/{run_id}").json()
        if info["status"] in ("completed", "failed", "cancelled"):
            return dict(info)
        time.sleep(0.2)
    raise AssertionError(f"run {run_id} did not finish in {timeout}s")


def test_token_required_except_healthz(settings: Settings) -> None:
    with TestClient(create_app(settings)) as anon:
        assert anon.get("/healthz").status_code == 200
        for path in ("/runs", "/tasks", "/metrics", "/docs", "/openapi.json"):
            r = anon.get(path)
            assert r.status_code == 401, path
            assert r.headers["www-authenticate"].startswith("Bearer")
            assert r.json()["error"] == "unauthorized"
        wrong = anon.get("/runs", headers={"Authorization": "Bearer nope"})
        assert wrong.status_code == 401
        assert TOKEN not in wrong.text
        assert anon.get("/runs", headers={"Authorization": f"Basic {TOKEN}"}).status_code == 401
        assert anon.get("/runs", headers=AUTH).status_code == 200
        assert anon.get("/openapi.json", headers=AUTH).json()["info"]["title"] == "ai-conductor"


def test_no_token_configured_is_open(conductor_home: Path, roots: Path) -> None:
    with TestClient(create_app(Settings(home=conductor_home, allowed_roots=[roots]))) as c:
        assert c.get("/runs").status_code == 200


def test_post_tasks_validation_gives_reasons(client: TestClient) -> None:
    bad_id = client.post(
        "/tasks", json={"task_id": "bad id!", "name": "x", "agent_role": "analyzer"}
    )
    assert bad_id.status_code == 422
    assert bad_id.json()["error"] == "invalid_request"
    (problem,) = bad_id.json()["detail"]
    assert problem["loc"][-1] == "task_id"
    assert "pattern" in problem["msg"]
    bad_role = client.post("/tasks", json={"task_id": "t1", "name": "x", "agent_role": "hacker"})
    assert bad_role.status_code == 422
    (problem,) = bad_role.json()["detail"]
    assert problem["loc"][-1] == "agent_role"
    assert "analyzer" in problem["msg"]
    assert "hacker" not in bad_role.text  # values are not echoed


def test_post_tasks_runs_a_one_task_workflow(client: TestClient, roots: Path) -> None:
    body = {"task_id": "scan-1", "name": "Scan", "agent_role": "analyzer", "inputs": {}}
    r = client.post("/tasks", json={**body, "codebase": str(roots / "sample")})
    assert r.status_code == 202, r.text
    info = _wait(client, r.json()["run_id"])
    assert info["status"] == "completed", info
    tasks = client.get("/tasks", params={"limit": 10}).json()["tasks"]
    mine = [t for t in tasks if t["task_id"] == "scan-1"]
    assert mine
    assert mine[0]["workflow_id"] == "task-scan-1"
    assert mine[0]["status"] == "completed"
    assert mine[0]["duration_s"] is not None
    metrics = {f.name: f for f in text_string_to_metric_families(client.get("/metrics").text)}
    durations = metrics["conductor_task_duration_seconds"].samples
    assert any(s.name.endswith("_count") and s.value >= 1 for s in durations)
    workflows = {s.labels["status"]: s.value for s in metrics["conductor_workflows"].samples}
    assert workflows.get("completed", 0) >= 1


def test_analyze_run_to_completion(client: TestClient) -> None:
    r = client.post("/runs", json={"kind": "analyze", "params": {"codebase": "sample"}})
    assert r.status_code == 202, r.text
    run = r.json()
    assert run["kind"] == "analyze"
    assert run["status"] in ("pending", "running", "completed")
    info = _wait(client, run["run_id"])
    assert info["status"] == "completed", info
    assert info["result"]
    status = client.get(f"/runs/{run['run_id']}/status").json()
    assert status == {"run_id": run["run_id"], "status": "completed", "progress": info["progress"]}
    assert any(i["run_id"] == run["run_id"] for i in client.get("/runs").json())
    assert client.post(f"/runs/{run['run_id']}/cancel").json()["status"] == "completed"
    families = {f.name: f for f in text_string_to_metric_families(client.get("/metrics").text)}
    assert set(families) >= FAMILIES
    findings = {s.labels["severity"]: s.value for s in families["conductor_findings"].samples}
    assert sum(findings.values()) >= 1  # shell=True is found


def test_paths_outside_allowed_roots_are_refused(client: TestClient, tmp_path: Path) -> None:
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    for params in ({"codebase": str(outside)}, {"codebase": "../elsewhere"}):
        r = client.post("/runs", json={"kind": "analyze", "params": params})
        assert r.status_code == 403, r.text
        assert r.json()["error"] == "forbidden"
        assert "allowed roots" in r.json()["detail"]
    r = client.post(
        "/tasks", json={"task_id": "t", "agent_role": "refiner", "codebase": str(outside)}
    )
    assert r.status_code == 403
    (tmp_path / "roots" / "link").symlink_to(outside)
    r = client.post("/runs", json={"kind": "analyze", "params": {"codebase": "link"}})
    assert r.status_code == 403


def test_errors_are_json(client: TestClient) -> None:
    missing = client.get("/runs/does-not-exist")
    assert missing.status_code == 404
    assert missing.json()["error"] == "not_found"
    assert client.post("/runs/nope/cancel").status_code == 404
    bad_kind = client.post("/runs", json={"kind": "deploy", "params": {}})
    assert bad_kind.status_code == 422
    bad_params = client.post("/runs", json={"kind": "analyze", "params": {"nope": 1}})
    assert bad_params.status_code == 422
    assert "codebase" in bad_params.json()["detail"]


def test_oversized_body_gets_413(client: TestClient) -> None:
    big = {"task_id": "t", "agent_role": "analyzer", "inputs": {"x": "a" * (1 << 20)}}
    r = client.post("/tasks", json=big)
    assert r.status_code == 413
    assert r.json()["error"] == "payload_too_large"


def test_validate_workflow(client: TestClient) -> None:
    ok = client.post(
        "/workflows/validate",
        json={"spec": {"workflow_id": "w", "tasks": [{"id": "a", "agent": "noop"}]}},
    ).json()
    assert ok == {"ok": True, "workflow_id": "w", "tasks": ["a"], "problems": [], "warnings": []}
    cycle = {
        "workflow_id": "w",
        "tasks": [
            {"id": "a", "agent": "noop", "dependencies": ["b"]},
            {"id": "b", "agent": "noop", "dependencies": ["a"]},
        ],
    }
    bad = client.post("/workflows/validate", json={"spec": cycle}).json()
    assert bad["ok"] is False
    assert any("cycle" in p for p in bad["problems"])
    text = client.post("/workflows/validate", json={"spec": "workflow_id: [oops"}).json()
    assert text["ok"] is False
    assert text["problems"]


def test_validate_refuses_import_paths_and_alias_bombs(client: TestClient) -> None:
    import sys

    from tests.test_spec import ALIAS_BOMB

    module = "tests.server._never_imported_by_validate"
    spec = {"workflow_id": "w", "tasks": [{"id": "a", "agent": f"{module}:Agent"}]}
    refused = client.post("/workflows/validate", json={"spec": spec}).json()
    assert refused["ok"] is False
    assert "is an import path" in refused["problems"][0]
    assert module not in sys.modules
    started = time.monotonic()
    bomb = client.post("/workflows/validate", json={"spec": ALIAS_BOMB}).json()
    assert time.monotonic() - started < 2
    assert bomb["ok"] is False
    assert "expands to more than" in bomb["problems"][0]


REBOUND = {"Host": "attacker.example:8000", "Origin": "http://attacker.example:8000"}


@pytest.mark.parametrize("path", ["/runs", "/tasks", "/healthz", "/docs", "/mcp"])
def test_foreign_host_headers_are_refused_without_a_token(
    conductor_home: Path, roots: Path, path: str
) -> None:
    with TestClient(create_app(Settings(home=conductor_home, allowed_roots=[roots]))) as c:
        r = c.get(path, headers=REBOUND)
        assert r.status_code == 421, r.text
        assert r.json()["error"] == "misdirected_request"
        spec = {"spec": {"workflow_id": "w", "tasks": [{"id": "a", "agent": "noop"}]}}
        assert c.post("/workflows/validate", json=spec, headers=REBOUND).status_code == 421
        cross_site = {"Host": "localhost:8000", "Origin": "http://attacker.example:8000"}
        assert c.post("/workflows/validate", json=spec, headers=cross_site).status_code == 403
        assert c.get(path, headers={"Origin": "null"}).status_code == 403
        for host in ("127.0.0.1:8000", "localhost:8000", "[::1]:8000", "LOCALHOST."):
            ok = {"Host": host, "Origin": f"http://{host}"}
            assert c.post("/workflows/validate", json=spec, headers=ok).json()["ok"] is True


def test_the_bound_address_and_configured_names_are_accepted(
    conductor_home: Path, roots: Path
) -> None:
    from ai_conductor.server.http_api import _mcp_security
    from ai_conductor.server.http_guard import allowed_host_names

    settings = Settings(home=conductor_home, allowed_roots=[roots])
    app = create_app(settings, host="127.0.0.2", allowed_hosts=["conductor.lan:8000"])
    with TestClient(app) as c:
        for host in ("127.0.0.2:8000", "conductor.lan:8000", "127.0.0.1:8000"):
            assert c.get("/runs", headers={"Host": host}).status_code == 200, host
        assert c.get("/runs", headers={"Host": "127.0.0.3:8000"}).status_code == 421
    mcp = _mcp_security(allowed_host_names("127.0.0.2", None))  # the SDK's own check
    assert mcp.enable_dns_rebinding_protection
    assert "127.0.0.2:*" in mcp.allowed_hosts
    assert "http://127.0.0.2:*" in mcp.allowed_origins
    assert "[::1]:*" in mcp.allowed_hosts
    keyed = Settings(home=conductor_home, allowed_roots=[roots], api_token=TOKEN)
    with TestClient(create_app(keyed, host="0.0.0.0"), headers=AUTH) as c:
        assert c.get("/runs", headers={"Host": "conductor.example.com"}).status_code == 200


@pytest.mark.usefixtures("prefect_api")
def test_stopping_the_server_cancels_running_workflows(settings: Settings, roots: Path) -> None:
    from ai_conductor.server.runs import RunManager

    settings = settings.model_copy(update={"server_allow_commands": True})
    nap = [sys.executable, "-c", "import time; time.sleep(120)"]
    spec = {"workflow_id": "long", "tasks": [{"id": "nap", "agent": "command",
                                              "inputs": {"command": nap}}]}  # fmt: skip
    with TestClient(create_app(settings), headers=AUTH) as c:
        params = {"spec": spec, "codebase": "sample"}
        r = c.post("/runs", json={"kind": "workflow", "params": params})
        assert r.status_code == 202, r.text
        run_id = r.json()["run_id"]
        deadline = time.monotonic() + 60
        while c.get(f"/runs/{run_id}").json()["status"] != "running":
            assert time.monotonic() < deadline
            time.sleep(0.1)
        time.sleep(3)  # the command is started
        started = time.monotonic()
    assert time.monotonic() - started < 60  # not the command's 120 s
    info = RunManager(settings).get(run_id)
    assert info is not None
    assert info.status in ("cancelled", "failed"), info


# --- the real server -------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def server(conductor_home: Path, roots: Path) -> Iterator[str]:
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("CONDUCTOR_")}
    env |= {
        "CONDUCTOR_HOME": str(conductor_home),
        "CONDUCTOR_API_TOKEN": TOKEN,
        "CONDUCTOR_ALLOWED_ROOTS": str(roots),
    }
    code = (
        "from ai_conductor.cli._serve_http import run_http; "
        f"raise SystemExit(run_http('127.0.0.1', {port}))"
    )
    proc = subprocess.Popen([sys.executable, "-c", code], env=env, stderr=subprocess.PIPE)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                assert proc.poll() is None, proc.stderr.read() if proc.stderr else ""
                time.sleep(0.2)
        yield url
    finally:
        proc.terminate()
        proc.wait(timeout=30)


@pytest.mark.slow
def test_real_server_auth_runs_and_limits(server: str) -> None:
    assert httpx.get(f"{server}/runs").status_code == 401
    with httpx.Client(base_url=server, headers=AUTH, timeout=30) as http:
        r = http.post("/runs", json={"kind": "analyze", "params": {"codebase": "sample"}})
        assert r.status_code == 202, r.text
        run_id = r.json()["run_id"]
        for _ in range(600):
            info = http.get(f"/runs/{run_id}").json()
            if info["status"] == "completed":
                break
            time.sleep(0.2)
        assert info["status"] == "completed", info

        def chunks() -> Iterator[bytes]:  # no Content-Length: counted as it arrives
            for _ in range(40):
                yield b"x" * 65536

        chunked = http.post(
            "/tasks", content=chunks(), headers={"content-type": "application/json"}
        )
        assert chunked.status_code == 413


@pytest.mark.slow
def test_real_server_answers_the_mcp_client(server: str) -> None:
    import httpx2
    from mcp import Client
    from mcp.client.streamable_http import streamable_http_client

    async def drive() -> tuple[list[str], dict[str, Any], list[dict[str, Any]], Any]:
        async with httpx2.AsyncClient(headers=AUTH, timeout=30) as http:
            transport = streamable_http_client(f"{server}/mcp", http_client=http)
            async with Client(transport) as mcp:
                names = [t.name for t in (await mcp.list_tools()).tools]
                started = await mcp.call_tool("analyze", {"codebase": "sample"})
                assert not started.is_error, started.content
                run_id = started.structured_content["run_id"]
                for _ in range(600):
                    got = (await mcp.call_tool("get_run", {"run_id": run_id})).structured_content
                    if got["status"] in ("completed", "failed", "cancelled"):
                        break
                    await asyncio.sleep(0.2)
                found = await mcp.call_tool("list_findings", {"run_id": run_id})
                refused = await mcp.call_tool("analyze", {"codebase": "/etc"})
                return names, got, found.structured_content["result"], refused

    names, run, findings, refused = asyncio.run(drive())
    assert {"analyze", "get_run", "list_runs", "cancel_run", "list_findings"} <= set(names)
    assert run["status"] == "completed", run
    assert any(f["rule_id"] in ("S602", "B602") for f in findings)  # shell=True in sample/app.py
    assert refused.is_error
    assert "outside the allowed roots" in refused.content[0].text


def test_run_http_refuses_public_bind_without_token(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], conductor_home: Path
) -> None:
    from ai_conductor.cli._serve_http import run_http
    from ai_conductor.settings import reload_settings

    monkeypatch.delenv("CONDUCTOR_API_TOKEN", raising=False)
    reload_settings()
    assert run_http("0.0.0.0", 8080) == 2
    assert "CONDUCTOR_API_TOKEN" in capsys.readouterr().err


def test_llm_usage_and_active_runs_from_the_run_manager(settings: Settings) -> None:
    from types import SimpleNamespace

    from ai_conductor.monitoring.metrics import ConductorMetrics

    runs = [
        SimpleNamespace(status="completed", result={"tokens": 1200, "cost_usd": 0.25}),
        SimpleNamespace(status="running", result=None),
        SimpleNamespace(status="completed", result={"tasks": {"fix": {"tokens": 300}}}),
    ]

    class Runs:
        def list(self, limit: int = 50, status: str | None = None) -> list[Any]:
            return runs[:limit]

    text = ConductorMetrics(settings, Runs()).render().decode()
    values = {s.name: s.value for f in text_string_to_metric_families(text) for s in f.samples}
    assert values["conductor_llm_tokens_total"] == 1500
    assert values["conductor_llm_cost_usd_total"] == 0.25
    assert values["conductor_active_workflows"] == 1
