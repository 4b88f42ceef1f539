"""The MCP server through the official client: in process, and a real subprocess over stdio."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

import anyio
import pytest
from mcp import Client, StdioServerParameters

from ai_conductor.server.mcp_server import build_mcp_server
from ai_conductor.server.runs import RunManager
from ai_conductor.settings import get_settings

TOOLS = {"analyze", "run_workflow", "implement", "get_run", "list_runs", "cancel_run",
         "list_findings", "dismiss_finding", "search_context", "validate_spec"}  # fmt: skip


@pytest.fixture
def sample(tmp_path: Path) -> Path:
    repo = tmp_path / "repo"
    repo.mkdir()
    (repo / "app.py").write_text("def run(cmd):\n    return eval(cmd)\n")
    return repo


async def _drive(client: Client, repo: Path, outside: str) -> dict[str, Any]:
    names = {t.name for t in (await client.list_tools()).tools}
    assert names >= TOOLS
    started = await client.call_tool("analyze", {"codebase": str(repo)})
    assert not started.is_error, started.content
    run_id = started.structured_content["run_id"]
    for _ in range(600):
        got = await client.call_tool("get_run", {"run_id": run_id})
        if got.structured_content["status"] in ("completed", "failed", "cancelled"):
            break
        await anyio.sleep(0.1)
    assert got.structured_content["status"] == "completed", got.structured_content
    found = await client.call_tool("list_findings", {"run_id": run_id})
    findings = found.structured_content["result"]
    assert any(f["rule_id"] in ("S307", "B307") for f in findings)
    refused = await client.call_tool("analyze", {"codebase": outside})
    assert refused.is_error
    assert "outside the allowed roots" in refused.content[0].text
    missing = await client.call_tool("get_run", {"run_id": "f" * 32})
    assert missing.is_error
    return {"run_id": run_id, "findings": findings}


def test_in_process_client(conductor_home: Path, sample: Path, tmp_path: Path) -> None:
    settings = get_settings().model_copy(update={"allowed_roots": [tmp_path]})
    manager = RunManager(settings)
    server = build_mcp_server(manager, settings)

    async def main() -> None:
        async with Client(server) as client:
            out = await _drive(client, sample, "/etc")
            fp = out["findings"][0]["fingerprint"]
            dismissed = await client.call_tool(
                "dismiss_finding", {"fingerprint": fp[:12], "reason": "trusted input"}
            )
            assert dismissed.structured_content["fingerprint"] == fp
            ok = await client.call_tool("validate_spec", {"spec": {"workflow_id": "w",
                                        "tasks": [{"id": "a", "agent": "noop"}]}})  # fmt: skip
            assert ok.structured_content == {"ok": True, "workflow_id": "w", "tasks": ["a"],
                                             "problems": [], "warnings": []}  # fmt: skip
            bad = await client.call_tool("validate_spec", {"spec": {"tasks": [{"id": "a"}]}})
            assert bad.structured_content["ok"] is False
            listed = await client.call_tool("list_runs", {})
            assert [r["run_id"] for r in listed.structured_content["result"]] == [out["run_id"]]
            report = await client.read_resource(f"conductor://runs/{out['run_id']}/report")
            assert '"findings"' in report.contents[0].text  # type: ignore[union-attr]
            names = await client.read_resource("conductor://workflows")
            assert "audit" in names.contents[0].text  # type: ignore[union-attr]
            spec = await client.read_resource("conductor://workflows/audit")
            assert "tasks" in spec.contents[0].text  # type: ignore[union-attr]

    anyio.run(main)
    manager.shutdown()


def test_stdio_subprocess(tmp_path: Path, sample: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CONDUCTOR_", "PREFECT_API"))}
    env.update(CONDUCTOR_HOME=str(tmp_path / "home"), CONDUCTOR_ALLOWED_ROOTS=str(tmp_path))
    code = "from ai_conductor.cli._mcp import run_mcp_stdio; run_mcp_stdio()"
    params = StdioServerParameters(command=sys.executable, args=["-c", code], env=env,
                                   cwd=str(tmp_path))  # fmt: skip

    async def main() -> None:
        async with Client(params) as client:
            await _drive(client, sample, str(tmp_path.parent))

    anyio.run(main)


def test_building_the_server_leaves_library_info_logs_off(tmp_path: Path) -> None:
    """The SDK configures the root logger when the server is built: at INFO every run would
    print each Prefect client request (httpx) and migration step (alembic)."""
    import subprocess

    code = (
        "import logging\n"
        "from ai_conductor.server.mcp_server import build_mcp_server\n"
        "from ai_conductor.server.runs import RunManager\n"
        "from ai_conductor.settings import get_settings\n"
        "build_mcp_server(RunManager(get_settings(), use_deployments=False))\n"
        "print(logging.getLogger('httpx').getEffectiveLevel())\n"
    )
    env = {**os.environ, "CONDUCTOR_HOME": str(tmp_path / "home")}
    proc = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True,
                          text=True, timeout=120)  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert int(proc.stdout.split()[-1]) >= 30  # WARNING
