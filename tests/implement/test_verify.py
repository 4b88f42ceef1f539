"""The gate: targeted findings gone, nothing new at or above medium, tests still passing."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from ai_conductor.analysis.engine import scan
from ai_conductor.analysis.models import Finding
from ai_conductor.environment import resolve_environment, uses_pytest
from ai_conductor.implement.models import Verification
from ai_conductor.implement.verify import explicit, run_tests, verify
from ai_conductor.implement.workspace import Workspace

TOOLS = ["ruff"]
APP = "def parse(expr):\n    return eval(expr)\n"
TOOL = "import os\n\n\ndef listing(name):\n    return os.system('ls ' + name)\n"
TEST = "from app import parse\n\n\ndef test_parse():\n    assert parse('[1, 2]') == [1, 2]\n"


@pytest.fixture
def project(tmp_path: Path, conductor_home: Path) -> Path:
    root = tmp_path / "project"
    (root / "tests").mkdir(parents=True)
    (root / "app.py").write_text(APP)
    (root / "tool.py").write_text(TOOL)
    (root / "conftest.py").write_text("")  # puts the root on sys.path for the tests
    (root / "tests" / "test_app.py").write_text(TEST)
    git = ["git", "-c", "user.name=t", "-c", "user.email=t@t", "-c", "commit.gpgsign=false"]
    for args in (["init", "-q"], ["add", "-A"], ["commit", "-q", "-m", "init"]):
        subprocess.run([*git, *args], cwd=root, check=True, capture_output=True)
    return root


@pytest.fixture
def workspace(project: Path, tmp_path: Path) -> Workspace:
    return Workspace.create(project, tmp_path / "ws", "gate")


def findings(project: Path) -> list[Finding]:
    return scan(project, tools=TOOLS).findings


def rule(found: list[Finding], rule_id: str, path: str) -> list[Finding]:
    return [f for f in found if f.rule_id == rule_id and f.path == path]


def gate(
    ws: Workspace,
    targeted: list[Finding],
    baseline: list[Finding],
    *,
    test_command: list[str] | None = None,
    test_timeout: float = 60.0,
) -> Verification:
    env = explicit(test_command) if test_command is not None else resolve_environment(ws.path)
    return verify(
        ws.path, ws.touched(), targeted, baseline,
        environment=env, test_timeout=test_timeout, tools=TOOLS,
    )  # fmt: skip


def test_fix_that_removes_the_finding_and_keeps_tests_green_passes(
    project: Path, workspace: Workspace
) -> None:
    baseline = findings(project)
    targeted = rule(baseline, "S307", "app.py")
    assert targeted
    (workspace.path / "app.py").write_text(APP.replace("eval(", "__import__('ast').literal_eval("))
    result = gate(workspace, targeted, baseline)
    assert result.passed, result.reason
    assert result.remaining == []
    assert result.tests is not None
    assert result.tests.passed
    assert "tests passed" in result.reason
    assert workspace.touched() == ["app.py"]  # running the tests left no __pycache__ behind


def test_change_that_breaks_tests_fails_with_their_output(
    project: Path, workspace: Workspace
) -> None:
    baseline = findings(project)
    targeted = rule(baseline, "S307", "app.py")
    (workspace.path / "app.py").write_text("def parse(expr):\n    return [expr]\n")
    result = gate(workspace, targeted, baseline)
    assert not result.passed
    assert result.reason.startswith("tests failed (exit 1)")
    assert "test_parse" in result.reason
    assert result.tests is not None
    assert "assert" in result.tests.output_tail


def test_change_that_introduces_eval_fails_listing_it(project: Path, workspace: Workspace) -> None:
    baseline = findings(project)
    targeted = rule(baseline, "S605", "tool.py")
    assert targeted
    (workspace.path / "tool.py").write_text("def listing(name):\n    return eval(name)\n")
    result = gate(workspace, targeted, baseline)
    assert not result.passed
    assert result.remaining == []
    assert [(f.rule_id, f.path) for f in result.introduced] == [("S307", "tool.py")]
    assert "tool.py:2 S307 (high)" in result.reason
    assert "app.py" not in result.reason  # the untouched, pre-existing eval is not blamed
    assert result.tests is None


def test_targeted_finding_still_present_and_nothing_touched(
    project: Path, workspace: Workspace
) -> None:
    baseline = findings(project)
    targeted = rule(baseline, "S307", "app.py")
    nothing = gate(workspace, targeted, baseline)
    assert not nothing.passed
    assert nothing.reason == "the backend changed nothing"
    (workspace.path / "app.py").write_text("# parse expressions\n" + APP)
    result = gate(workspace, targeted, baseline)
    assert not result.passed
    assert result.remaining == [targeted[0].fingerprint]
    assert "targeted findings still present: app.py:3 S307" in result.reason


def test_hanging_tests_time_out(project: Path, workspace: Workspace) -> None:
    baseline = findings(project)
    targeted = rule(baseline, "S307", "app.py")
    (workspace.path / "app.py").write_text("def parse(expr):\n    return expr\n")
    hang = [sys.executable, "-c", "import time; time.sleep(60)"]
    result = gate(workspace, targeted, baseline, test_command=hang, test_timeout=1)
    assert not result.passed
    assert result.tests is not None
    assert result.tests.timed_out
    assert result.tests.exit_code is None
    assert "timed out after 1s" in result.reason


def test_no_test_command_relies_on_the_analyzer(tmp_path: Path, conductor_home: Path) -> None:
    root = tmp_path / "plain"
    root.mkdir()
    (root / "app.py").write_text(APP)
    baseline = findings(root)
    ws = Workspace.create(root, tmp_path / "ws", "plain")
    (ws.path / "app.py").write_text("def parse(expr):\n    return expr\n")
    result = gate(ws, rule(baseline, "S307", "app.py"), baseline)
    assert result.passed
    assert result.reason.endswith("no test command found")
    assert result.tests is None


def test_run_tests_kills_the_whole_process_group(tmp_path: Path) -> None:
    code = "import subprocess, time; subprocess.Popen(['sleep', '60']); time.sleep(60)"
    run = run_tests(tmp_path, [sys.executable, "-c", code], timeout=1)
    assert run.timed_out
    assert not run.passed
    assert run.duration_s < 10  # the grandchild holding the pipe was killed too


@pytest.mark.parametrize(("code", "passed"), [(0, True), (5, True), (1, False), (2, False)])
def test_run_tests_exit_codes(tmp_path: Path, code: int, passed: bool) -> None:
    command = [sys.executable, "-c", f"print('x' * 5000); raise SystemExit({code})"]
    run = run_tests(tmp_path, command, timeout=30)
    assert (run.exit_code, run.passed, run.timed_out) == (code, passed, False)
    assert len(run.output_tail) == 4000


def test_run_tests_missing_program(tmp_path: Path) -> None:
    run = run_tests(tmp_path, ["definitely-not-a-program-xyz"], timeout=5)
    assert not run.passed
    assert "could not start" in run.output_tail


@pytest.mark.parametrize(
    ("files", "expected"),
    [
        ({}, False),
        ({"main.py": "print(1)\n"}, False),
        ({"pytest.ini": "[pytest]\n"}, True),
        ({"conftest.py": ""}, True),
        ({"pyproject.toml": "[tool.pytest.ini_options]\naddopts = '-q'\n"}, True),
        ({"pyproject.toml": "[project]\nname = 'x'\n"}, False),
        ({"setup.cfg": "[tool:pytest]\ntestpaths = tests\n"}, True),
        ({"setup.cfg": "[metadata]\nname = x\n"}, False),
        ({"tox.ini": "[pytest]\n"}, True),
        ({"tox.ini": "[tox]\nenvlist = py3\n"}, False),
        ({"tests/test_a.py": "def test_a(): pass\n"}, True),
        ({"test/unit/test_b.py": "def test_b(): pass\n"}, True),
        ({"tests/helpers.py": ""}, False),
    ],
)
def test_uses_pytest(tmp_path: Path, files: dict[str, str], expected: bool) -> None:
    for name, text in files.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text)
    assert uses_pytest(tmp_path) is expected
