"""The MCP client configurations in the README are valid JSON and start the real commands."""

from __future__ import annotations

import json
import re
import shlex
import subprocess

import pytest

from tests.conftest import BIN, REPO

README = (REPO / "README.md").read_text()
SECTION = README[README.index("## MCP server and HTTP API") :]
SECTION = SECTION[: SECTION.index("\n## ", 5)]
BLOCKS = re.findall(r"```json\n(.*?)```", SECTION, re.S)


def test_the_readme_has_the_four_client_configurations() -> None:
    for client in ("Cursor", ".cursor/mcp.json", "Roo Code", ".roo/mcp.json", "Claude Desktop",
                   "claude_desktop_config.json", "Claude Code"):  # fmt: skip
        assert client in SECTION
    assert len(BLOCKS) == 4


@pytest.mark.parametrize("block", BLOCKS, ids=["cursor", "roo", "claude-desktop", "claude-http"])
def test_each_configuration_is_valid_and_points_at_a_real_command(block: str) -> None:
    servers = json.loads(block)["mcpServers"]
    (server,) = servers.values()
    if server.get("type") == "http":
        assert server["url"].endswith("/mcp")
        assert server["headers"]["Authorization"].startswith("Bearer ")
        argv = ["conductor", "serve", "--http"]
    else:
        argv = [server["command"], *server["args"]]
        assert all(isinstance(v, str) for v in server.get("env", {}).values())
    assert argv[0] == "conductor"
    helped = subprocess.run([str(BIN / "conductor"), *argv[1:], "--help"],
                            capture_output=True, text=True)  # fmt: skip
    assert helped.returncode == 0, helped.stderr
    assert "Usage: conductor" in helped.stdout


def test_claude_code_one_liner_runs_conductor_mcp() -> None:
    line = re.search(r"`(claude mcp add [^`]+)`", SECTION)
    assert line is not None
    argv = shlex.split(line.group(1))
    assert argv[argv.index("--") + 1 :] == ["conductor", "mcp"]
