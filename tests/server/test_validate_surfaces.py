"""HTTP ``POST /workflows/validate`` and the MCP tool ``validate_spec`` check a spec the same way:
the same inputs accepted (objects, YAML or JSON text), the same problems and warnings (issue 17,
item 6: MCP used to refuse YAML text that HTTP accepted)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import anyio
import pytest
from fastapi.testclient import TestClient
from mcp import Client

from ai_conductor.server.http_api import create_app
from ai_conductor.server.mcp_server import build_mcp_server
from ai_conductor.server.runs import RunManager
from ai_conductor.settings import Settings

SPLIT_YAML = """\
workflow_id: w
tasks:
  - id: summary
    agent: noop
    inputs: {message: compiled, tested and analysed}
"""
SPECS: list[Any] = [
    {"workflow_id": "w", "tasks": [{"id": "a", "agent": "noop"}]},  # an object
    "workflow_id: w\ntasks:\n  - {id: a, agent: noop}\n",  # YAML text
    '{"workflow_id": "w", "tasks": [{"id": "a", "agent": "noop"}]}',  # JSON text
    SPLIT_YAML,  # valid, with a warning
    "workflow_id: w\ntasks:\n  - {id: a, agent: noop, dependencies: [a]}\n",  # a problem
    "workflow_id: [oops",  # a syntax error
    {"workflow_id": "w", "tasks": [{"id": "a", "agent": "tests.nowhere:Agent"}]},  # refused
]


def _via_mcp(settings: Settings, specs: list[Any]) -> list[dict[str, Any]]:
    manager = RunManager(settings)
    out: list[dict[str, Any]] = []

    async def main() -> None:
        async with Client(build_mcp_server(manager, settings)) as client:
            for spec in specs:
                reply = await client.call_tool("validate_spec", {"spec": spec})
                assert not reply.is_error, reply.content
                out.append(dict(reply.structured_content or {}))

    try:
        anyio.run(main)
    finally:
        manager.shutdown()
    return out


def test_http_and_mcp_give_the_same_answer_for_every_input(
    conductor_home: Path, tmp_path: Path
) -> None:
    settings = Settings(home=conductor_home, allowed_roots=[tmp_path])
    with TestClient(create_app(settings)) as http:
        over_http = [http.post("/workflows/validate", json={"spec": s}).json() for s in SPECS]
    over_mcp = _via_mcp(settings, SPECS)
    assert over_mcp == over_http
    ok_object, ok_yaml, ok_json, warned, cycle, syntax, refused = over_http
    for ok in (ok_object, ok_yaml, ok_json):
        assert ok == {"ok": True, "workflow_id": "w", "tasks": ["a"], "problems": [],
                      "warnings": []}  # fmt: skip
    assert warned["ok"] is True
    assert warned["tasks"] == ["summary"]
    [warning] = warned["warnings"]
    assert warning.startswith("<inline spec>:5:14: tasks[0].inputs.message: ")
    assert 'quote it: message: "compiled, tested and analysed"' in warning
    assert cycle["ok"] is False
    assert "<inline spec>:3:" in cycle["problems"][0]
    assert syntax["ok"] is False
    assert "YAML syntax error" in syntax["problems"][0]
    assert refused["ok"] is False
    assert "is an import path" in refused["problems"][0]


def test_mcp_validates_a_spec_file_inside_the_roots_with_its_warnings(
    conductor_home: Path, tmp_path: Path
) -> None:
    path = tmp_path / "split.yaml"
    path.write_text(SPLIT_YAML)
    settings = Settings(home=conductor_home, allowed_roots=[tmp_path])
    manager = RunManager(settings)

    async def main() -> dict[str, Any]:
        async with Client(build_mcp_server(manager, settings)) as client:
            reply = await client.call_tool("validate_spec", {"spec_path": str(path)})
            both = await client.call_tool("validate_spec", {"spec_path": str(path), "spec": {}})
            assert both.is_error
            assert "exactly one" in both.content[0].text
            return dict(reply.structured_content or {})

    try:
        result = anyio.run(main)
    finally:
        manager.shutdown()
    assert result["ok"] is True
    assert result["warnings"][0].startswith(f"{path}:5:14: tasks[0].inputs.message:")


@pytest.mark.parametrize("spec", ["", "   "])
def test_empty_text_is_a_problem_on_both(conductor_home: Path, tmp_path: Path, spec: str) -> None:
    settings = Settings(home=conductor_home, allowed_roots=[tmp_path])
    with TestClient(create_app(settings)) as http:
        over_http = http.post("/workflows/validate", json={"spec": spec}).json()
    assert over_http["ok"] is False
    assert "empty" in over_http["problems"][0]
    assert _via_mcp(settings, [spec]) == [over_http]
