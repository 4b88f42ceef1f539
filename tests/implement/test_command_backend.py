"""The ``command`` backend with real subprocesses, real git worktrees and the real gate.

The real agent CLIs (claude, cursor-agent, roo, aider, codex) need hosted models, unreachable
here. So each test first puts a small executable stand-in named like the real binary in a tmp
dir at the front of PATH: a Python script (shebang: this interpreter) that records the argv,
cwd and environment it received, then behaves like the tool would (edits a file in its cwd,
prints the tool's JSON result) or misbehaves (sleeps, exits 1, floods output, runs git).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path
from typing import Any

import pytest

from ai_conductor.analysis import analyze
from ai_conductor.analysis.models import Category, Finding, Severity
from ai_conductor.errors import (
    AgentError,
    AgentTimeout,
    AgentUnavailable,
    CommandFailed,
    UsageError,
)
from ai_conductor.implement import ImplementOptions, implement
from ai_conductor.implement.backends import load_backend
from ai_conductor.implement.backends.command import CommandBackend, build_prompt
from ai_conductor.implement.models import ChangeRequest
from ai_conductor.implement.workspace import Workspace
from ai_conductor.settings import get_settings
from ai_conductor.store import open_audit_log
from tests.implement.test_implement import CORE, GIT, calc_repo

pytestmark = pytest.mark.usefixtures("conductor_home")

FINDING = Finding(
    tool="bandit", rule_id="B307", rule_name="blacklist", severity=Severity.MEDIUM,
    category=Category.SECURITY, path="calc/core.py", line=5, end_line=5,
    message="Use of possibly insecure function - consider using safer ast.literal_eval.",
)  # fmt: skip
REQUEST = ChangeRequest(group="file:calc/core.py", findings=[FINDING], instructions="security")
CLAUDE_RESULT = {
    "type": "result", "subtype": "success", "is_error": False,
    "result": "Replaced eval() with int() in calc/core.py.",
    "total_cost_usd": 0.0421,
    "usage": {"input_tokens": 1200, "output_tokens": 300, "cache_creation_input_tokens": 50,
              "cache_read_input_tokens": 450},
}  # fmt: skip
FIX = """
core = pathlib.Path("calc/core.py")
core.write_text(core.read_text().replace("return eval(text)", "return int(text)"))
"""


@pytest.fixture
def agents(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A directory at the front of PATH for the stand-in agent binaries."""
    bin_dir = tmp_path / "agent-bin"
    bin_dir.mkdir()
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    return bin_dir


def standin(bin_dir: Path, name: str, body: str = "") -> Path:
    """An executable ``name`` that logs its call (argv, cwd, AGENT_MODE) and then runs ``body``."""
    script = bin_dir / name
    log = bin_dir / f"{name}.calls"
    script.write_text(
        f"#!{sys.executable}\nimport json, os, pathlib, subprocess, sys, time\n"
        f"with open({str(log)!r}, 'a') as log:\n"
        "    mode = os.environ.get('AGENT_MODE')\n"
        "    call = {'argv': sys.argv[1:], 'cwd': os.getcwd(), 'mode': mode}\n"
        "    log.write(json.dumps(call) + '\\n')\n" + textwrap.dedent(body)
    )  # fmt: skip
    script.chmod(0o755)
    return script


def calls(bin_dir: Path, name: str) -> list[dict[str, Any]]:
    log = bin_dir / f"{name}.calls"
    return [json.loads(line) for line in log.read_text().splitlines()] if log.exists() else []


def git(root: Path, *args: str) -> str:
    return subprocess.run([*GIT, *args], cwd=root, capture_output=True, text=True,
                          check=True).stdout  # fmt: skip


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    return calc_repo(tmp_path / "calc-repo")


@pytest.fixture
def workspace(repo: Path, tmp_path: Path) -> Path:
    """A real git worktree of ``repo`` on a new branch, as the implementer gives a backend."""
    return Workspace.create(repo, tmp_path / "worktrees", "command").path


PRESET_ARGV = {
    "claude": ["-p", "{prompt}", "--output-format", "json", "--permission-mode", "acceptEdits"],
    "cursor": ["-p", "--force", "--trust", "--output-format", "json", "{prompt}"],
    "roo": ["--print", "-y", "--ephemeral", "--output-format", "json", "{prompt}"],
    "aider": ["--message", "{prompt}", "--yes-always", "--no-auto-commits", "--no-dirty-commits",
              "--no-gitignore", "--no-check-update", "--no-show-model-warnings",
              "--no-suggest-shell-commands", "--no-pretty", "--map-tokens", "0",
              "--chat-history-file", os.devnull, "--input-history-file", os.devnull,
              "calc/core.py"],
    "codex": ["exec", "--sandbox", "workspace-write", "--color", "never", "{prompt}"],
}  # fmt: skip
BINARY = {"claude": "claude", "cursor": "cursor-agent", "roo": "roo", "aider": "aider",
          "codex": "codex"}  # fmt: skip


@pytest.mark.parametrize("preset", sorted(PRESET_ARGV))
def test_each_preset_runs_its_documented_headless_argv_in_the_worktree(
    preset: str, agents: Path, workspace: Path
) -> None:
    standin(agents, BINARY[preset], FIX + "print('fixed it')\n")
    backend = load_backend("command", {"preset": preset, "extra_args": ["--model", "m1"]})
    proposal = backend.propose(REQUEST, workspace, None)

    (call,) = calls(agents, BINARY[preset])
    assert Path(call["cwd"]).resolve() == workspace.resolve()
    prompt = build_prompt(REQUEST, None)
    expected = [prompt if a == "{prompt}" else a for a in PRESET_ARGV[preset]]
    assert call["argv"] == [*expected, "--model", "m1"]
    assert "calc/core.py:5" in prompt
    assert "B307" in prompt
    assert "Do not commit" in prompt
    assert proposal.edits == []
    assert proposal.summary == "fixed it"
    assert "return int(text)" in (workspace / "calc" / "core.py").read_text()


def test_a_missing_preset_binary_is_unavailable_and_says_how_to_install_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, workspace: Path
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path / "empty-bin"))
    backend = CommandBackend({"preset": "claude"})
    with pytest.raises(AgentUnavailable) as caught:
        backend.propose(REQUEST, workspace, None)
    assert "'claude'" in str(caught.value)
    assert "preset 'claude'" in str(caught.value)
    assert "npm install -g @anthropic-ai/claude-code" in str(caught.value)
    assert caught.value.retryable is False
    with pytest.raises(AgentUnavailable, match="cursor-agent"):
        CommandBackend({"preset": "cursor"}).propose(REQUEST, workspace, None)


def test_a_custom_argv_gets_the_prompt_files_extra_args_and_env(
    agents: Path, workspace: Path
) -> None:
    standin(agents, "my-agent", FIX + "print('log line'); print('patched calc/core.py')\n")
    backend = CommandBackend({
        "argv": ["my-agent", "run", "--task={prompt}", "{files}"],
        "extra_args": ["--fast"], "env": {"AGENT_MODE": "strict"},
    })  # fmt: skip
    feedback = "tests failed: test_parse expected 3"
    proposal = backend.propose(REQUEST, workspace, feedback)

    (call,) = calls(agents, "my-agent")
    assert call["argv"] == ["run", f"--task={build_prompt(REQUEST, feedback)}", "calc/core.py",
                            "--fast"]  # fmt: skip
    assert "previous attempt was rejected: tests failed: test_parse expected 3" in call["argv"][1]
    assert call["mode"] == "strict"
    assert proposal.summary.endswith("patched calc/core.py")
    assert "return int(text)" in (workspace / "calc" / "core.py").read_text()


def _alive(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"  # a zombie is dead, only not yet reaped


def test_a_timeout_kills_the_whole_process_group(agents: Path, workspace: Path) -> None:
    pid_file = agents / "child.pid"
    standin(agents, "claude", f"""
        child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(120)"])
        pathlib.Path({str(pid_file)!r}).write_text(str(child.pid))
        time.sleep(120)
    """)  # fmt: skip
    backend = CommandBackend({"preset": "claude", "timeout": 1.5})
    started = time.monotonic()
    with pytest.raises(AgentTimeout, match=r"claude ran longer than 1\.5s") as caught:
        backend.propose(REQUEST, workspace, None)
    assert time.monotonic() - started < 30
    assert caught.value.retryable is True
    child = int(pid_file.read_text())
    deadline = time.monotonic() + 10
    while _alive(child) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not _alive(child), "the agent's child survived the timeout"


def test_a_non_zero_exit_fails_with_the_tail_of_stderr(agents: Path, workspace: Path) -> None:
    standin(agents, "codex", """
        sys.stderr.write("warming up\\n" * 5000 + "error: quota exceeded for this key\\n")
        sys.exit(1)
    """)  # fmt: skip
    with pytest.raises(CommandFailed) as caught:
        CommandBackend({"preset": "codex"}).propose(REQUEST, workspace, None)
    assert caught.value.returncode == 1
    assert caught.value.retryable is True
    assert str(caught.value).endswith("error: quota exceeded for this key")
    assert "exited with status 1" in str(caught.value)
    assert len(str(caught.value)) < 1200


def test_huge_output_is_bounded(agents: Path, workspace: Path) -> None:
    flood = """
        chunk = "x" * 1023 + "\\n"
        for _ in range(5 * 1024):
            sys.stdout.write(chunk)
            sys.stderr.write(chunk)
        print("LAST-LINE")
        sys.stderr.write("ERR-LAST-LINE\\n")
    """
    standin(agents, "aider", flood)
    proposal = CommandBackend({"preset": "aider"}).propose(REQUEST, workspace, None)
    assert proposal.summary.endswith("LAST-LINE")
    assert len(proposal.summary) <= 1000

    standin(agents, "aider", flood + "sys.exit(2)\n")
    with pytest.raises(CommandFailed) as caught:
        CommandBackend({"preset": "aider", "max_output": 4000}).propose(REQUEST, workspace, None)
    assert len(caught.value.stdout) <= 4000
    assert len(caught.value.stderr) <= 4000
    assert caught.value.stdout.endswith("LAST-LINE\n")
    assert caught.value.stderr.endswith("ERR-LAST-LINE\n")


def test_claude_json_usage_and_cost_become_tokens_and_cost(agents: Path, workspace: Path) -> None:
    standin(agents, "claude", FIX + f"print(json.dumps({CLAUDE_RESULT!r}))\n")
    proposal = CommandBackend({"preset": "claude"}).propose(REQUEST, workspace, None)
    assert proposal.tokens == 2000
    assert proposal.cost_usd == pytest.approx(0.0421)
    assert proposal.summary == "Replaced eval() with int() in calc/core.py."


def test_cursor_and_roo_json_results_become_the_summary(agents: Path, workspace: Path) -> None:
    cursor = {"type": "result", "subtype": "success", "is_error": False, "result": "Done: int()."}
    standin(agents, "cursor-agent", f"print(json.dumps({cursor!r}))\n")
    assert CommandBackend({"preset": "cursor"}).propose(REQUEST, workspace, None).summary == (
        "Done: int()."
    )
    cost = {"totalCost": 0.01, "inputTokens": 70, "outputTokens": 30}
    roo = {"type": "result", "success": True, "content": "Fixed B307.", "cost": cost, "events": []}
    standin(agents, "roo", f"print(json.dumps({roo!r}))\n")
    proposal = CommandBackend({"preset": "roo"}).propose(REQUEST, workspace, None)
    assert (proposal.summary, proposal.tokens, proposal.cost_usd) == ("Fixed B307.", 100, 0.01)


def test_a_json_result_reporting_an_error_fails_the_attempt(agents: Path, workspace: Path) -> None:
    failed = {**CLAUDE_RESULT, "is_error": True, "result": "Credit balance is too low"}
    standin(agents, "claude", f"print(json.dumps({failed!r}))\n")
    with pytest.raises(AgentError, match="Credit balance is too low") as caught:
        CommandBackend({"preset": "claude"}).propose(REQUEST, workspace, None)
    assert getattr(caught.value, "tokens", 0) == 2000  # spent even though it failed: budgeted
    assert getattr(caught.value, "cost_usd", 0) == pytest.approx(0.0421)


def test_an_agent_failure_with_a_non_zero_exit_still_reports_what_it_spent(
    agents: Path, workspace: Path
) -> None:
    failed = {**CLAUDE_RESULT, "is_error": True, "result": "Credit balance is too low"}
    standin(agents, "claude", f"print(json.dumps({failed!r}))\nsys.exit(1)\n")
    with pytest.raises(CommandFailed) as caught:
        CommandBackend({"preset": "claude"}).propose(REQUEST, workspace, None)
    assert getattr(caught.value, "tokens", 0) == 2000
    assert getattr(caught.value, "cost_usd", 0) == pytest.approx(0.0421)


def test_non_finite_numbers_in_agent_json_count_as_nothing(agents: Path, workspace: Path) -> None:
    weird = '{"result": "done", "total_cost_usd": Infinity, "usage": {"input_tokens": NaN}}'
    standin(agents, "claude", f"print({weird!r})\n")
    proposal = CommandBackend({"preset": "claude"}).propose(REQUEST, workspace, None)
    assert (proposal.summary, proposal.tokens, proposal.cost_usd) == ("done", 0, 0.0)


def test_a_relative_argv0_runs_the_program_that_was_checked(
    tmp_path: Path, workspace: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    tools = tmp_path / "cwd" / "tools"
    tools.mkdir(parents=True)
    (tools / "agent").write_text(f"#!{sys.executable}\nprint('the checked program')\n")
    (tools / "agent").chmod(0o755)
    planted = workspace / "tools" / "agent"  # repository content must never be what runs
    planted.parent.mkdir(parents=True, exist_ok=True)
    planted.write_text(f"#!{sys.executable}\nprint('the worktree copy')\n")
    planted.chmod(0o755)
    monkeypatch.chdir(tmp_path / "cwd")
    proposal = CommandBackend({"argv": ["tools/agent", "{prompt}"]}).propose(
        REQUEST, workspace, None
    )
    assert proposal.summary == "the checked program"


def test_a_failed_run_still_reports_what_it_spent(agents: Path, workspace: Path) -> None:
    standin(agents, "claude", f"print(json.dumps({CLAUDE_RESULT!r}))\nsys.exit(2)\n")
    with pytest.raises(CommandFailed) as caught:
        CommandBackend({"preset": "claude"}).propose(REQUEST, workspace, None)
    assert getattr(caught.value, "tokens", 0) == 2000


@pytest.mark.parametrize(
    "script",
    [
        "subprocess.run(['git', 'commit', '-qam', 'agent commit', '--no-verify'], check=True)\n",
        "pathlib.Path('.git').write_text('gitdir: /tmp/elsewhere\\n')\n",
    ],
    ids=["commits", "rewrites-dot-git"],
)
def test_an_agent_touching_git_is_refused_and_not_retried(
    script: str, agents: Path, workspace: Path
) -> None:
    standin(agents, "aider", FIX + "os.environ.update(GIT_AUTHOR_NAME='a', GIT_AUTHOR_EMAIL="
            "'a@e', GIT_COMMITTER_NAME='a', GIT_COMMITTER_EMAIL='a@e')\n" + script)  # fmt: skip
    with pytest.raises(AgentError, match="git state") as caught:
        CommandBackend({"preset": "aider"}).propose(REQUEST, workspace, None)
    assert caught.value.retryable is False


@pytest.mark.parametrize(
    ("options", "problem"),
    [
        ({"preset": "claude", "model": "x"}, "model: Extra inputs are not permitted"),
        ({"preset": "claude", "argv": ["a", "{prompt}"]}, "exactly one of 'preset'"),
        ({}, "exactly one of 'preset'"),
        ({"argv": ["my-agent", "--task"]}, "needs a '{prompt}' element"),
        ({"preset": "gemini"}, "preset: Input should be 'claude'"),
        ({"preset": "claude", "timeout": 0}, "timeout: Input should be greater than 0"),
    ],
)
def test_bad_options_are_usage_errors(options: dict[str, Any], problem: str) -> None:
    with pytest.raises(UsageError, match="command backend: invalid backend_options") as caught:
        load_backend("command", options or None)
    assert problem in str(caught.value)


def status(root: Path) -> str:
    return git(root, "status", "--porcelain")


def attempt_log(run_id: str) -> list[tuple[str, str | None]]:
    rows = open_audit_log(get_settings()).query(run_id=run_id, action="attempt", limit=100)
    return [(r.status, r.error_message) for r in reversed(rows)]


GUARD = """
prompt = sys.argv[2]
if "calc/core.py:" not in prompt or "307" not in prompt:
    sys.exit("the prompt does not name the finding")
"""


def test_implement_keeps_a_correct_fix_made_by_the_agent(agents: Path, repo: Path) -> None:
    standin(agents, "claude", GUARD + FIX + f"print(json.dumps({CLAUDE_RESULT!r}))\n")
    analysis = analyze(repo)
    options = ImplementOptions(
        backend="command", backend_options={"preset": "claude"}, focus=["security"]
    )
    report = implement(analysis, repo, options)

    (change,) = report.changes
    assert change.status.value == "kept", change.attempts[-1].reason
    assert change.summary == "Replaced eval() with int() in calc/core.py."
    assert "+    return int(text)" in Path(change.patch or "").read_text()
    assert (report.tokens, report.cost_usd) == (2000, 0.0421)
    assert attempt_log(report.run_id) == [("kept", None)]
    assert status(repo) == ""
    assert (repo / "calc" / "core.py").read_text() == CORE
    assert len(calls(agents, "claude")) == 1


def test_implement_discards_a_fix_that_breaks_the_tests(agents: Path, repo: Path) -> None:
    breaking = FIX.replace("int(text)", "text")
    standin(agents, "claude", GUARD + breaking + f"print(json.dumps({CLAUDE_RESULT!r}))\n")
    analysis = analyze(repo)
    options = ImplementOptions(
        backend="command", backend_options={"preset": "claude"}, focus=["security"], attempts=2
    )
    report = implement(analysis, repo, options)

    (change,) = report.changes
    assert [a.status.value for a in change.attempts] == ["discarded", "discarded"]
    log = attempt_log(report.run_id)
    assert [row[0] for row in log] == ["discarded", "discarded"]
    assert "test" in (log[0][1] or "").lower()
    first, second = (call["argv"][1] for call in calls(agents, "claude"))
    assert "rejected" not in first
    assert f"previous attempt was rejected: {change.attempts[0].reason[:200]}" in second
    assert status(repo) == ""
    assert (repo / "calc" / "core.py").read_text() == CORE
