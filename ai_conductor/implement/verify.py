"""The gate: a change is kept only when its targeted findings are gone, it introduces nothing at
or above medium in the files it touched, and the project's tests still pass.
"""

from __future__ import annotations

import configparser
import contextlib
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Sequence
from pathlib import Path

from ai_conductor.analysis.engine import scan
from ai_conductor.analysis.models import Finding, Severity
from ai_conductor.implement.models import TestRun, Verification
from ai_conductor.settings import Settings

OUTPUT_TAIL = 4000
PYTEST = [sys.executable, "-m", "pytest", "-q", "-x", "-p", "no:cacheprovider"]


def _ini_has(path: Path, section: str) -> bool:
    parser = configparser.ConfigParser(interpolation=None, strict=False)
    try:
        parser.read(path, encoding="utf-8")
    except (configparser.Error, UnicodeDecodeError):
        return False
    return parser.has_section(section)


def detect_test_command(path: Path) -> list[str] | None:
    """pytest when the project looks like it uses it, else None (the gate relies on analysis)."""
    if (path / "pytest.ini").is_file() or (path / "conftest.py").is_file():
        return list(PYTEST)
    pyproject = path / "pyproject.toml"
    if pyproject.is_file() and "[tool.pytest.ini_options]" in pyproject.read_text(errors="replace"):
        return list(PYTEST)
    if _ini_has(path / "setup.cfg", "tool:pytest") or _ini_has(path / "tox.ini", "pytest"):
        return list(PYTEST)
    for name in ("tests", "test"):
        if (path / name).is_dir() and any((path / name).rglob("test_*.py")):
            return list(PYTEST)
    return None


WITHHELD = ("OPENAI_API_KEY", "ANTHROPIC_API_KEY", "WEAVIATE_API_KEY", "AIRBYTE_API_KEY",
            "AIRBYTE_CLIENT_SECRET")  # fmt: skip
"""Secrets the conductor uses that the tests of a changed codebase never see."""


def gate_env() -> dict[str, str]:
    """The environment for the project's tests: the tests run code a model or agent wrote, so
    the conductor's own secrets (LLM keys, CONDUCTOR_* settings such as the database URL and the
    API token) are withheld; the project's own variables pass through."""
    return {
        k: v for k, v in os.environ.items() if k not in WITHHELD and not k.startswith("CONDUCTOR_")
    }


def run_tests(path: Path, command: list[str], timeout: float) -> TestRun:
    """Run ``command`` in ``path`` (no shell, own process group, whole group killed on timeout)."""
    env = {**gate_env(), "PYTHONDONTWRITEBYTECODE": "1"}  # keep the worktree's diff clean
    started = time.monotonic()
    try:
        proc = subprocess.Popen(
            command, cwd=path, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT, start_new_session=True,
        )  # fmt: skip
    except OSError as exc:
        return TestRun(command=command, output_tail=f"could not start {command[0]!r}: {exc}")
    timed_out = False
    try:
        out, _ = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        timed_out = True
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        try:
            out, _ = proc.communicate(timeout=10)
        except subprocess.TimeoutExpired:  # a grandchild left the group and holds the pipe
            proc.kill()
            out = b""
    text = out.decode("utf-8", "replace")[-OUTPUT_TAIL:]
    if timed_out:
        text += f"\n[timed out after {timeout:g}s; process group killed]"
    code = None if timed_out else proc.returncode
    return TestRun(
        command=command, exit_code=code, passed=code in (0, 5), timed_out=timed_out,
        duration_s=round(time.monotonic() - started, 3), output_tail=text,
    )  # fmt: skip


def _show(command: Sequence[str]) -> str:
    return " ".join([Path(command[0]).name, *command[1:]])


def _describe(f: Finding) -> str:
    return f"{f.path}:{f.line} {f.rule_id} ({f.severity.value}) {f.message}"


def verify(
    workspace_path: Path,
    touched: list[str],
    targeted: list[Finding],
    baseline: list[Finding],
    *,
    test_command: list[str] | None,
    test_timeout: float,
    tools: Sequence[str] | None = None,
    settings: Settings | None = None,
) -> Verification:
    """The gate's verdict on the workspace after a backend's attempt."""
    if not touched:
        return Verification(passed=False, reason="the backend changed nothing")
    found = scan(workspace_path, tools=tools, settings=settings).findings
    wanted = {f.fingerprint for f in targeted}
    remaining = [f for f in found if f.fingerprint in wanted]  # where they are now
    introduced = _introduced(found, set(touched), wanted, baseline)
    problems = []
    if remaining:
        problems.append(
            "targeted findings still present: " + "; ".join(_describe(f) for f in remaining)
        )
    if introduced:
        problems.append(
            "new findings at or above medium: " + "; ".join(_describe(f) for f in introduced)
        )
    fingerprints = list(dict.fromkeys(f.fingerprint for f in remaining))
    if problems:
        return Verification(
            passed=False, reason="\n".join(problems), remaining=fingerprints, introduced=introduced
        )
    command = test_command if test_command is not None else detect_test_command(workspace_path)
    if not command:
        why = "tests disabled" if command == [] else "no test command found"
        reason = f"targeted findings gone, nothing new at or above medium, {why}"
        return Verification(passed=True, reason=reason)
    tests = run_tests(workspace_path, command, test_timeout)
    if not tests.passed:
        what = (
            f"timed out after {test_timeout:g}s"
            if tests.timed_out
            else f"failed (exit {tests.exit_code})"
        )
        reason = f"tests {what}: {_show(command)}\n{tests.output_tail}"
        return Verification(passed=False, reason=reason, tests=tests)
    reason = (
        "targeted findings gone, nothing new at or above medium, "
        f"tests passed ({_show(command)}, {tests.duration_s:.1f}s)"
    )
    return Verification(passed=True, reason=reason, tests=tests)


def _introduced(
    found: list[Finding], changed: set[str], wanted: set[str], baseline: list[Finding]
) -> list[Finding]:
    """New findings at or above medium in the changed files.

    A rewritten line gives an existing finding a new fingerprint (a formatter joins lines, a
    fix touches a neighbour). Per (path, rule), as many unknown findings as there are vanished,
    *untargeted* baseline findings count as moved, not new; a targeted finding that "moves"
    is still new, so reshuffling the code a finding sits in never passes for a fix.
    """
    known = {f.fingerprint for f in baseline}
    spare = Counter(
        (f.path, f.rule_id) for f in baseline if f.path in changed and f.fingerprint not in wanted
    )
    spare.subtract((f.path, f.rule_id) for f in found if f.fingerprint in known - wanted)
    new = []
    for f in found:
        if f.path not in changed or f.fingerprint in known:
            continue
        if spare[(f.path, f.rule_id)] > 0:
            spare[(f.path, f.rule_id)] -= 1
        elif f.severity.rank >= Severity.MEDIUM.rank:
            new.append(f)
    return new
