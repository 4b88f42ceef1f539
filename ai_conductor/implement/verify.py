"""The gate: a change is kept only when its targeted findings are gone, it introduces nothing at
or above medium in the files it touched, and the project's tests still pass.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import time
from collections import Counter
from collections.abc import Iterator, Sequence
from pathlib import Path

from ai_conductor.analysis.engine import scan
from ai_conductor.analysis.models import Finding, Severity
from ai_conductor.environment import EnvKind, ProjectEnvironment, gate_env
from ai_conductor.environment._proc import locked
from ai_conductor.implement.models import TestRun, Verification
from ai_conductor.settings import Settings

__all__ = ["gate_env", "run_tests", "verify"]

OUTPUT_TAIL = 4000


def explicit(command: list[str] | None) -> ProjectEnvironment:
    """An environment that runs ``command`` as given (None: no tests; []: tests disabled)."""
    kind = EnvKind.EXPLICIT if command is not None else EnvKind.NONE
    return ProjectEnvironment(kind=kind, reason="given", test_command=command)


@contextlib.contextmanager
def _exclusive(environment: ProjectEnvironment) -> Iterator[None]:
    if not environment.exclusive or not environment.location:
        yield
        return
    with locked(Path(f"{environment.location}.lock")):
        yield


def run_tests(
    path: Path, command: list[str], timeout: float, environment: ProjectEnvironment | None = None
) -> TestRun:
    """Run ``command`` in ``path`` inside ``environment`` (no shell, own process group, whole
    group killed on timeout; the conductor's secrets withheld)."""
    environment = environment or explicit(command)
    env = {**environment.environ(path, gate_env()), "PYTHONDONTWRITEBYTECODE": "1"}
    started = time.monotonic()
    with _exclusive(environment):
        try:
            proc = subprocess.Popen(
                command, cwd=path, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT, start_new_session=True,
            )  # fmt: skip
        except OSError as exc:
            return TestRun(command=command, output_tail=f"could not start {command[0]!r}: {exc}")
        out, timed_out = _wait(proc, timeout)
    text = out.decode("utf-8", "replace")[-OUTPUT_TAIL:]
    if timed_out:
        text += f"\n[timed out after {timeout:g}s; process group killed]"
    code = None if timed_out else proc.returncode
    return TestRun(
        command=command, exit_code=code, passed=code in (0, 5), timed_out=timed_out,
        duration_s=round(time.monotonic() - started, 3), output_tail=text,
        environment=environment.describe(),
    )  # fmt: skip


def _wait(proc: subprocess.Popen[bytes], timeout: float) -> tuple[bytes, bool]:
    try:
        out, _ = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        try:
            out, _ = proc.communicate(timeout=10)
        except subprocess.TimeoutExpired:  # a grandchild left the group and holds the pipe
            proc.kill()
            out = b""
        return out, True
    return out, False


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
    environment: ProjectEnvironment,
    test_timeout: float,
    tools: Sequence[str] | None = None,
    settings: Settings | None = None,
) -> Verification:
    """The gate's verdict on the workspace after a backend's attempt; the tests run in the
    project's ``environment``."""
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
    command = environment.test_command
    if not command:
        why = "tests disabled" if command == [] else "no test command found"
        reason = f"targeted findings gone, nothing new at or above medium, {why}"
        return Verification(passed=True, reason=reason)
    tests = run_tests(workspace_path, command, test_timeout, environment)
    where = environment.describe()
    if not tests.passed:
        what = (
            f"timed out after {test_timeout:g}s"
            if tests.timed_out
            else f"failed (exit {tests.exit_code})"
        )
        reason = f"tests {what}: {_show(command)} in {where}\n{tests.output_tail}"
        return Verification(passed=False, reason=reason, tests=tests)
    reason = (
        "targeted findings gone, nothing new at or above medium, "
        f"tests passed ({_show(command)}, {tests.duration_s:.1f}s, in {where})"
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
