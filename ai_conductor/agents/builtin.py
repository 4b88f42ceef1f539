"""Built-in agents: ``noop`` (returns its inputs) and ``command`` (runs an argv, never a shell)."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import time
from collections.abc import Mapping
from typing import Any

from ai_conductor.errors import AgentCancelled, AgentTimeout, AgentUnavailable, CommandFailed
from ai_conductor.protocols import AgentOutput, TaskContext
from ai_conductor.spec import AgentConfig, TaskSpec

OUTPUT_LIMIT = 64_000
"""Characters of stdout/stderr kept in a command's result (the tail); the rest is dropped."""

POLL_SECONDS = 0.1
ORPHAN_GRACE_SECONDS = 2.0
"""After the command exits, how long children it left behind may keep its output pipes open."""


class NoopAgent:
    """Returns the task's inputs unchanged; for tests, benchmarks and wiring checks."""

    def __init__(self, config: AgentConfig) -> None:
        self.config = config

    def execute(self, task: TaskSpec, context: TaskContext) -> AgentOutput:
        return dict(task.inputs)


def _tail(text: str) -> str:
    return text if len(text) <= OUTPUT_LIMIT else text[-OUTPUT_LIMIT:]


class CommandAgent:
    """Runs ``inputs.command`` (an argv list) in the codebase directory, without a shell.

    Inputs: ``command`` (list of strings, required), ``env`` (mapping of extra environment
    variables). Output: ``exit_code``, ``stdout``, ``stderr`` (tails of at most 64k characters;
    nothing volatile, so an unchanged result lets dependents be reused). A non-zero exit fails
    the task; at the deadline, or when the run is cancelled, the whole process group is killed.
    """

    def __init__(self, config: AgentConfig) -> None:
        self.config = config

    @staticmethod
    def input_problems(inputs: Mapping[str, Any]) -> list[str]:
        command = inputs.get("command")
        problems = []
        if not isinstance(command, list) or not command:
            problems.append(
                "'command' must be a non-empty list of strings, e.g. [python, -m, pytest]; "
                "commands run without a shell"
            )
        elif not all(isinstance(part, str | int | float) for part in command):
            problems.append("every item of 'command' must be a string")
        env = inputs.get("env", {})
        if not isinstance(env, Mapping) or not all(isinstance(k, str) for k in env):
            problems.append("'env' must be a mapping of variable names to values")
        return problems

    def execute(self, task: TaskSpec, context: TaskContext) -> AgentOutput:
        problems = self.input_problems(task.inputs)
        if problems:
            raise AgentUnavailable(f"task {task.id!r}: {'; '.join(problems)}")
        argv = [str(part) for part in task.inputs["command"]]
        env = {**os.environ, **{k: str(v) for k, v in task.inputs.get("env", {}).items()}}
        if not context.codebase.is_dir():
            raise AgentUnavailable(
                f"task {task.id!r}: working directory {str(context.codebase)!r} is not a directory"
            )
        try:
            proc = subprocess.Popen(
                argv,
                cwd=context.codebase,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
                errors="replace",
                start_new_session=True,
            )
        except FileNotFoundError:
            raise AgentUnavailable(
                f"command not found: {argv[0]!r} (task {task.id!r}); install it or fix the path"
            ) from None
        except PermissionError:
            raise AgentUnavailable(f"command not executable: {argv[0]!r}") from None
        stdout, stderr = self._wait(proc, context, argv)
        stdout, stderr = _tail(stdout), _tail(stderr)
        if proc.returncode != 0:
            raise CommandFailed(
                f"{argv[0]} exited with status {proc.returncode}: {stderr[-500:].strip()}",
                exit_code=proc.returncode,
                stdout=stdout,
                stderr=stderr,
            )
        return {"exit_code": proc.returncode, "stdout": stdout, "stderr": stderr}

    @staticmethod
    def _wait(
        proc: subprocess.Popen[str], context: TaskContext, argv: list[str]
    ) -> tuple[str, str]:
        exited_at: float | None = None
        while True:
            remaining = context.remaining()
            step = POLL_SECONDS if remaining is None else min(POLL_SECONDS, remaining)
            try:
                out = proc.communicate(timeout=max(step, 0.001))
                _kill_group(proc)  # leftovers of the finished command's session
                return out
            except subprocess.TimeoutExpired:
                expired = context.remaining() == 0.0
                if proc.poll() is not None:  # exited, but a background child holds the pipes
                    exited_at = exited_at or time.monotonic()
                    if time.monotonic() - exited_at > ORPHAN_GRACE_SECONDS:
                        _kill_group(proc)
                        return proc.communicate()
                if not (expired or context.cancel.is_set()):
                    continue
            _kill_group(proc)
            proc.communicate()
            if expired:
                raise AgentTimeout(f"command {argv[0]!r} timed out and was killed")
            raise AgentCancelled(f"command {argv[0]!r} was killed because the run is stopping")


def _kill_group(proc: subprocess.Popen[str]) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGKILL)
